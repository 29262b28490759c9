"""A standard-setting study's impact data, read from past sittings: each form's candidates' final totals and
each item's facility (the share of its points candidates earned, with the number of responses).

``standard`` (layer 3) does not grade: its callers (``exam-builder standard show`` and ``report``, the
panelist's screen from round 2 on) read the impact data here and hand them to the study's numbers. Only final,
untampered results count (``grading.results``); an item shared by several forms pools its responses.
"""
from __future__ import annotations

from ..assembly.forms import load_forms
from ..course import Course
from ..grading.results import compute_results
from ..model.manifest import Manifest, grade_ids
from ..records.queries.gradebook import select_score_matrix

#: Each item's facility: (the share of its points candidates earned, the number of responses).
Facility = dict[str, tuple[float, int]]


def standard_impact(course: Course, exam: str) -> tuple[list[Manifest], dict[str, list[float]], Facility]:
    """The exam's forms, past candidates' final totals per form (assignment) and each item's facility
    (share of points, n)."""
    with course.db.read() as s:
        forms = load_forms(s, exam)
    if not forms:
        return [], {}, {}
    results = [r for r in compute_results(course, exam) if r.final and not r.tampered]
    scores: dict[str, list[float]] = {}
    for r in results:
        if r.total.score is not None:  # a final result has its total
            scores.setdefault(r.assignment, []).append(r.total.score)
    earned: dict[str, list[float]] = {}
    with course.db.read() as s:
        conn = s.connection()
        for _f, m in forms:
            who = [r.candidate_id for r in results if r.assignment == m.assignment]
            if not who:
                continue
            got = select_score_matrix(conn, m.assignment)
            for e in m.items:
                for cand in who:
                    v = got.get(cand, grade_ids(e.number)["grade"])
                    if v is not None:
                        earned.setdefault(e.item_id, []).append(v / e.points)
    facility = {i: (sum(v) / len(v), len(v)) for i, v in earned.items()}
    return [m for _f, m in forms], scores, facility


def facility(course: Course, exam: str) -> Facility:
    """Each item's facility from past candidates (share of its points earned, n): what round 2 on shows."""
    return standard_impact(course, exam)[2]
