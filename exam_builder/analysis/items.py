"""Item analysis per form (``exam-builder item-analysis``, the builder's past facilities): facility,
discrimination, and reliability (KR-20 / coefficient alpha).

From the gradebook's score matrix (``records.queries.gradebook.select_score_matrix``) of every
candidate whose sitting is fully scored (pending scores are left out, never read as 0). The
numbers come from the one psychometrics engine, ``analysis.psychometrics`` (the program
report's): facility is the mean share of an item's points earned; discrimination is the
correlation of the item with the rest of the form (the total without the item, so an item does
not correlate with itself), from 3 candidates on (the report waits for ``MIN_N``); reliability is
Cronbach's alpha, which is KR-20 when every item is scored right or wrong. This module shapes
them into the command's tables and CSV and pools facilities for the builder.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pandas as pd
from rich.table import Table

from ..assembly.forms import require_forms
from ..kinds import kind_for
from ..model.manifest import grade_ids
from ..records.queries import sittings as sittings_q
from . import psychometrics as pm


@dataclass
class ItemStat:
    number: int
    item_id: str
    kind: str
    competency: str
    points: float
    n: int
    facility: float | None
    discrimination: float | None


@dataclass
class FormStats:
    assignment: str
    n: int  # fully scored candidates
    mean: float | None
    sd: float | None
    reliability: float | None
    dichotomous: bool
    items: list[ItemStat] = field(default_factory=list)

    @property
    def reliability_name(self) -> str:
        return "KR-20" if self.dichotomous else "alpha"


def form_stats(assignment: str, items, matrix: list[list[float]]) -> FormStats:
    """Statistics of one form from a candidates x items score matrix (no missing values)."""
    k = len(items)
    scores = pd.DataFrame(matrix, columns=range(k), dtype=float) if matrix else pd.DataFrame(columns=range(k),
                                                                                                dtype=float)
    points = pd.Series([float(it.points) for it in items], index=range(k), dtype=float)
    dich = all(kind_for(it.kind).dichotomous(getattr(it, "scoring", None)) for it in items)
    summary = pm.form_summary(scores, points)
    stats = FormStats(assignment, summary.n, summary.mean, summary.sd, summary.alpha, dich)
    table = pm.item_stats(scores, points, min_n=0)
    for it, row in zip(items, table.itertuples(index=False), strict=True):
        stats.items.append(ItemStat(it.number, it.item_id, it.kind.value, it.competency, it.points, summary.n,
                                    _plain(row.facility), _plain(row.discrimination)))
    return stats


def _plain(v) -> float | None:
    """A table's figure as a plain float, None where the engine has none (NaN in a frame)."""
    return None if v is None or pd.isna(v) else float(v)


def analyse(course, exam: str) -> list[FormStats]:
    """Every form's statistics from its fully scored candidates."""
    from ..records.queries.gradebook import select_score_matrix  # imports nbgrader: only when reading

    out = []
    with course.db.read() as s:
        for form, manifest in require_forms(s, exam):
            scores = select_score_matrix(s.connection(), form.assignment)
            cands = sittings_q.select_submitted_candidates_of_form(s, form.id)
            cells = [grade_ids(e.number)["grade"] for e in manifest.items]
            matrix = [[v for v in row if v is not None] for row in scores.matrix(cands, cells)
                      if all(v is not None for v in row)]
            out.append(form_stats(form.assignment, manifest.items, matrix))
    return out


def _f(v: float | None, fmt: str = "{:.2f}") -> str:
    return "" if v is None else fmt.format(v)


def analysis_tables(reports: list[FormStats]) -> list[Table]:
    tables = []
    for r in reports:
        t = Table(title=f"{r.assignment}: {r.n} fully scored candidate(s), mean {_f(r.mean, '{:.1f}')}, "
                        f"{r.reliability_name} {_f(r.reliability)}")
        for col in ("#", "item", "kind", "facility", "discrimination"):
            t.add_column(col, justify="right" if col in ("#", "facility", "discrimination") else "left")
        for it in r.items:
            low = it.discrimination is not None and it.discrimination < 0.1
            t.add_row(str(it.number), it.item_id, it.kind, _f(it.facility),
                      f"[yellow]{_f(it.discrimination)}[/]" if low else _f(it.discrimination))
        tables.append(t)
    return tables


def analysis_csv(reports: list[FormStats]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["form", "number", "item", "kind", "competency", "points", "n", "facility", "discrimination",
                "form_reliability", "reliability_kind"])
    for r in reports:
        for it in r.items:
            w.writerow([r.assignment, it.number, it.item_id, it.kind, it.competency, f"{it.points:g}", it.n,
                        _f(it.facility, "{:.4f}"), _f(it.discrimination, "{:.4f}"), _f(r.reliability, "{:.4f}"),
                        r.reliability_name])
    return buf.getvalue()


#: Fewer scored responses than this and an item's facility is too noisy to replace the author's estimate.
MIN_RESPONSES_FOR_STATS = 30


def pooled_facility(reports: list[FormStats], min_n: int = MIN_RESPONSES_FOR_STATS) -> dict[str, float]:
    """Facility per item id, pooled over every form it appeared on (weighted by candidates).

    This is what the builder balances forms on once an item has been sat often enough: the
    observed share of points earned replaces the author's difficulty estimate.
    """
    earned: dict[str, float] = {}
    seen: dict[str, int] = {}
    for r in reports:
        for it in r.items:
            if it.facility is None or not it.n:
                continue
            earned[it.item_id] = earned.get(it.item_id, 0.0) + it.facility * it.n
            seen[it.item_id] = seen.get(it.item_id, 0) + it.n
    return {i: earned[i] / seen[i] for i in sorted(seen) if seen[i] >= min_n}


def past_item_stats(course, exam: str, min_n: int = MIN_RESPONSES_FOR_STATS) -> dict[str, float]:
    """Facility of the exam's items from past, fully scored sittings (empty before any)."""
    with course.db.read() as s:
        if not sittings_q.select_any_submitted(s, exam):
            return {}
    return pooled_facility(analyse(course, exam), min_n)
