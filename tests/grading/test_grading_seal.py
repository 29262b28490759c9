"""The gradebook's seals, worked by hand: what ``seal.differences`` names, and what it never names."""
from __future__ import annotations

from exam_builder.grading.seal import Tampered, differences, mac, seal_key

KEY = seal_key(b"s" * 32)
A = "cps-A"


def sealed(cand: str, grade: str, values):
    return (values, mac(KEY, A, cand, grade, values))


def test_equal_values_and_nbgrader_empty_rows_are_not_named():
    gb = {("c1", "q01"): (1.0, None, None), ("c1", "q02"): (None, 3.0, None), ("c1", "task"): (None, None, None)}
    seals = {("c1", "q01"): sealed("c1", "q01", (1.0, None, None)),
             ("c1", "q02"): sealed("c1", "q02", (None, 3.0000000001, None))}  # float noise is not a change
    assert differences(KEY, A, gb, seals) == []


def test_each_way_a_score_can_change_is_named_with_both_values():
    gb = {("c1", "q01"): (1.0, 2.0, None),  # typed over the automatic score
          ("c1", "q02"): (None, 3.0, 1.5),  # extra credit added
          ("c2", "q01"): (0.0, None, None),  # a grade exam-builder never wrote
          ("c3", "q01"): (1.0, None, None)}  # a seal changed without the key
    seals = {("c1", "q01"): sealed("c1", "q01", (1.0, None, None)),
             ("c1", "q02"): sealed("c1", "q02", (None, 3.0, None)),
             ("c3", "q01"): ((0.0, None, None), "0" * 64),
             ("c4", "q01"): sealed("c4", "q01", (1.0, None, None))}  # the grade was deleted
    found = {(t.candidate_id, t.grade_id): t for t in differences(KEY, A, gb, seals)}
    assert set(found) == {("c1", "q01"), ("c1", "q02"), ("c2", "q01"), ("c3", "q01"), ("c4", "q01")}
    assert found[("c1", "q01")].message() == (
        "cps-A, candidate c1, grade q01: the gradebook holds 2 (typed over the automatic 1), but exam-builder "
        "recorded 1 (changed outside exam-builder: in the formgrader or the database)")
    assert "holds 3 plus 1.5 extra credit, but exam-builder recorded 3 " in found[("c1", "q02")].message()
    assert "holds 0, which exam-builder never wrote" in found[("c2", "q01")].message()
    assert found[("c3", "q01")].broken and "does not verify" in found[("c3", "q01")].message()
    assert found[("c4", "q01")] == Tampered(A, "c4", "q01", None, (1.0, None, None))
    assert "holds nothing" in found[("c4", "q01")].message()


def test_a_seal_is_bound_to_its_assignment_candidate_and_grade():
    values = (1.0, None, None)
    tag = mac(KEY, A, "c1", "q01", values)
    assert tag != mac(KEY, "cps-B", "c1", "q01", values) != mac(KEY, A, "c2", "q01", values)
    assert tag != mac(seal_key(b"t" * 32), A, "c1", "q01", values)
    moved = {("c2", "q01"): (values, tag)}  # a valid seal copied onto another candidate's grade
    assert differences(KEY, A, {("c2", "q01"): values}, moved)[0].broken
