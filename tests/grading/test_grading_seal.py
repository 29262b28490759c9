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
        "cps-A, candidate c1, grade q01: the gradebook holds a manual score of 2 where exam-builder recorded none "
        "(changed outside exam-builder: in the formgrader or the database); to restore, empty the manual score "
        "(`manual_score` in the gradebook, the formgrader's score box)")
    assert ("holds extra credit of 1.5 where exam-builder recorded none (changed outside exam-builder: in the "
            "formgrader or the database); to restore, empty the extra credit (") in found[("c1", "q02")].message()
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


def test_the_message_names_the_field_that_differs_and_the_value_to_restore():
    """A manual score typed equal to the automatic one still changes the grade's record: the message
    names the manual score (never "holds 1 ... but exam-builder recorded 1") and how to put it back."""
    gb = {("c1", "q01"): (1.0, 1.0, None),  # the same number typed into the score box
          ("c1", "q02"): (None, 0.0, None),  # a rated written answer lowered
          ("c1", "q03"): (0.0, None, None)}  # the automatic score itself changed by SQL
    seals = {("c1", "q01"): sealed("c1", "q01", (1.0, None, None)),
             ("c1", "q02"): sealed("c1", "q02", (None, 2.5, None)),
             ("c1", "q03"): sealed("c1", "q03", (1.0, None, None))}
    found = {t.grade_id: t.message() for t in differences(KEY, A, gb, seals)}
    assert "holds a manual score of 1 where exam-builder recorded none" in found["q01"]
    assert ("to restore, empty the manual score (`manual_score` in the gradebook, the formgrader's score "
            "box)") in found["q01"]
    assert "recorded 1 (" not in found["q01"] and "typed over" not in found["q01"]
    assert "holds a manual score of 0 where exam-builder recorded 2.5" in found["q02"]
    assert "to restore, set the manual score back to 2.5 (" in found["q02"]
    assert "holds an automatic score of 0 where exam-builder recorded 1" in found["q03"]
    assert "set the automatic score back to 1 (`auto_score` in the gradebook)" in found["q03"]
