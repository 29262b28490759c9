"""The nbgrader round trip: a released form, filled in as delivery does, graded by stock autograde."""
from __future__ import annotations

import html

import nbformat
import pytest

from exam_builder.assembly.release import nbgrader_api, released_notebook
from exam_builder.kinds import keyed_entries, kind_for
from exam_builder.model.item import LABELS

pytestmark = pytest.mark.slow


def fill(course, manifest, student: str, answer) -> dict[str, float | None]:
    """Write a submission the way the Submission contract says; return the points expected per cell."""
    nb = nbformat.read(str(released_notebook(course, manifest.assignment)), as_version=4)
    by_number = {e.number: e for e in manifest.items}
    expected: dict[str, float | None] = {}
    for cell in nb.cells:
        meta = cell.metadata.get("exam_builder", {})
        if meta.get("role") != "answer":
            continue
        e = by_number[meta["number"]]
        if not kind_for(e.kind).rated:
            label = answer(e)
            cell.source = f"{e.variable} = None" if label is None else f'{e.variable} = "{label}"'
            expected[e.grade_id] = e.points if label == e.key else 0.0
        else:
            cell.source = html.escape("I would listen first, then ask what <they> want & need.")
            expected[e.grade_id] = None  # rated by graders, not by autograde
    folder = course.submitted_dir / student / manifest.assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{manifest.assignment}.ipynb"))
    (folder / "timestamp.txt").write_text("2025-05-14 13:05:00.000000 UTC")
    return expected


def grades(course, assignment: str, student: str) -> dict[str, tuple[float | None, float, bool]]:
    gb = course.db.gradebook()
    try:
        sub = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.auto_score, g.max_score, g.needs_manual_grade) for g in sub.grades}
    finally:
        gb.close()


def test_stock_autograde_gives_the_expected_points(built_course):
    course, result = built_course
    form_a, form_b = (o.manifest for o in result.outcomes)

    def mixed(e):  # right, wrong, unanswered in turn
        wrong = next(x for x in LABELS[: len(e.option_order)] if x != e.key)
        return [None, e.key, wrong][e.number % 3]

    cases = [(form_a, "cand-mixed", mixed), (form_b, "cand-right", lambda e: e.key)]
    api = nbgrader_api(course)
    for manifest, student, answer in cases:
        expected = fill(course, manifest, student, answer)
        outcome = api.autograde(manifest.assignment, student, force=True, create=True)
        assert outcome["success"], outcome.get("error") or outcome.get("log")
        got = grades(course, manifest.assignment, student)
        assert set(got) == set(expected)
        for gid, points in expected.items():
            auto, max_score, manual = got[gid]
            e = next(x for x in manifest.items if x.grade_id == gid)
            assert max_score == e.points
            if points is None:
                assert manual and auto is None, gid
            else:
                assert auto == points, (student, gid, auto, points)
    mixed_expected = {e.grade_id: e.points for e in keyed_entries(form_a) if e.number % 3 == 1}
    got = grades(course, form_a.assignment, "cand-mixed")
    assert sum(a or 0 for a, _, _ in got.values()) == sum(mixed_expected.values()) > 0
    got = grades(course, form_b.assignment, "cand-right")
    assert sum(a or 0 for a, _, _ in got.values()) == sum(e.points for e in keyed_entries(form_b))


MS_BLUEPRINT = """\
title: Synthetic exam with multiple select
forms: 1
seed: 11
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, multiple_select: 1}
counts:
  peer-support: {multiple_choice: 1, multiple_select: 3}
  in-but-not-of: {multiple_select: 3}
  change-agent: {true_false: 1, multiple_select: 2}
"""


def ms_variants(e) -> list[str | None]:
    """All right, partial (a key missing; a wrong pick too), all wrong, empty, and invalid answers."""
    labels = list(LABELS[: len(e.option_order)])
    keys = e.key.split(",")
    wrong = [lab for lab in labels if lab not in keys]
    return [e.key, keys[0], ",".join(sorted(keys + wrong[:1])), ",".join(wrong), None,
            ",".join(reversed(keys)), f"{keys[0]},Z", ",".join(labels)]


def test_stock_autograde_gives_multiple_select_points_as_the_kind_scores(course_factory_with):
    """Every kind of multiple-select answer, graded by stock nbgrader autograde and by ``kinds``."""
    from rich.console import Console

    from exam_builder.assembly.build import build
    from exam_builder.kinds import kind_for

    course = course_factory_with(n_items=150, blueprint=MS_BLUEPRINT, ms_share=0.3)
    try:
        (manifest,) = (o.manifest for o in build(course, "syn", console=Console(quiet=True), actor="t").outcomes)
        ms = [e for e in manifest.items if e.kind.value == "multiple_select"]
        assert len(ms) == 8 and {e.scoring for e in ms} == {"all-or-nothing", "partial"}
        api = nbgrader_api(course)
        for shift, student in enumerate(["ms-one", "ms-two"]):
            cells: dict[str, str] = {}

            def answer(e, shift=shift, cells=cells):
                if e.kind.value != "multiple_select":
                    return e.key
                value = ms_variants(e)[(ms.index(e) + 4 * shift) % 8]
                cells[e.grade_id] = f"{e.variable} = None" if value is None else f'{e.variable} = "{value}"'
                return value

            fill(course, manifest, student, answer)
            outcome = api.autograde(manifest.assignment, student, force=True, create=True)
            assert outcome["success"], outcome.get("error") or outcome.get("log")
            got = grades(course, manifest.assignment, student)
            for e in ms:
                kind = kind_for(e.kind)
                labels = tuple(LABELS[: len(e.option_order)])
                read = kind.read_answer(cells[e.grade_id], kind.answer_pattern(e.variable), labels, e.number)
                ours = kind.score(read.answer, e.key, e.points, e.scoring)
                assert got[e.grade_id][0] == ours, (student, e.number, e.scoring, cells[e.grade_id], got[e.grade_id],
                                                    ours)
    finally:
        course.db.dispose()


SA_BLUEPRINT = """\
title: Synthetic exam with short answer
forms: 1
seed: 11
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, short_answer: 1}
counts:
  peer-support: {multiple_choice: 1, short_answer: 3}
  in-but-not-of: {short_answer: 3}
  change-agent: {true_false: 1, short_answer: 2}
"""


def sa_variants(e) -> list[str | None]:
    """Right as written and as normalisation allows, near misses, junk-looking text, and none."""
    import json

    rule = json.loads(e.key)
    if "accept" in rule:
        a = rule["accept"][0]
        return [a, f"  {a.upper()}. ", a.replace(" ", "  "), a[:-1], f"{a} x", 'it\'s "quoted"\n', "", None]
    n, tol = rule["number"], rule["tolerance"]
    return [f"{n:g}", f"{n + tol:g}", f"{n - tol:g}.", f"{n + tol + 0.01:g}", f"{n:g} units", f"{n:e}", "nan", None]


def test_stock_autograde_gives_short_answer_points_as_the_kind_scores(course_factory_with):
    """Typed answers written as collect writes them, graded by stock nbgrader autograde and by ``kinds``."""
    from rich.console import Console

    from exam_builder.assembly.build import build

    course = course_factory_with(n_items=150, blueprint=SA_BLUEPRINT, sa_share=0.3)
    try:
        (manifest,) = (o.manifest for o in build(course, "syn", console=Console(quiet=True), actor="t").outcomes)
        sa = [e for e in manifest.items if e.kind.value == "short_answer"]
        assert len(sa) == 8 and {"accept" in e.key for e in sa} == {True, False}
        api = nbgrader_api(course)
        for shift, student in enumerate(["sa-one", "sa-two"]):
            nb = nbformat.read(str(released_notebook(course, manifest.assignment)), as_version=4)
            by_number = {e.number: e for e in manifest.items}
            cells: dict[str, str] = {}
            for cell in nb.cells:
                meta = cell.metadata.get("exam_builder", {})
                if meta.get("role") != "answer":
                    continue
                e = by_number[meta["number"]]
                kind = kind_for(e.kind)
                if e.kind.value == "short_answer":
                    value = sa_variants(e)[(sa.index(e) + 4 * shift) % 8]
                else:
                    value = e.key
                cell.source = f"{e.variable} = None" if value is None else kind.answer_source(e.variable, value)
                cells[e.grade_id] = cell.source
            folder = course.submitted_dir / student / manifest.assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(folder / f"{manifest.assignment}.ipynb"))
            (folder / "timestamp.txt").write_text("2025-05-14 13:05:00.000000 UTC")
            outcome = api.autograde(manifest.assignment, student, force=True, create=True)
            assert outcome["success"], outcome.get("error") or outcome.get("log")
            got = grades(course, manifest.assignment, student)
            scored = []
            for e in sa:
                kind = kind_for(e.kind)
                read = kind.read_answer(cells[e.grade_id], kind.answer_pattern(e.variable), (), e.number)
                ours = kind.score(read.answer, e.key, e.points, e.scoring)
                assert got[e.grade_id][0] == ours, (student, e.number, cells[e.grade_id], got[e.grade_id], ours)
                scored.append(ours)
            assert 0 < sum(scored) < len(sa)  # both outcomes were seen
    finally:
        course.db.dispose()
