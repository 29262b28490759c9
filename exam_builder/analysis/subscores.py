"""How precisely each form measures each competency: the evidence a candidate's score report needs before it
shows a competency subscore (``grading.score_report.SubscorePrecision``).

From the gradebook's score matrix of the form's fully scored candidates (pending scores left out), coefficient
alpha of each competency's items (``psychometrics.subscore_reliability``), against
``c.ReportSettings.subscore_min_reliability``. The caller (``exam-builder feedback``, the demo) passes the
result to ``grading.results.write_feedback``; grading never reads analysis itself (the layers).
"""
from __future__ import annotations

import pandas as pd

from ..assembly.forms import require_forms
from ..grading.score_report import SubscorePrecision
from ..model.manifest import grade_ids
from ..records.queries import sittings as sittings_q
from . import psychometrics as pm


def subscore_precision(course, exam: str) -> dict[str, dict[str, SubscorePrecision]]:
    """assignment -> competency -> the subscore's reliability on that form and whether it may be shown."""
    from ..records.queries.gradebook import select_score_matrix  # imports nbgrader: only when reading

    th = pm.Thresholds.from_settings(course.report_settings)
    out: dict[str, dict[str, SubscorePrecision]] = {}
    with course.db.read() as s:
        for form, manifest in require_forms(s, exam):
            matrix = select_score_matrix(s.connection(), form.assignment)
            cands = sittings_q.select_submitted_candidates_of_form(s, form.id)
            numbers = [e.number for e in manifest.items]
            rows = [row for row in matrix.matrix(cands, [grade_ids(n)["grade"] for n in numbers])
                    if all(v is not None for v in row)]
            scores = pd.DataFrame(rows, columns=numbers, dtype=float)
            points = pd.Series({e.number: float(e.points) for e in manifest.items}, dtype=float)
            comps = {e.number: e.competency for e in manifest.items}
            out[form.assignment] = {
                comp: SubscorePrecision(alpha, n, k, th.subscore_min_reliability)
                for comp, (alpha, n, k) in pm.subscore_reliability(scores, points, comps, th.min_publish).items()}
    return out
