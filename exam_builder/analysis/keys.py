"""Key validation lines: per objective item and form, what the coordinator reads before results.

Each line (``validation_lines``) gives, from the exam's submitted and objectively scored sittings
of one form: ``facility`` (the mean share of the item's points earned) and ``discrimination``
(the corrected point-biserial: Pearson r of the item's points with the objective total without
the item), both from ``analysis.psychometrics.item_stats``, on the objective items only (written
answers may not be rated yet; a key is validated on what the key scores); the answer the strong
candidates chose (``strong_choice``: the top ``RecourseSettings.strong_group_share`` of candidates
by objective total, at least one, ties at the border broken by sitting; the distractor most of
them chose, with its share and the key's share in that group); the candidates' comments on the
item on this form, blind (``grading.keys.comments_by_item``: a form's comment names that form's answer labels,
so it stays on its own form's line); and flags past the thresholds of
``RecourseSettings``: facility below ``facility_below``, discrimination below
``discrimination_below``, a distractor the strong group chose at least as often as the key (each
value written with the decimals that show its comparison: ``numbers.against``). The decision in force
or waiting (``grading.keys``) is on the line too, and beside the flag it answered: "decided: decision 3
accepts A" when the strong group's answer was accepted as well.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .. import clock
from ..assembly.forms import require_forms
from ..grading.adjust import Adjustment, also_keys, in_force
from ..grading.keys import ACTION_TEXT, comments_by_item, decisions
from ..kinds import keyed_entries
from ..model.states import KeyAction
from ..numbers import against
from ..records.queries import recourse as recourse_q, sittings as sittings_q
from ..records.queries.gradebook import select_score_matrix
from ..records.queries.responses import select_latest_responses
from . import psychometrics as pm


@dataclass
class ValidationLine:
    form: str  # the form's label
    assignment: str
    number: int
    item_id: str
    key: str
    n: int
    facility: float | None
    discrimination: float | None
    strong_n: int
    strong_choice: str | None  # the distractor most chosen by the strong group (this form's label)
    strong_choice_share: float | None
    strong_key_share: float | None
    comments: list[tuple[str, str]] = field(default_factory=list)  # (form label, text): this form's only
    flags: list[str] = field(default_factory=list)
    decision: str = ""  # the decision in force or waiting, in words
    scores_alike: bool = False  # every candidate scored the item alike (so no discrimination can be computed)

    def discrimination_text(self, shown: str | None = None) -> str:
        """The discrimination as a line shows it (``shown``: the number as the caller writes it), or, when there is
        none, why in words: a blank cell would read as a missing figure."""
        if self.discrimination is not None:
            return shown if shown is not None else f"{self.discrimination:.2f}"
        if self.n < 3:
            return f"none: too few candidates (n = {self.n})"
        if self.scores_alike and self.facility is not None:
            return ("none: every candidate got it right" if self.facility >= 1 - 1e-9 else
                    "none: no candidate got it right" if self.facility <= 1e-9 else
                    "none: every candidate scored it alike")
        return "none: the rest of the form's scores do not vary"


def strong_group(totals: list[float], share: float) -> list[int]:
    """Indexes of the strong group: the top ``share`` of candidates by total (at least one; ties at the
    border broken by position, i.e. by sitting)."""
    if not totals:
        return []
    size = max(1, math.ceil(len(totals) * share - 1e-9))
    order = sorted(range(len(totals)), key=lambda i: (-totals[i], i))
    return sorted(order[:size])


def strong_choice(answers: list[str | None], totals: list[float], key: str,
                  share: float) -> tuple[str | None, float | None, float | None, int]:
    """(the distractor the strong group chose most, its share there, the key's share there, group size)."""
    group = strong_group(totals, share)
    if not group:
        return None, None, None, 0
    picked = [answers[i] for i in group]
    counts: dict[str, int] = {}
    for a in picked:
        if a not in (None, "") and a != key:
            counts[a] = counts.get(a, 0) + 1
    key_share = sum(1 for a in picked if a == key) / len(group)
    if not counts:
        return None, None, key_share, len(group)
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return best[0], best[1] / len(group), key_share, len(group)


def validation_lines(course, exam: str) -> list[ValidationLine]:
    """Every objective item of every form of ``exam``, with its statistics, comments and flags."""
    settings = course.recourse_settings
    comments = comments_by_item(course, exam)
    words: dict[str, str] = {}
    latest: dict[str, Adjustment] = {}
    waiting: set[int] = set()
    for d in decisions(course, exam):  # the latest per item, applied or waiting
        state = (f"applied {clock.wall(d.applied_at, course.zone):%Y-%m-%d}" if d.applied_at
                 else "recorded, not applied")
        words[d.item_id] = f"decision {d.id}: {ACTION_TEXT[d.action]} ({state}): {d.reason}"
        latest[d.item_id] = Adjustment.of(d)
        if d.applied_at is None:
            waiting.add(d.id)
    lines: list[ValidationLine] = []
    with course.db.read() as s:
        adjustments = in_force(s, exam)
        submitted = sittings_q.select_submitted_with_candidates(s, exam)
        for form, m in require_forms(s, exam):
            entries = keyed_entries(m)
            sits = [sit for sit, f, _c in submitted if f.id == form.id]
            matrix = select_score_matrix(s.connection(), m.assignment, [sit.candidate_id for sit in sits])
            rows: list[list[float]] = []
            kept = []
            for sit in sits:
                row = [matrix.get(sit.candidate_id, e.grade_id) for e in entries]
                if all(v is not None for v in row):
                    rows.append([v for v in row if v is not None])
                    kept.append(sit)
            answers = select_latest_responses(s, [sit.id for sit in kept])
            cols = [e.item_id for e in entries]
            scores = pd.DataFrame(rows, columns=cols, dtype=float) if rows else pd.DataFrame(columns=cols, dtype=float)
            points = pd.Series([float(e.points) for e in entries], index=cols, dtype=float)
            stats = pm.item_stats(scores, points, min_n=0).set_index("item") if entries else pd.DataFrame()
            totals = [float(sum(r)) for r in rows]
            for e in entries:
                st = stats.loc[e.item_id] if e.item_id in stats.index else None
                fac = _num(st["facility"]) if st is not None else None
                disc = _num(st["discrimination"]) if st is not None else None
                picked = [(answers[sit.id][e.item_id].value if e.item_id in answers[sit.id] else None)
                          for sit in kept]
                choice, c_share, k_share, n_strong = strong_choice(picked, totals, e.key or "",
                                                                   settings.strong_group_share)
                flags = []
                if fac is not None and fac < settings.facility_below:
                    flags.append(f"facility {against(fac, settings.facility_below)} below "
                                 f"{settings.facility_below:g}")
                if disc is not None and disc < settings.discrimination_below:
                    flags.append(f"discrimination {against(disc, settings.discrimination_below)} below "
                                 f"{settings.discrimination_below:g}")
                if choice is not None and c_share is not None and k_share is not None and c_share >= k_share:
                    flags.append(f"strong candidates chose {choice} ({c_share:.0%}) at least as often as the key "
                                 f"{e.key} ({k_share:.0%})" + _answered(latest.get(e.item_id), e, choice, waiting))
                adj = adjustments.get(e.item_id)
                lines.append(ValidationLine(
                    form.label, m.assignment, e.number, e.item_id, e.key or "", len(kept), fac, disc, n_strong,
                    choice, c_share, k_share, [(f, c) for f, c in comments.get(e.item_id, []) if f == form.label],
                    flags,
                    words.get(e.item_id, "") or (f"in force: {ACTION_TEXT[adj.action]}" if adj else ""),
                    bool(rows) and scores[e.item_id].nunique() <= 1))
    return lines


def _answered(d: Adjustment | None, entry, choice: str, waiting: set[int]) -> str:
    """Beside the strong-choice flag: the decision that answered it ("decided: decision 3 accepts A"), if any."""
    if d is None:
        return ""
    later = " (recorded, not applied)" if d.decision_id in waiting else ""
    if d.action == KeyAction.accept_also:
        if choice not in also_keys(entry, d):
            return ""
        return f"; decided: decision {d.decision_id} accepts {choice}{later}"
    return f"; decided: decision {d.decision_id}: {ACTION_TEXT[d.action]}{later}"


def _num(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def flagged(lines: list[ValidationLine]) -> list[ValidationLine]:
    """The lines to review: past a threshold, or commented on."""
    return [ln for ln in lines if ln.flags or ln.comments]


def too_few(course, lines: list[ValidationLine]) -> tuple[int, dict[str, tuple[int, int]]]:
    """(the program's minimum for item statistics, {form label: (n, flagged lines)} of the forms below it).

    The minimum is the program's report's (``c.ReportSettings.min_n_publish``, ``psychometrics.Thresholds``):
    below it the report prints "too few candidates", so key validation must not read its flags as evidence."""
    needs = pm.Thresholds.from_settings(course.report_settings).min_publish
    out: dict[str, tuple[int, int]] = {}
    for ln in lines:
        if ln.n < needs:
            n, flags = out.get(ln.form, (ln.n, 0))
            out[ln.form] = (n, flags + bool(ln.flags))
    return needs, out


def too_few_text(course, lines: list[ValidationLine]) -> list[str]:
    """What to say above the validation lines when a form has fewer candidates than the program's minimum for
    item statistics: a first sentence, then one per such form ([] when every form has enough)."""
    needs, small = too_few(course, lines)
    if not small:
        return []
    every = len(small) == len({ln.form for ln in lines})
    head = (f"Too few candidates for item statistics on {'every form' if every else f'{len(small)} form(s)'}: the "
            f"program's report needs {needs} on a form (c.ReportSettings.min_n_publish). Below that, a facility, "
            "discrimination or strong-candidates flag cannot be read as evidence that a key is wrong; read the "
            "candidates' comments and the items themselves.")
    return [head] + [f"form {form}: n = {n} (needs {needs}): its {flags} flagged line(s) are not evidence"
                     for form, (n, flags) in sorted(small.items())]


def closure_text(course, exam: str) -> str:
    """Whether the exam's key validation is closed, in words."""
    with course.db.read() as s:
        row = recourse_q.select_last_closure(s, exam)
        if row is None:
            return "key validation open: results are provisional"
        return f"key validation closed {clock.shown(row.closed_at, course.zone)} by {row.closed_by}"


def appeals_tables(course, exam: str, since=None, until=None) -> tuple[list[str], list[tuple[str, pd.DataFrame]]]:
    """The program report's appeals section: (sentences, [(table name, table)]) from ``grading.appeals.appeals_log``:
    counts by category and decision ("open" while undecided), and the days from receipt to decision (median, the
    middle value, and the longest) of the appeals received in the report's dates (every cohort)."""
    from ..grading.appeals import appeals_log

    log = appeals_log(course, exam, since, until)
    if not log.total:
        return ["No appeal was received in this window."], []
    cats = sorted({c for c, _d in log.counts})
    decisions = ["upheld", "partly", "denied", "open"]
    table = pd.DataFrame([{"category": c, **{d: log.counts.get((c, d), 0) for d in decisions},
                           "total": sum(n for (cc, _d), n in log.counts.items() if cc == c)} for c in cats])
    text = [f"{log.total} appeal(s) received; {sum(log.counts.get((c, 'open'), 0) for c in cats)} still open; "
            f"{log.voided} sitting(s) voided on appeal (not counted as attempts)."]
    if log.days_to_decision:
        text.append(f"Days from receipt to decision: median {log.median_days:g}, longest {max(log.days_to_decision)} "
                    f"({len(log.days_to_decision)} decided).")
    return text, [("Appeals by category and decision", table)]
