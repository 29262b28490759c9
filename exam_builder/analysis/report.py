"""``exam-builder report EXAM``: the program's report for the coordinator and the oversight board.

One self-contained HTML file (figures embedded as PNG, no network) and, beside it, one CSV per
table and ``report.json``, for a window of sittings: a cohort, a date range, or all time.

The contract: ``gather`` reads the database once (the edge) into pandas frames; ``sections``
turns them into tables and figures with the statistics of ``analysis.psychometrics`` (pure);
``write_report`` renders and writes everything atomically. A number that needs a minimum sample
says so ("too few candidates (n = 12; needs 30)") instead of a misleading figure. Scores not
given yet are pending, never 0: a pending sitting counts as a sitting, not as a pass or a fail,
and is left out of the statistics that need every item scored. A no-show is ``absent`` (made so
by ``records.absence.settle`` when the report is gathered), counted as absent, never as pending.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .. import clock
from ..assembly.forms import require_forms
from ..assembly.release import write_atomic
from ..files import check_owned
from ..grading.figures import png as _png, pyplot as _plt  # shared with the candidate's score report
from ..kinds import kind_for
from ..model.manifest import Manifest, grade_ids
from ..model.states import INDEPENDENT_ROLES, Outcome, SittingStatus
from ..records.absence import settle_course
from ..records.models import Candidate, Exam, Sitting
from ..records.queries import (
    accommodations as accommodations_q,
    candidates as candidates_q,
    item_scores as item_scores_q,
    ratings as ratings_q,
    responses as responses_q,
    sittings as sittings_q,
    tutoring as tutoring_q,
)
from . import psychometrics as pm

#: Ratings decided from two ratings per response: a rater pair is the two raters of one response.
ROLES = INDEPENDENT_ROLES
#: The results of decided sittings, as the frames hold them (plain strings).
PASS, FAIL = Outcome.passed.value, Outcome.failed.value
DECIDED = [PASS, FAIL]
STANDING_COLUMNS = ["candidate", "cohort", "eligible", "barriers", "sat", "training_ended_on", "first_sat_on",
                    "passed_on"]


@dataclass
class FormData:
    """One form's score matrix (rows: sittings fully scored; columns: item numbers) and more."""

    assignment: str
    label: str
    cut: float
    max_total: float
    scores: pd.DataFrame
    max_points: pd.Series
    choices: pd.DataFrame
    keys: pd.Series
    item_ids: dict[int, str]
    kinds: dict[int, str]


@dataclass
class ReportData:
    exam: str
    title: str
    window: str
    results: pd.DataFrame  # one row per sitting in the window (voided and absent included)
    forms: list[FormData] = field(default_factory=list)
    ratings: pd.DataFrame = field(default_factory=pd.DataFrame)
    accommodations: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))
    tutoring: int = 0
    #: one row per candidate in scope: today's standing (eligible, barriers) and the dates of training's end,
    #: the first sitting and the pass (any time, so a pass before a date window still counts as certified)
    standing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STANDING_COLUMNS))
    standing_scope: str = ""

    @property
    def decided(self) -> pd.DataFrame:
        """The sittings with a pass or a fail (pending, voided and absent ones left out)."""
        return self.results[self.results.result.isin(DECIDED)] if not self.results.empty else self.results


def _in_window(sitting: Sitting, cohort: str | None, cand: Candidate, since: dt.date | None,
               until: dt.date | None) -> bool:
    day = (sitting.submitted_at or sitting.started_at or sitting.opened_at)
    day = day.date() if day else None
    if cohort and cand.cohort != cohort:
        return False
    if since and (day is None or day < since):
        return False
    return not (until and (day is None or day > until))


def gather(course, exam: str, cohort: str | None = None, since: dt.date | None = None,
           until: dt.date | None = None) -> ReportData:
    """Everything the report shows, read once (sittings in the window only)."""
    from ..grading.results import compute_results, refuse_tampered
    from ..records.queries.gradebook import select_score_matrix  # imports nbgrader: only when reading

    window = ", ".join([f"cohort {cohort}"] if cohort else []
                       + ([f"from {since}"] if since else []) + ([f"to {until}"] if until else [])) or "all time"
    settle_course(course, exam_id=exam)  # no-shows past their window: absent, stored and audited
    computed = compute_results(course, exam)
    refuse_tampered(computed)  # the report never prints a score that exam-builder did not write
    results = {r.sitting_id: r for r in computed}
    rows, forms_out = [], []
    with course.db.read() as s:
        exam_row = s.get(Exam, exam)
        forms = require_forms(s, exam)
        title = (exam_row.title if exam_row is not None else "") or exam
        manifests = {f.id: (f, m) for f, m in forms}
        sittings = sittings_q.select_sittings_with_candidates(s, exam)
        kept = [(sit, cand) for sit, cand in sittings if _in_window(sit, cohort, cand, since, until)]
        ids = [sit.id for sit, _ in kept]
        for sit, cand in kept:
            form, m = manifests[sit.form_id]
            r = results.get(sit.id)
            rows.append({
                "sitting": sit.id, "candidate": sit.candidate_id, "cohort": cand.cohort, "form": form.label,
                # frames hold plain strings (a state's value): pandas never sees an enum
                "attempt": sit.attempt_no, "status": str(sit.status),
                "recorded": str(sit.outcome) if sit.outcome else None,
                "result": str(r.status) if r else (
                    str(sit.status) if sit.status in (SittingStatus.voided, SittingStatus.absent) else "not submitted"),
                "total": r.total.score if r else None, "max_total": m.total_points, "cut": m.cut_score,
                "submitted_at": sit.submitted_at, "extended_time": sit.time_limit_minutes > m.time_limit_minutes,
                "scribe": bool(sit.scribe_name), "extra_minutes": sit.extra_minutes,
                **{f"sub:{c}": (p.score / p.max if p.score is not None and p.max else None)
                   for c, p in (r.competencies.items() if r else [])},
            })
        conn = s.connection()
        answers = _latest_answers(s, ids)
        for form, m in forms:
            sits = [sit for sit, _ in kept if sit.form_id == form.id and results.get(sit.id)
                    and results[sit.id].final]
            got = select_score_matrix(conn, form.assignment)
            numbers = [e.number for e in m.items]
            scores = pd.DataFrame(got.matrix([sit.candidate_id for sit in sits],
                                             [grade_ids(n)["grade"] for n in numbers]),
                                  index=[sit.id for sit in sits], columns=numbers, dtype=float)
            choices = pd.DataFrame([[answers.get((sit.id, e.item_id)) if kind_for(e.kind).offers_options else None
                                     for e in m.items] for sit in sits],
                                   index=[sit.id for sit in sits], columns=numbers, dtype=object)
            forms_out.append(FormData(
                form.assignment, form.label, m.cut_score, m.total_points, scores,
                pd.Series({e.number: e.points for e in m.items}, dtype=float), choices,
                pd.Series({e.number: e.key for e in m.items if kind_for(e.kind).offers_options}, dtype=object),
                {e.number: e.item_id for e in m.items}, {e.number: e.kind.value for e in m.items}))
        ratings = _ratings(s, ids, {f.id: m for f, m in forms}, {sit.id: sit.form_id for sit, _ in kept})
        acc = pd.Series([str(a.kind) for a in accommodations_q.select_approved_of(
            s, {sit.candidate_id for sit, _ in kept})], dtype=object).value_counts()
        tutoring = len(tutoring_q.select_tutoring_ids(s, exam, ids))
        standing, scope = _standing(s, course.policy, exam, cohort, {cand.id for _, cand in kept},
                                    everyone=not (cohort or since or until))
    return ReportData(exam, title, window, pd.DataFrame(rows), forms_out, ratings, acc, tutoring, standing, scope)


def _standing(s, policy, exam: str, cohort: str | None, sat_in_window: set[str],
              everyone: bool) -> tuple[pd.DataFrame, str]:
    """Today's standing of the candidates in scope: the cohort's candidates when a cohort is chosen, everyone
    on the roster for all time, else those who sat in the date window (people who never sat have no date)."""
    from ..records.eligibility import evaluate, sitting_date

    only: set[str] | None = None
    if cohort:
        scope = f"the {{n}} candidate(s) of cohort {cohort}"
    elif everyone:
        scope = "the {n} candidate(s) on the roster"
    else:
        only = sat_in_window
        scope = "the {n} candidate(s) who sat in this window"
    ids = candidates_q.select_candidate_ids(s, only, cohort or None)
    if not ids:
        return pd.DataFrame(columns=STANDING_COLUMNS), scope.format(n=0)
    ended = candidates_q.select_training_ended(s, ids)
    first, passed = {}, {}
    for sit in sittings_q.select_sittings_of_candidates(s, exam, ids, counted_only=True):
        if sit.started_at or sit.opened_at:
            first.setdefault(sit.candidate_id, sitting_date(sit))
            if sit.outcome == Outcome.passed:
                passed.setdefault(sit.candidate_id, sitting_date(sit))
    rows = [{"candidate": e.candidate_id, "cohort": e.cohort, "eligible": e.eligible,
             "barriers": tuple(b.value for b in e.barriers), "sat": e.candidate_id in first,
             "training_ended_on": ended.get(e.candidate_id), "first_sat_on": first.get(e.candidate_id),
             "passed_on": passed.get(e.candidate_id)}
            for e in evaluate(s, policy, exam, ids)]
    return pd.DataFrame(rows, columns=STANDING_COLUMNS), scope.format(n=len(ids))


def _latest_answers(s, sitting_ids: list[int]) -> dict[tuple[int, str], str | None]:
    out: dict[tuple[int, str], str | None] = {}
    if not sitting_ids:
        return out
    for sid, rows in responses_q.select_latest_responses(s, sitting_ids).items():
        for item, r in rows.items():
            out[(sid, item)] = r.value or None
    return out


def _ratings(s, sitting_ids: list[int], manifests: dict[int, Manifest], form_of: dict[int, int]) -> pd.DataFrame:
    if not sitting_ids:
        return pd.DataFrame(columns=["response", "item", "rater", "role", "score", "max_points", "decided", "at"])
    decided = item_scores_q.select_final_scores(s, sitting_ids)
    rows = []
    for r in ratings_q.select_scored_ratings(s, sitting_ids):
        m = manifests[form_of[r.sitting_id]]
        entry = next((e for e in m.items if e.item_id == r.item_id), None)
        rows.append({"response": f"{r.sitting_id}:{r.item_id}", "item": r.item_id, "rater": r.rater,
                     "role": str(r.role),
                     "score": r.score, "max_points": entry.points if entry else None,
                     "decided": decided.get((r.sitting_id, r.item_id)), "at": r.scored_at})
    return pd.DataFrame(rows, columns=["response", "item", "rater", "role", "score", "max_points", "decided", "at"])


# -- the report's sections (pure) ------------------------------------------------------------------------
@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (alt text, base64 PNG)


def _rate(part: pd.Series) -> str:
    n = len(part)
    return "no candidates" if n == 0 else f"{(part == 'pass').sum()} of {n} ({(part == 'pass').mean():.0%})"


def cohort_section(d: ReportData) -> Section:
    sec = Section("Cohort")
    r = d.results
    if r.empty:
        sec.text.append("No sittings in this window.")
        return sec
    decided = d.decided
    sec.text.append(f"{r.candidate.nunique()} candidate(s), {len(r)} sitting(s): "
                    + ", ".join(f"{n} {k}" for k, n in r.result.value_counts().sort_index().items()) + ".")
    firsts = decided[decided.attempt == 1]
    eventual = decided.groupby("candidate").result.apply(lambda x: PASS if (x == PASS).any() else FAIL)
    sec.text.append(f"Pass rate on the first attempt: {_rate(firsts.result)}; eventually (within the attempts "
                    f"allowed): {_rate(eventual)}. Tutoring records: {d.tutoring}.")
    by = decided.groupby(["cohort", "form"]).result.agg(
        candidates="size", passed=lambda x: int((x == PASS).sum())).reset_index()
    by["pass rate"] = (by.passed / by.candidates).round(3)
    sec.tables.append(("Pass rate per cohort and form (decided sittings)", by))
    attempts = decided.groupby("attempt").result.agg(
        sittings="size", passed=lambda x: int((x == PASS).sum())).reset_index()
    sec.tables.append(("Results by attempt", attempts))
    acc = pd.DataFrame({"accommodation": list(d.accommodations.index) + ["extended time used", "scribe used"],
                        "candidates": [int(v) for v in d.accommodations.values]
                        + [int(r.extended_time.sum()), int(r.scribe.sum())]})
    sec.tables.append(("Accommodations (counts only)", acc))
    if not by.empty:
        sec.figures.append(_figure_bar(by, "Pass rate per cohort and form"))
    return sec


def standing_section(d: ReportData) -> Section:
    """Who may sit and why not, and how long from the end of training to certification."""
    from ..records.eligibility import Barrier

    sec = Section("Eligibility and time to certification")
    st = d.standing
    if st.empty:
        sec.text.append("No candidates in this window.")
        return sec
    certified = st.passed_on.notna()
    barred = ~st.eligible & ~certified
    sec.text.append(f"Standing today of {d.standing_scope}: {int(certified.sum())} certified, "
                    f"{int((st.eligible & ~certified).sum())} may sit, {int(barred.sum())} may not sit now; "
                    f"{int((~st.sat).sum())} never sat this exam.")
    r = d.results
    if not r.empty and "recorded" in r.columns:
        unrecorded = int((r.result.isin(DECIDED) & r.recorded.isna()).sum())
        if unrecorded:
            sec.text.append(f"{unrecorded} scored sitting(s) have no result in the candidates' records yet, so they "
                            "count as pending here (exam-builder results records them).")
    counts = []
    for b in Barrier:
        if b is Barrier.passed:
            continue
        has = st.barriers.apply(lambda bs, b=b: b.value in bs)
        if has.any():
            counts.append({"reason": b.plain, "candidates": int(has.sum()), "never sat": int((has & ~st.sat).sum())})
    if counts:
        sec.tables.append(("Why candidates may not sit now (a candidate may have more than one reason)",
                           pd.DataFrame(counts)))
    dated = st[st.training_ended_on.notna()]
    if dated.empty:
        sec.text.append("No training end dates on the roster, so the time to certification is not known "
                        "(the roster's optional \"training ended\" column gives it).")
        return sec
    days = lambda col: (pd.to_datetime(dated[col]) - pd.to_datetime(dated.training_ended_on)).dt.days  # noqa: E731
    dated = dated.assign(to_first=days("first_sat_on"), to_pass=days("passed_on"))
    missing = int((certified & st.training_ended_on.isna()).sum())
    done = dated.to_pass.dropna()
    if done.empty:
        sec.text.append("No candidate with a training end date has passed yet.")
    else:
        sec.text.append(f"From the end of training to certification: median {done.median():g} days "
                        f"(from {done.min():g} to {done.max():g}; {len(done)} candidate(s))."
                        + (f" {missing} certified candidate(s) have no training end date." if missing else ""))
    per = dated.groupby("cohort").agg(
        candidates=("candidate", "size"), sat=("to_first", "count"), certified=("to_pass", "count"),
        median_days_to_first_sitting=("to_first", "median"), median_days_to_certification=("to_pass", "median"),
        longest_days_to_certification=("to_pass", "max")).reset_index()
    sec.tables.append(("Days from the end of training, per cohort", per))
    return sec


def scores_section(d: ReportData) -> Section:
    sec = Section("Scores")
    decided = d.decided
    if decided.empty:
        sec.text.append("No fully scored sittings yet.")
        return sec
    summary = decided.groupby("form").agg(n=("total", "size"), mean=("total", "mean"), sd=("total", "std"),
                                          min=("total", "min"), max=("total", "max"), cut=("cut", "first"),
                                          out_of=("max_total", "first")).round(2).reset_index()
    sec.tables.append(("Totals per form", summary))
    subs = [c for c in decided.columns if c.startswith("sub:")]
    if subs:
        comp = decided.groupby("form")[subs].mean().round(3)
        comp.columns = [c[4:] for c in comp.columns]
        sec.tables.append(("Mean share of points per competency", comp.reset_index()))
    sec.figures.append(_figure_hist(decided))
    share = decided.assign(share=decided.total / decided.max_total, passed=decided.result == PASS)
    by_attempt = share.groupby("attempt").agg(sittings=("share", "size"), mean_share=("share", "mean"),
                                              sd_share=("share", "std"), pass_rate=("passed", "mean")).round(3)
    sec.tables.append(("Scores by attempt (share of the form's points)", by_attempt.reset_index()))
    if share.attempt.nunique() > 1:
        sec.figures.append(_figure_attempts(share))
    return sec


def reliability_section(d: ReportData) -> Section:
    sec = Section("Reliability and decision consistency")
    rows = []
    for f in d.forms:
        rel = pm.reliability(f.scores.dropna(), f.max_points, f.cut)
        if isinstance(rel, pm.TooFew):
            rows.append({"form": f.label, "n": len(f.scores.dropna()), "note": str(rel)})
        else:
            keep = ("n", "k", "mean", "sd", "alpha_name", "alpha", "alpha_ci", "sem", "cut", "csem_at_cut", "p0",
                    "kappa", "pass_rate")
            values = rel.as_dict()
            rows.append({"form": f.label, **{k: _round(values.get(k)) for k in keep},
                         "note": "; ".join(values.get("notes") or [])})
    sec.tables.append(("Per form", pd.DataFrame(rows)))
    sec.text.append("Alpha is KR-20 when every item is scored right or wrong. SEM is the standard error of "
                    "measurement; the conditional SEM is the error at the cut score (Lord's binomial model). "
                    "Decision consistency (p0, kappa) estimates how often a second form would give the same pass "
                    "or fail (Subkoviak's single-administration method).")
    return sec


def _round(v):
    if isinstance(v, float):
        return round(v, 3)
    if isinstance(v, (tuple, list)):
        return "–".join(f"{x:.3f}" for x in v if isinstance(x, (int, float)))
    return v


def items_section(d: ReportData) -> Section:
    sec = Section("Items")
    frames = []
    for f in d.forms:
        scored = f.scores.dropna()
        if len(scored) < pm.MIN_N:
            sec.text.append(f"Form {f.label}: {pm.TooFew(len(scored), pm.MIN_N)}.")
            continue
        stats = pm.item_stats(scored, f.max_points, f.choices.loc[scored.index], f.keys)
        stats = stats.rename(columns={"item": "number"})  # item_stats names items by the form's column (number)
        stats.insert(1, "item", [f.item_ids.get(n, n) for n in stats.number])
        stats.insert(0, "form", f.label)
        frames.append(stats)
    if frames:
        table = pd.concat(frames, ignore_index=True)
        sec.tables.append(("Facility, discrimination, distractors and flags", table))
        sec.figures.append(_figure_items(table))
        shared = table.groupby("item").form.nunique()
        shared = shared[shared > 1].index
        if len(shared):
            cols = [c for c in ("facility", "discrimination") if c in table.columns]
            sec.tables.append(("Items shared between forms", table[table.item.isin(shared)][["item", "form", *cols]]))
    return sec


def raters_section(d: ReportData) -> Section:
    sec = Section("Raters")
    if d.ratings.empty:
        sec.text.append("No ratings in this window.")
        return sec
    sec.tables.append(("Agreement per item and rater pair", pm.rater_agreement(d.ratings)))
    leniency = pm.rater_leniency(d.ratings)
    sec.tables.append(("Leniency: each rater's mean score minus the decided score", leniency))
    if leniency.leniency.notna().any():
        sec.figures.append(_figure_leniency(leniency))
    dated = d.ratings.dropna(subset=["at"]).assign(month=lambda r: pd.to_datetime(r["at"]).dt.strftime("%Y-%m"))
    if dated.month.nunique() > 1:  # drift shows only across months
        sec.tables.append(("Leniency by month (drift)", pm.rater_leniency(dated, by="month")))
    return sec


def comparability_section(d: ReportData) -> Section:
    sec = Section("Form comparability")
    decided = d.decided
    if decided.empty:
        sec.text.append("No fully scored sittings yet.")
        return sec
    totals = pd.DataFrame({"form": decided.form, "total": decided.total, "max_points": decided.max_total,
                           "passed": decided.result == PASS})
    sec.tables.append(("Mean and pass rate per form, with 95% intervals",
                       pm.form_comparison(totals, {f.label: f.cut for f in d.forms})))
    rows = equating_rows(d.forms)
    if rows:
        sec.tables.append(("Equating check through the items the forms share", pd.DataFrame(rows)))
        sec.text.append("The equating check puts the first form's scores on the second form's scale through the "
                        "items both forms share (nominal-weights mean equating, for small samples). A constant "
                        "whose interval includes 0 gives no evidence that the forms differ in difficulty.")
    elif len(d.forms) > 1:
        sec.text.append("The forms share no items, so no equating check is possible.")
    return sec


def equating_rows(forms: list[FormData]) -> list[dict]:
    """One row per pair of forms that share items: the mean-equating constant and what it says."""
    rows = []
    for i, a in enumerate(forms):
        for b in forms[i + 1:]:
            shared = sorted(set(a.item_ids.values()) & set(b.item_ids.values()))
            if not shared:
                continue
            cols_a = [n for n, item in a.item_ids.items() if item in shared]
            cols_b = [n for n, item in b.item_ids.items() if item in shared]
            sa, sb = a.scores.dropna(), b.scores.dropna()
            row = {"forms": f"{a.label} to {b.label}", "shared items": len(shared), "n": f"{len(sa)} and {len(sb)}"}
            eq = pm.mean_equating(sa[cols_a], sb[cols_b], sa.sum(axis=1), sb.sum(axis=1), max_a=a.max_total,
                                  max_b=b.max_total, max_common=float(a.max_points[cols_a].sum()))
            if isinstance(eq, pm.TooFew):
                rows.append({**row, "constant": None, "95% interval": "", "reading": str(eq)})
                continue
            low, high = eq.constant_ci or (math.nan, math.nan)
            if low <= 0 <= high:
                reading = "no evidence of a difference in difficulty"
            else:
                reading = (f"form {a.label} reads harder by about {abs(eq.constant):.1f} points" if eq.constant > 0
                           else f"form {a.label} reads easier by about {abs(eq.constant):.1f} points")
            rows.append({**row, "constant": round(eq.constant, 2), "95% interval": f"{low:.2f} to {high:.2f}",
                         "reading": reading})
    return rows


def appeals_section(course, exam: str, since: dt.date | None, until: dt.date | None) -> Section:
    """Appeals (issue 26): counts by category and decision, time to decision (``analysis.keys.appeals_tables``)."""
    from .keys import appeals_tables

    text, tables = appeals_tables(course, exam, since, until)
    return Section("Appeals", text, tables)


def sections(d: ReportData) -> list[Section]:
    return [cohort_section(d), standing_section(d), scores_section(d), reliability_section(d), items_section(d),
            raters_section(d), comparability_section(d)]


# -- figures ------------------------------------------------------------------------------------------
def _figure_hist(decided: pd.DataFrame) -> tuple[str, str]:
    plt = _plt()
    forms = sorted(decided.form.unique())
    fig, axes = plt.subplots(1, len(forms), figsize=(4 * len(forms), 3), squeeze=False, sharey=True)
    for ax, form in zip(axes[0], forms, strict=False):
        part = decided[decided.form == form]
        ax.hist(part.total.astype(float), bins=12, color="#0b4f8a", edgecolor="white")
        cut = float(part.cut.iloc[0])
        ax.axvline(cut, color="#a11d1d", linewidth=2, linestyle="--", label=f"cut {cut:g}")
        ax.set_title(f"Form {form} (n = {len(part)})")
        ax.set_xlabel(f"total points (of {float(part.max_total.iloc[0]):g})")
        ax.legend()
    axes[0][0].set_ylabel("candidates")
    alt = "Score distribution per form with the cut score marked: " + "; ".join(
        f"form {f}: n = {int((decided.form == f).sum())}, mean {decided[decided.form == f].total.mean():.1f}"
        for f in forms)
    return alt, _png(fig)


def _figure_attempts(share: pd.DataFrame) -> tuple[str, str]:
    """Scores (share of the form's points) by attempt, with each form's cut as a share."""
    plt = _plt()
    attempts = sorted(share.attempt.unique())
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(attempts) + 2), 3))
    ax.boxplot([share[share.attempt == a].share.astype(float) for a in attempts],
               tick_labels=[str(a) for a in attempts])
    cuts = sorted({round(c / m, 3) for c, m in zip(share.cut, share.max_total, strict=True)})
    for c in cuts:
        ax.axhline(c, color="#a11d1d", linestyle="--", linewidth=1.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel("attempt")
    ax.set_ylabel("share of the points")
    ax.set_title("Scores by attempt (dashed: the cut)")
    alt = "Scores by attempt, as a share of the form's points, with the cut at " + ", ".join(f"{c:.0%}" for c in cuts) \
        + ": " + "; ".join(f"attempt {a}: n = {int((share.attempt == a).sum())}, median "
                           f"{share[share.attempt == a].share.median():.0%}" for a in attempts)
    return alt, _png(fig)


def _figure_leniency(leniency: pd.DataFrame) -> tuple[str, str]:
    """Each rater's leniency with its 95% interval around 0 (no difference from the decided score)."""
    plt = _plt()
    rows = leniency.dropna(subset=["leniency"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(5, 0.5 * len(rows) + 1.2))
    low = (rows.leniency - rows.leniency_ci_low).fillna(0).clip(lower=0)
    high = (rows.leniency_ci_high - rows.leniency).fillna(0).clip(lower=0)
    ax.errorbar(rows.leniency, range(len(rows)), xerr=[low, high], fmt="o", color="#0b4f8a", capsize=4)
    ax.axvline(0, color="#333", linewidth=1)
    ax.set_yticks(range(len(rows)), rows.rater.astype(str))
    ax.invert_yaxis()
    ax.set_xlabel("mean points above (+) or below (-) the decided score")
    ax.set_title("Rater leniency with 95% intervals")
    alt = "Rater leniency: " + "; ".join(f"{r.rater}: {r.leniency:+.2f} points (n = {int(r.n)})"
                                         for r in rows.itertuples())
    return alt, _png(fig)


def _figure_items(table: pd.DataFrame) -> tuple[str, str]:
    """Facility against discrimination per item: flagged items stand out by shape, not colour alone."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    flagged = table["flags"].fillna("").astype(str) != ""
    for mask, marker, label, color in ((~flagged, "o", "no flag", "#0b4f8a"), (flagged, "X", "flagged", "#a11d1d")):
        part = table[mask]
        ax.scatter(part.facility, part.discrimination, marker=marker, label=f"{label} ({len(part)})", color=color)
    ax.axhline(0, color="#333", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("facility (share of the points)")
    ax.set_ylabel("discrimination")
    ax.set_title("Items: facility and discrimination")
    ax.legend()
    worst = table[flagged]
    alt = (f"Facility against discrimination for {len(table)} items; {int(flagged.sum())} flagged"
           + (": " + "; ".join(f"{r.form}/{r.item}: {r.flags}" for r in worst.itertuples()) if len(worst) else "."))
    return alt, _png(fig)


def _figure_bar(by: pd.DataFrame, title: str) -> tuple[str, str]:
    plt = _plt()
    labels = [f"{c or '(no cohort)'} / {f}" for c, f in zip(by.cohort, by.form, strict=True)]
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(labels) + 2), 3))
    ax.bar(labels, by["pass rate"], color="#1d6b31")
    ax.set_ylim(0, 1)
    ax.set_ylabel("pass rate")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    alt = title + ": " + "; ".join(f"{lab}: {p:.0%} of {n}" for lab, p,
                                   n in zip(labels, by["pass rate"], by.candidates, strict=True))
    return alt, _png(fig)


# -- writing ---------------------------------------------------------------------------------------------
def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if hasattr(v, "item"):
        return _jsonable(v.item())
    return v


def render_html(d: ReportData, secs: list[Section], program: str, zone: dt.tzinfo | None = None) -> str:
    env = Environment(loader=PackageLoader("exam_builder.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    tables = [[(name, df.to_html(index=False, na_rep="", border=0, classes="t", float_format=lambda x: f"{x:.3g}"))
               for name, df in s.tables] for s in secs]
    return env.get_template("program_report.html.j2").render(
        data=d, sections=list(zip(secs, tables, strict=False)), program=program,
        made=clock.now_shown(zone))  # the room's zone, named, as every time shown


def write_report(course, exam: str, out: Path, cohort: str | None = None, since: dt.date | None = None,
                 until: dt.date | None = None) -> Path:
    """Write ``out/report.html``, ``out/report.json`` and ``out/tables/*.csv``; the HTML's path."""
    d = gather(course, exam, cohort, since, until)
    secs = sections(d) + [appeals_section(course, exam, since, until)]
    html = render_html(d, secs, course.policy.program_name, course.zone)
    machine = {"exam": exam, "title": d.title, "window": d.window, "sections": []}
    files: dict[Path, str] = {}
    for s in secs:
        entry = {"title": s.title, "text": s.text, "tables": []}
        for name, df in s.tables:
            slug = "".join(ch if ch.isalnum() else "-" for ch in f"{s.title}-{name}".lower()).strip("-")[:80]
            files[out / "tables" / f"{slug}.csv"] = df.to_csv(index=False)
            entry["tables"].append({"name": name, "csv": f"tables/{slug}.csv",
                                    "rows": [{k: _jsonable(v) for k,
                                              v in row.items()} for row in df.to_dict("records")]})
        machine["sections"].append(entry)
    files[out / "report.json"] = json.dumps(machine, indent=1, default=str)
    files[out / "report.html"] = html
    for path in files:  # every path checked (no link, the right type) before the first is written
        check_owned(path, course.root)
    for path, text in files.items():
        write_atomic(path, text, root=course.root)
    return out / "report.html"
