"""``exam-builder report EXAM``: the program's report for the coordinator and the oversight board.

One self-contained HTML file (figures embedded as PNG, no network) and, beside it, one CSV per
table and ``report.json``, for a window of sittings: a cohort, a date range, or all time.

The contract: ``gather`` reads the database once (the edge) into pandas frames; ``sections``
turns them into tables and figures with the statistics of ``analysis.psychometrics`` (pure);
``write_report`` renders and writes everything atomically. A number that needs a sample is published
from ``c.ReportSettings.min_n_publish`` candidates with its interval, with a plain warning under
``min_n_stable``, and below says what is needed ("too few candidates (n = 8; needs 10)"); forms are pooled
where that is sound. Every number is rounded once (``psychometrics.show``); headings are words in the HTML
(``HEADERS``), short names in the CSVs; the heading names the version and a hash of the data. Scores not
given yet are pending, never 0: a pending sitting counts as a sitting, not as a pass or a fail,
and is left out of the statistics that need every item scored. A no-show is ``absent`` (made so
by ``records.absence.settle`` when the report is gathered), counted as absent, never as pending.
"""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .. import clock
from ..assembly.forms import require_forms
from ..assembly.release import write_atomic
from ..files import check_owned
from ..grading.figures import png as _png, pyplot as _plt  # shared with the candidate's score report
from ..kinds import kind_for
from ..model.manifest import Manifest, grade_ids
from ..model.states import INDEPENDENT_ROLES, Outcome, SittingStatus, SubmitReason
from ..records.absence import settle_course
from ..records.cuts import effective_cuts
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
#: Every number the report shows is rounded once, to this many decimal places (``psychometrics.show``).
DECIMALS = pm.DECIMALS
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
    #: the form's items' competencies (number -> competency), for the anchor's content check
    competencies: dict[int, str] = field(default_factory=dict)
    #: every submitted sitting of the form in the window (rows) x item numbers: True where answered
    answered: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the options each objective item offers (number -> 2 for true/false), for the distractor analysis
    options: dict[int, int] = field(default_factory=dict)


@dataclass
class CutTrace:
    """What the board needs to trace the cut (walk finding 11), read with the report's data: the studies, the
    decision in force, each form's cut with its history, the key decisions and the key validation's closure. Times
    are shown in the room's zone when gathered; every entry is plain words and numbers."""

    #: (id, title, method in words) of each standard-setting study of the exam, oldest first
    studies: list[tuple[int, str, str]] = field(default_factory=list)
    #: the newest decision (in force): id, study, adopted and recommended (shares), round, by, on, reason, recorded
    decision: dict | None = None
    #: one per form: label, cut (points), points, frozen (the manifest's cut), built (shown), built_after_decision
    forms: list[dict] = field(default_factory=list)
    #: every re-cut, oldest first: form, previous, cut, decision, reason, by, at (shown)
    recuts: list[dict] = field(default_factory=list)
    #: every key decision, oldest first: item, action (words), reason, by, at, applied (shown or "")
    keys: list[dict] = field(default_factory=list)
    #: the latest closure of key validation: (at shown, by), or None while open
    closed: tuple[str, str] | None = None


#: A key decision's action in words (``KeyAction`` values).
KEY_ACTIONS = {"keep": "key kept", "accept": "another answer accepted as well", "credit": "everyone given the points",
               "drop": "item dropped from scoring"}
STUDY_METHODS = {"modified_angoff": "Modified Angoff", "yes_no": "Yes/No Angoff"}


def _cut_trace(s, exam: str, forms: list, cuts: dict[int, float], zone: dt.tzinfo) -> CutTrace:
    from ..records.queries import recourse as recourse_q, standard as standard_q

    shown = lambda t: clock.shown(t, zone) if t else ""  # noqa: E731
    trace = CutTrace()
    studies = standard_q.select_studies(s, exam)
    trace.studies = [(st.id, st.title or "", STUDY_METHODS.get(st.method, st.method)) for st in studies]
    decisions = standard_q.select_decisions(s, exam_id=exam)
    last = decisions[-1] if decisions else None
    if last is not None:
        trace.decision = {"id": last.id, "study": last.study_id, "adopted": last.adopted,
                          "recommended": last.recommended, "round": last.round_no, "by": last.decided_by,
                          "on": str(last.decided_on), "reason": last.reason or "", "recorded_by": last.recorded_by,
                          "recorded": last.recorded_at}
    labels = {f.id: f.label for f, _m in forms}
    for f, m in forms:
        trace.forms.append({"form": f.label, "cut": cuts[f.id], "points": m.total_points, "frozen": m.cut_score,
                            "built": shown(f.built_at),
                            "built_after_decision": bool(last is not None and f.built_at and last.recorded_at
                                                         and f.built_at > last.recorded_at)})
    for r in standard_q.select_form_cut_history(s, labels):
        trace.recuts.append({"form": labels[r.form_id], "previous": r.previous, "cut": r.cut_score,
                             "decision": r.decision_id, "reason": r.reason or "", "by": r.actor, "at": shown(r.at)})
    for k in recourse_q.select_key_decisions(s, exam):
        trace.keys.append({"item": k.item_id, "action": KEY_ACTIONS.get(str(k.action), str(k.action)),
                           "reason": k.reason or "", "by": k.decided_by, "at": shown(k.decided_at),
                           "applied": shown(k.applied_at)})
    closure = recourse_q.select_last_closure(s, exam)
    if closure is not None:
        trace.closed = (shown(closure.closed_at), closure.closed_by)
    if trace.decision is not None:
        trace.decision["recorded"] = shown(trace.decision["recorded"])
    return trace


@dataclass
class ReportData:
    exam: str
    title: str
    window: str
    results: pd.DataFrame  # one row per sitting in the window (voided and absent included)
    forms: list[FormData] = field(default_factory=list)
    ratings: pd.DataFrame = field(default_factory=pd.DataFrame)
    accommodations: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))
    tutoring: int = 0  # tutoring records (a candidate may have several: ``tutored`` counts candidates)
    #: one row per candidate in scope: today's standing (eligible, barriers) and the dates of training's end,
    #: the first sitting and the pass (any time, so a pass before a date window still counts as certified)
    standing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STANDING_COLUMNS))
    standing_scope: str = ""
    #: the report's thresholds (``c.ReportSettings``): when a figure is published, the margins
    thresholds: pm.Thresholds = field(default_factory=pm.Thresholds)
    #: the attempts a candidate has (``c.ProgramPolicy.max_attempts``), for "eventually passed"; None: not known
    max_attempts: int | None = None
    #: competency slug -> its name in words (``c.ProgramPolicy.competencies``): headings never show a slug
    competency_names: dict[str, str] = field(default_factory=dict)
    #: the candidates the tutoring records are for
    tutored: int = 0
    #: where each form's cut came from: the study, the decision in force, re-cuts, key decisions (``CutTrace``)
    cut_trace: CutTrace | None = None

    def competency(self, slug: str) -> str:
        """A competency's name as the policy writes it (the slug only when the policy has no name for it)."""
        return self.competency_names.get(slug) or slug

    @property
    def decided(self) -> pd.DataFrame:
        """The sittings with a pass or a fail (pending, voided and absent ones left out)."""
        return self.results[self.results.result.isin(DECIDED)] if not self.results.empty else self.results


def _in_window(sitting: Sitting, cohort: str | None, cand: Candidate, since: dt.date | None,
               until: dt.date | None, zone: dt.tzinfo) -> bool:
    """Whether a sitting is in the report's window: its cohort, and its day on the room's calendar."""
    when = sitting.submitted_at or sitting.started_at or sitting.opened_at
    day = clock.date_of(when, zone) if when else None
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
        cuts = effective_cuts(s, forms)  # a recorded re-cut, else the cut frozen at build
        sittings = sittings_q.select_sittings_with_candidates(s, exam)
        kept = [(sit, cand) for sit, cand in sittings if _in_window(sit, cohort, cand, since, until, course.zone)]
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
                "total": r.total.score if r else None, "max_total": m.total_points, "cut": cuts[form.id],
                "provisional": bool(r and r.final and r.provisional),  # key validation of its sitting not closed
                "submitted_at": sit.submitted_at, "started_at": sit.started_at, "deadline": sit.deadline,
                "paused_seconds": sit.paused_seconds or 0.0,
                "extended_time": sit.time_limit_minutes > m.time_limit_minutes,
                "scribe": bool(sit.scribe_name), "extra_minutes": sit.extra_minutes,
                "mode": "paper" if sit.submit_reason == SubmitReason.paper else "online",  # exam_builder.paper
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
            submitted = [sit for sit, _ in kept if sit.form_id == form.id and sit.submitted_at is not None
                         and sit.status not in (SittingStatus.voided, SittingStatus.absent)]
            answered = pd.DataFrame([[bool(answers.get((sit.id, e.item_id))) for e in m.items] for sit in submitted],
                                    index=[sit.id for sit in submitted], columns=numbers, dtype=bool)
            forms_out.append(FormData(
                form.assignment, form.label, cuts[form.id], m.total_points, scores,
                pd.Series({e.number: e.points for e in m.items}, dtype=float), choices,
                pd.Series({e.number: e.key for e in m.items if kind_for(e.kind).offers_options}, dtype=object),
                {e.number: e.item_id for e in m.items}, {e.number: e.kind.value for e in m.items},
                {e.number: e.competency for e in m.items}, answered,
                {e.number: len(e.option_order) for e in m.items if kind_for(e.kind).offers_options and e.option_order}))
        ratings = _ratings(s, ids, {f.id: m for f, m in forms}, {sit.id: sit.form_id for sit, _ in kept})
        acc = pd.Series([str(a.kind) for a in accommodations_q.select_approved_of(
            s, {sit.candidate_id for sit, _ in kept})], dtype=object).value_counts()
        tutored_sittings = tutoring_q.select_tutoring_sittings(s, exam, ids)
        tutoring = len(tutored_sittings)
        cand_of = {sit.id: cand.id for sit, cand in kept}
        tutored = len({cand_of[i] for i in tutored_sittings if i in cand_of})
        standing, scope = _standing(s, course.policy, exam, cohort, {cand.id for _, cand in kept},
                                    everyone=not (cohort or since or until), zone=course.zone)
        trace = _cut_trace(s, exam, forms, cuts, course.zone)
    return ReportData(exam, title, window, pd.DataFrame(rows), forms_out, ratings, acc, tutoring, standing, scope,
                      pm.Thresholds.from_settings(course.report_settings), course.policy.max_attempts,
                      dict(course.policy.competencies), tutored=tutored, cut_trace=trace)


def _standing(s, policy, exam: str, cohort: str | None, sat_in_window: set[str],
              everyone: bool, zone: dt.tzinfo) -> tuple[pd.DataFrame, str]:
    """Today's standing of the candidates in scope: the cohort's candidates when a cohort is chosen, everyone
    on the roster for all time, else those who sat in the date window (people who never sat have no date).
    Today and the day of each sitting are the room's (``zone``), as the roster's "training ended" is, so the
    day counts are whole days on one calendar."""
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
    first: dict[str, dt.date | None] = {}
    passed: dict[str, dt.date | None] = {}
    for sit in sittings_q.select_sittings_of_candidates(s, exam, ids, counted_only=True):
        if sit.started_at or sit.opened_at:
            first.setdefault(sit.candidate_id, sitting_date(sit, zone))
            if sit.outcome == Outcome.passed:
                passed.setdefault(sit.candidate_id, sitting_date(sit, zone))
    rows = [{"candidate": e.candidate_id, "cohort": e.cohort, "eligible": e.eligible,
             "barriers": tuple(b.value for b in e.barriers), "sat": e.candidate_id in first,
             "training_ended_on": ended.get(e.candidate_id), "first_sat_on": first.get(e.candidate_id),
             "passed_on": passed.get(e.candidate_id)}
            for e in evaluate(s, policy, exam, ids, zone=zone)]
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
@dataclass(frozen=True)
class Figure:
    """A figure as the page shows it: ``alt`` says in a sentence or two what it shows (under ``ALT_MAX``
    characters); ``caption`` (never the alt again) names the table that holds its data, ``table`` (that
    table's name in the same section, linked from the caption)."""

    alt: str
    caption: str
    png: str  # base64
    table: str = ""


#: The longest alt text a figure gets: a screen reader reads it at once; the data are in the table it names.
ALT_MAX = 250


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def table_id(section: str, table: str) -> str:
    """The one name of a table: its CSV's file name (``tables/<id>.csv``) and its anchor in the HTML."""
    return "".join(ch if ch.isalnum() else "-" for ch in f"{section}-{table}".lower()).strip("-")[:80]


#: The tables the figures draw from (a figure's caption links to its table).
PASS_RATES = "Pass rate per cohort and form (decided sittings)"
TOTALS = "Totals per form"
BY_ATTEMPT = "Scores by attempt (share of the form's points)"
ITEMS = "Facility, discrimination, distractors and flags"
LENIENCY = "Leniency: each rater's mean score minus the decided score"
AGREEMENT = "Agreement per item and rater pair"
DRIFT = "Leniency by month (drift)"


def _rate(part: pd.Series, interval: bool = False) -> str:
    """"37 of 54 (69%)"; with ``interval``, Wilson's 95% interval too ("69%, 95% interval 56% to 79%")."""
    n = len(part)
    if n == 0:
        return "no candidates"
    passed = int((part == PASS).sum())
    lo, hi = pm.wilson(passed, n)
    within = f", 95% interval {pm.pct(lo)} to {pm.pct(hi)}" if interval and lo is not None and hi is not None else ""
    return f"{passed} of {n} ({pm.pct(passed / n)}{within})"


def _with_wilson(table: pd.DataFrame, passed: str = "passed", n: str = "candidates") -> pd.DataFrame:
    """The table with its pass rate's Wilson 95% interval (``pass_ci_low``, ``pass_ci_high``)."""
    cis = [pm.wilson(int(p), int(k)) for p, k in zip(table[passed], table[n], strict=True)]
    return table.assign(pass_ci_low=[lo for lo, _hi in cis], pass_ci_high=[hi for _lo, hi in cis])


def cohort_section(d: ReportData) -> Section:
    sec = Section("Cohort")
    r = d.results
    if r.empty:
        sec.text.append("No sittings in this window.")
        return sec
    decided = d.decided
    sec.text.append(f"{r.candidate.nunique()} candidate(s), {len(r)} sitting(s): "
                    + ", ".join(f"{n} {k}" for k, n in r.result.value_counts().sort_index().items()) + ".")
    provisional = int(decided.provisional.sum()) if "provisional" in decided else 0
    if provisional:  # key validation not closed: a key decision may still change them (``Result.provisional``)
        sec.text.append(f"{provisional} of the {len(decided)} pass or fail result(s) are provisional: key "
                        "validation is not closed yet, so a key decision may still change them.")
    on_paper = r[r["mode"] == "paper"] if "mode" in r else r.iloc[0:0]
    if len(on_paper):  # sat on paper and scanned (exam_builder.paper): told apart from online sittings
        decided_paper = on_paper[on_paper.result.isin((PASS, FAIL))].result
        need = d.thresholds.min_publish
        passed = (f"{_rate(decided_paper)} passed" if len(decided_paper) >= need else
                  f"too few decided to give a pass rate apart: n = {len(decided_paper)}; needs {need}")
        sec.text.append(f"Sat on paper: {len(on_paper)} sitting(s) ({passed}); "
                        f"online: {len(r) - len(on_paper)} sitting(s).")
    firsts = decided[decided.attempt == 1]
    sec.text.append(f"Pass rate on the first attempt: {_rate(firsts.result, interval=True)}; {eventually(d)} "
                    f"Tutoring: {d.tutoring} record(s), for {d.tutored} candidate(s).")
    by = decided.groupby(["cohort", "form"]).result.agg(
        candidates="size", passed=lambda x: int((x == PASS).sum())).reset_index()
    by["pass rate"] = by.passed / by.candidates
    th = d.thresholds  # a small group's rate with its interval (Wilson, as item facility) and the same caution
    cis = [pm.wilson(int(p), int(n)) for p, n in zip(by.passed, by.candidates, strict=True)]
    by["pass_ci_low"] = [lo for lo, _hi in cis]
    by["pass_ci_high"] = [hi for _lo, hi in cis]
    by["note"] = [str(pm.TooFew(int(n), th.min_publish)) if n < th.min_publish else pm.caution(int(n), th.min_stable)
                  for n in by.candidates]
    sec.tables.append((PASS_RATES, by))
    attempts = decided.groupby("attempt").result.agg(
        sittings="size", passed=lambda x: int((x == PASS).sum())).reset_index()
    attempts["pass rate"] = attempts.passed / attempts.sittings
    sec.tables.append(("Results by attempt", _with_wilson(attempts, n="sittings")))
    acc = pd.DataFrame({"accommodation": [str(a).replace("_", " ") for a in d.accommodations.index]
                        + ["extended time used", "scribe used"],
                        "candidates": [int(v) for v in d.accommodations.values]
                        + [int(r.extended_time.sum()), int(r.scribe.sum())]})
    sec.tables.append(("Accommodations (counts only)", acc))
    if not by.empty:
        sec.figures.append(_figure_bar(by, "Pass rate per cohort and form"))
    return sec


def eventually(d: ReportData) -> str:
    """"Eventually passed" over the candidates whose attempts are over only (censoring): a candidate who passed,
    or who failed as many attempts as the program allows (``max_attempts``, or today's standing says no attempts
    are left). Candidates who have not passed and may still sit are counted apart, never as fails."""
    decided = d.decided
    if decided.empty:
        return "eventually: no candidates."
    per = decided.groupby("candidate").agg(passed=("result", lambda x: bool((x == PASS).any())),
                                           attempts=("attempt", "max"))
    out_of = set()
    if not d.standing.empty:
        out_of = {c for c, b in zip(d.standing.candidate, d.standing.barriers, strict=True) if "no_attempts" in b}
    over = per.passed | per.index.isin(list(out_of))
    if d.max_attempts:
        over |= per.attempts >= d.max_attempts
    done = per[over]
    still = int((~over).sum())
    allowed = f"{d.max_attempts} attempts" if d.max_attempts else "the attempts allowed"
    if still and done.passed.all():  # nobody has failed out yet: "100%" would hold by construction, not by data
        return (f"eventually passed: not known yet (no candidate who has not passed has used all {allowed}; "
                f"{still} still within them; {len(done)} passed so far).")
    text = (f"eventually, among the candidates whose attempts are over: "
            f"{_rate(done.passed.map({True: PASS, False: FAIL}))}.")
    if still:
        text += (f" {still} candidate(s) who have not passed are still within {allowed} and are not counted "
                 "(their result is not known yet).")
    return text


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
                                          out_of=("max_total", "first")).reset_index()
    sec.tables.append((TOTALS, summary))
    order = list(d.competency_names)  # the policy's order, as ``results`` shows the competencies
    subs = sorted((c for c in decided.columns if c.startswith("sub:")),
                  key=lambda c: (order.index(c[4:]) if c[4:] in order else len(order), c))
    if subs:
        rows = []
        for form, part in decided.groupby("form"):
            for c in subs:
                got = pd.to_numeric(part[c], errors="coerce").dropna()
                lo, hi = pm.mean_ci(got) if len(got) > 1 else (None, None)
                rows.append({"form": form, "competency": d.competency(c[4:]), "n": len(got),
                             "mean_share": got.mean() if len(got) else None, "mean_ci_low": lo, "mean_ci_high": hi})
        sec.tables.append(("Mean share of points per competency", pd.DataFrame(rows)))
    sec.figures.append(_figure_hist(decided))
    share = decided.assign(share=decided.total / decided.max_total, passed=decided.result == PASS)
    by_attempt = share.groupby("attempt").agg(sittings=("share", "size"), mean_share=("share", "mean"),
                                              sd_share=("share", "std"), passed=("passed", "sum"),
                                              pass_rate=("passed", "mean")).reset_index()
    cis = [pm.mean_ci(share[share.attempt == a].share) if n > 1 else (None, None)
           for a, n in zip(by_attempt.attempt, by_attempt.sittings, strict=True)]
    by_attempt.insert(3, "mean_ci_low", [lo for lo, _hi in cis])
    by_attempt.insert(4, "mean_ci_high", [hi for _lo, hi in cis])
    sec.tables.append((BY_ATTEMPT, _with_wilson(by_attempt, n="sittings")))
    if share.attempt.nunique() > 1:
        sec.figures.append(_figure_attempts(share))
    return sec


#: The one rounding of every number the report shows (``psychometrics.show``).
fmt = pm.show


def _interval(lo, hi) -> str:
    return "" if lo is None or hi is None else f"{fmt(lo)} to {fmt(hi)}"


def _rel_row(label: str, rel: pm.Reliability) -> dict:
    lo, hi = rel.band or (None, None)
    return {"form": label, "n": rel.n, "k": rel.k, "mean": rel.mean, "sd": rel.sd,
            "alpha": rel.alpha, "alpha_ci": _interval(*(rel.alpha_ci or (None, None))), "alpha_name": rel.alpha_name,
            "sem": rel.sem, "sem_ci": _interval(*(rel.sem_ci or (None, None))), "cut": rel.cut,
            "csem_at_cut": rel.csem_at_cut, "csem_ci": _interval(*(rel.csem_ci or (None, None))),
            "band": _interval(lo, hi), "within_band": rel.within_band,
            "effective_length": rel.effective_length,
            "length_used": _length_used(rel.length),
            "note": "; ".join([*([rel.caution] if rel.caution else []), *rel.notes])}


def _plain_reading(label: str, rel: pm.Reliability) -> str:
    """One form's reliability and decision consistency read in words a coordinator can repeat (walk finding 11);
    every number is the table's."""
    out = [f"Form {label} ({rel.n} candidates):"]
    if rel.alpha is not None:
        ci = f" (95% interval {fmt(rel.alpha_ci[0])} to {fmt(rel.alpha_ci[1])})" if rel.alpha_ci else ""
        out.append(f"a reliability of {fmt(rel.alpha)}{ci} means about {pm.pct(max(rel.alpha, 0.0))} of the spread "
                   "of its scores is real difference between candidates and the rest is chance.")
    if rel.sem is not None:
        out.append(f"A candidate's score would typically move by about {fmt(rel.sem)} points on another sitting of "
                   "a like form" + (f", by about {fmt(rel.csem_at_cut)} near the cut" if rel.csem_at_cut else "")
                   + ".")
    if rel.within_band is not None and rel.band is not None:
        out.append(f"{rel.within_band} of the {rel.n} scored between {fmt(rel.band[0])} and {fmt(rel.band[1])} "
                   "points, close enough to the cut that their pass or fail could have gone the other way.")
    same = next((c for c in rel.classifications if c.method == "Subkoviak" and c.p0 is not None), None)
    acc = [c.accuracy for c in rel.classifications if c.accuracy is not None]
    if same is not None and same.p0 is not None:
        out.append(f"About {round(100 * same.p0)} in 100 candidates like these would get the same pass or fail on a "
                   "second form" + (f", and about {_span(acc)} in 100 got the result their true ability "
                                    "deserves" if acc else "") + ".")
    return " ".join(out)


def _span(shares: list[float]) -> str:
    """"86 to 92" (in 100) from the methods' figures; one number when they agree to the whole."""
    lo, hi = round(100 * min(shares)), round(100 * max(shares))
    return str(lo) if lo == hi else f"{lo} to {hi}"


def _length_used(length: pm.ModelLength | None) -> str:
    """The length the models used, and "clamped" where the rule moved the estimate to a bound."""
    if length is None or length.used is None:
        return "not defined"
    return f"{length.used} (clamped: estimate {length.clamped})" if length.clamped else str(length.used)


#: What a method does not give (Subkoviak's gives no accuracy, Rudner's no consistency), said in the cell.
NOT_GIVEN = "not given by this method"


def _class_rows(label: str, classes: list[pm.Classification], length: int | None, cut: int | None,
                max_total: float | None = None, points_cut: float | None = None,
                intervals: dict[str, dict[str, tuple[float, float]]] | None = None) -> list[dict]:
    """A row per method, each figure with its bootstrap interval (``intervals``: method -> figure -> (low, high)).
    The cut each model used is in points, one unit for every row: the binomial models' whole cut on the test
    length (``cut`` of ``length``) put back on the form's ``max_total`` points, Rudner's the cut in points,
    ``points_cut``, as it compares each score with it."""
    pooled = length is None
    intervals = intervals or {}

    def model_cut(c: pm.Classification):
        if pooled:
            return "each form's own"
        if c.method == pm.RUDNER or cut is None or not length or max_total is None:
            return points_cut
        return cut * max_total / length

    def figures(c: pm.Classification) -> dict:
        own = intervals.get(c.method, {})
        out: dict[str, object] = {}
        for name in pm.CLASSIFICATION_FIELDS:
            given = getattr(c, name) is not None
            out[name] = getattr(c, name) if given else NOT_GIVEN
            out[f"{name}_ci"] = (NOT_GIVEN if not given else _interval(*own[name]) if name in own
                                 else "none for pooled rows" if pooled else "")
        return out

    return [{"form": label, "method": c.method, **figures(c),
             "length": "each form's own" if pooled else length, "model_cut": model_cut(c)}
            for c in classes]


def reliability_section(d: ReportData) -> Section:
    """Per form and pooled over forms: reliability with its interval, SEM, CSEM at the cut, the candidates near
    the cut, decision consistency and accuracy by two methods each; with and without sittings flagged as cut short."""
    th = d.thresholds
    sec = Section("Reliability and decision consistency")
    rows, classes, cautions, lengths = [], [], [], []
    plain: list[str] = []
    flagged = set(flagged_sittings(d).sitting)
    for f in d.forms:
        scored = f.scores.dropna()
        rel = pm.reliability(scored, f.max_points, f.cut, min_n=th.min_publish, stable=th.min_stable)
        if isinstance(rel, pm.TooFew):
            rows.append({"form": f.label, "n": rel.n, "note": str(rel)})
            continue
        rows.append(_rel_row(f.label, rel))
        plain.append(_plain_reading(f.label, rel))
        classes += _class_rows(f.label, rel.classifications, rel.model_length, rel.model_cut, rel.max_points,
                               rel.cut, pm.classification_intervals(scored, f.max_points, f.cut))
        if rel.length is not None:
            on_length = (f" The binomial models pass from {rel.model_cut} of those {rel.model_length}, "
                         f"{fmt(rel.model_cut * rel.max_points / rel.model_length)} of the form's "
                         f"{pm.whole(rel.max_points)} points (the cut of {fmt(rel.cut)} points, rounded up on that "
                         "length)" if rel.model_cut is not None and rel.model_length else "")
            lengths.append(f"Form {f.label}: {rel.length.sentence}.{on_length}.")
        if rel.caution:
            cautions.append(f.label)
        cut_short = scored.index.intersection(list(flagged))
        if len(cut_short):
            without = pm.reliability(scored.drop(cut_short), f.max_points, f.cut, min_n=th.min_publish,
                                     stable=th.min_stable)
            label = f"{f.label} without {len(cut_short)} flagged sitting(s)"
            rows.append({"form": label, "n": without.n, "note": str(without)} if isinstance(without, pm.TooFew)
                        else _rel_row(label, without))
    pooled = pm.pooled_reliability([(f.scores.dropna(), f.max_points, f.cut) for f in d.forms],
                                   min_n=th.min_publish, stable=th.min_stable) if len(d.forms) > 1 else None
    if isinstance(pooled, pm.Pooled):
        rows.append({"form": f"all {pooled.forms} forms pooled", "n": pooled.n, "alpha": pooled.alpha,
                     "alpha_ci": _interval(*(pooled.alpha_ci or (None, None))), "sem": pooled.sem,
                     "note": "; ".join(x for x in (pooled.caution, "interval by a stratified bootstrap") if x)})
        classes += _class_rows(f"all {pooled.forms} forms pooled", pooled.classifications, None, None)
    elif isinstance(pooled, pm.TooFew):
        rows.append({"form": "all forms pooled", "n": pooled.n, "note": str(pooled)})
    sec.tables.append(("Per form", pd.DataFrame(rows, columns=["form", "n", "k", "mean", "sd", "alpha_name", "alpha",
                                                               "alpha_ci", "sem", "sem_ci", "cut", "csem_at_cut",
                                                               "csem_ci", "band",
                                                               "within_band", "effective_length", "length_used",
                                                               "note"])))
    if classes:
        sec.tables.append(("Decision consistency and accuracy", pd.DataFrame(classes)))
    if plain:
        sec.text.append("In plain words, for each form: " + " ".join(plain))
        sec.text.append("How the figures are computed, for the accreditor:")
    sec.text.append(
        "Reliability is coefficient alpha (KR-20 when every item is scored right or wrong), with Feldt's 95% "
        "interval. The SEM (standard error of measurement) is the standard deviation times the square root of 1 "
        "minus the reliability. The conditional SEM at the cut is the error at the cut score by Lord's binomial "
        "error model (on the test length used, below, when items are worth more than one point); "
        "candidates within 1.96 conditional SEMs of the cut could have fallen on the other side of it on another "
        "form.")
    sec.text.append(
        "Decision consistency (p0: the share who would get the same pass or fail on a second form; kappa: the "
        "same beyond chance) is estimated from one sitting by two methods: Subkoviak's (1976), regressing each "
        "candidate's true score and using binomial errors, and the beta-binomial model of Huynh (1976) and "
        "Livingston and Lewis (1995), which also gives the accuracy (the share classified as their true score "
        "would be) and the false passes and false fails. Both use the test length used (below) and the cut on it; "
        "KR-21 for right-or-wrong items, else alpha. Accuracy is also estimated by a second method, Rudner's "
        "(2001, 2005), which needs no model of the true scores: each candidate's true score is taken as normal "
        "around their score, with the conditional SEM at their score (Lord's, as at the cut) as its spread, and "
        "the chance it lies on the other side of the cut (in points, as scored) from their result is averaged over "
        "the candidates. It "
        "tends to read a little high in small groups, so where the two differ the lower is the cautious reading.")
    if len(d.forms) > 1:
        sec.text.append(
            "Pooled over forms (built to one blueprint and handed out in rotation): reliability is the share of the "
            "score variance within forms that is true variance (each form's error and score variances weighted by "
            "its candidates less one), with a bootstrap interval; decision consistency and accuracy are each form's "
            "weighted by its candidates.")
    if classes:
        sec.text.append(
            "Test length: the binomial models (the conditional SEM, which Rudner's accuracy also uses, and both "
            "consistency methods) count the form as a "
            "number of right-or-wrong items. For a form whose items are not all right or wrong that is the "
            "effective test length, the number of right-or-wrong, equally hard, independent items that would give "
            "its scores the same reliability, ((mean - lowest) x (points - mean) - r x variance) / (variance x "
            "(1 - r)) with r the form's alpha and the lowest possible score 0 (Livingston & Lewis 1995), rounded to "
            "a whole number; it is clamped to "
            f"{pm.MIN_MODEL_LENGTH} when below {pm.MIN_MODEL_LENGTH} (the fewest the binomial model takes) and to "
            "the form's points when above them (one-point items cannot outnumber the points; Hanson & Brennan 1990 "
            "use that length for that many right-or-wrong items), as happens when a small group's alpha and score "
            "variance run high. " + " ".join(lengths))
        sec.text.append(
            "Classification accuracy (the share whose pass or fail matches their true score), false passes and "
            "false fails come from two methods, the beta-binomial model and Rudner's, each in its own row; "
            "Subkoviak's method gives consistency only and Rudner's accuracy only, and their rows say \"not given by "
            "this method\" in the cells they leave. Each figure's 95% interval is a bootstrap over candidates "
            f"({pm.CLASSIFICATION_REPLICATES} draws with replacement, the test length and reliability estimated "
            "again on each), so it carries the small group's uncertainty; the pooled rows have none. The cut each "
            "model used is in points: the binomial models' whole cut on the test length put back on the form's "
            "points, Rudner's the cut itself.")
    if cautions:
        sec.text.append(f"Warning: form(s) {', '.join(cautions)} have fewer than {th.min_stable} fully scored "
                        "candidates. Their figures are published with wide intervals: read each with its interval, "
                        "and the pooled figures first.")
    return sec


def items_section(d: ReportData) -> Section:
    th = d.thresholds
    sec = Section("Items")
    frames = []
    for f in d.forms:
        scored = f.scores.dropna()
        if len(scored) < th.min_publish:
            sec.text.append(f"Form {f.label}: {pm.TooFew(len(scored), th.min_publish)}.")
            continue
        if len(scored) < th.min_stable:
            sec.text.append(f"Form {f.label}: {pm.caution(len(scored), th.min_stable)}; its flags are marked as a "
                            "small sample's.")
        stats = pm.item_stats(scored, f.max_points, f.choices.loc[scored.index], f.keys, min_n=th.min_publish,
                              stable=th.min_stable, options=f.options or None,
                              min_choosers=th.distractor_min_choosers)
        stats = stats.rename(columns={"item": "number"})  # item_stats names items by the form's column (number)
        stats.insert(1, "item", [f.item_ids.get(n, n) for n in stats.number])
        stats.insert(0, "form", f.label)
        frames.append(stats)
    if frames:
        table = pd.concat(frames, ignore_index=True)
        sec.text.append("Facility is the share of the item's points candidates earned (95% interval: Wilson's for "
                        "items scored right or wrong, else a t interval); discrimination is the correlation of the "
                        "item with the rest of the form (95% interval by Fisher's z). A distractor (a wrong option) is "
                        "flagged as chosen more by strong candidates only when at least "
                        f"{th.distractor_min_choosers} candidates chose it (c.ReportSettings.distractor_min_choosers); "
                        "an item with one distractor (true/false) whose discrimination is negative gets that one "
                        "flag, since its distractor drawing strong candidates is the same fact. Options an item does "
                        "not offer are left empty.")
        sec.tables.append((ITEMS, table))
        sec.figures.append(_figure_items(table))
        shared = table.groupby("item").form.nunique()
        shared = shared[shared > 1].index
        if len(shared):
            cols = [c for c in ("facility", "discrimination") if c in table.columns]
            sec.tables.append(("Items shared between forms", table[table.item.isin(shared)][["item", "form", *cols]]))
    return sec


def raters_section(d: ReportData) -> Section:
    th = d.thresholds
    sec = Section("Raters")
    if d.ratings.empty:
        sec.text.append("No ratings in this window.")
        return sec
    agreement = pm.rater_agreement(d.ratings, min_n=th.min_publish, stable=th.min_stable, pool=True)
    sec.tables.append((AGREEMENT, agreement))
    pooled = agreement[agreement["item"] == "(all items)"]
    if len(pooled):
        p = pooled.iloc[0]
        kappa = f", quadratic-weighted kappa {fmt(p.qwk)}" if pd.notna(p.qwk) else ""
        sec.text.append(f"Pooled over every item ({int(p.n)} double-rated responses): exact agreement "
                        f"{fmt(p.exact)}, within one level {fmt(p.adjacent)}{kappa}, intraclass correlation "
                        f"{fmt(p.icc)} (95% interval {_interval(p.icc_ci_low, p.icc_ci_high)}); "
                        f"{int(p.adjudicated)} of {int(p.n_responses)} responses went to adjudication."
                        + (f" {p.note}." if p.note else ""))
    leniency = pm.rater_leniency(d.ratings, min_n=th.min_publish, stable=th.min_stable)
    sec.tables.append((LENIENCY, leniency))
    if leniency.leniency.notna().any():
        sec.figures.append(_figure_leniency(leniency))
    dated = d.ratings.dropna(subset=["at"]).assign(month=lambda r: pd.to_datetime(r["at"]).dt.strftime("%Y-%m"))
    if dated.month.nunique() > 1:  # drift shows only across months
        sec.tables.append((DRIFT, pm.rater_leniency(dated, by="month", min_n=th.min_publish, stable=th.min_stable)))
    return sec


def comparability_section(d: ReportData) -> Section:
    th = d.thresholds
    sec = Section("Form comparability")
    decided = d.decided
    if decided.empty:
        sec.text.append("No fully scored sittings yet.")
        return sec
    totals = pd.DataFrame({"form": decided.form, "total": decided.total, "max_points": decided.max_total,
                           "passed": decided.result == PASS})
    per_form = pm.form_comparison(totals, {f.label: f.cut for f in d.forms}, min_n=th.min_publish,
                                  stable=th.min_stable)
    sec.tables.append(("Mean and pass rate per form, with 95% intervals", per_form))
    rated = per_form.dropna(subset=["pass_rate", "pass_ci_low", "pass_ci_high"])
    if len(rated) > 1:
        apart = [(x.form, y.form) for i, x in enumerate(rated.itertuples()) for y in list(rated.itertuples())[i + 1:]
                 if x.pass_ci_high < y.pass_ci_low or y.pass_ci_high < x.pass_ci_low]
        rates = "; ".join(f"form {r.form} {pm.pct(r.pass_rate)} ({pm.pct(r.pass_ci_low)} to {pm.pct(r.pass_ci_high)})"
                          for r in rated.itertuples())
        sec.text.append(f"Pass rates per form, with 95% intervals: {rates}. " + (
            "The intervals of " + ", ".join(f"forms {x} and {y}" for x, y in apart) + " do not overlap: their pass "
            "rates differ." if apart else
            "Their intervals overlap, so these groups do not show the forms' pass rates to differ; the means, "
            "below, are the more sensitive comparison."))
    groups = random_groups_rows(d)
    if groups:
        sec.tables.append(("Forms as randomly equivalent groups: difference and equivalence test",
                           pd.DataFrame(groups)))
        sec.text.append(
            f"Forms are handed out in rotation, so the groups that sit them are randomly equivalent and a difference "
            f"in their means is a difference between the forms. Each pair is tested for equivalence (two one-sided "
            f"tests, TOST) against a margin of {pm.pct(th.equivalence_margin)} of the form's points: equivalent "
            f"forms' scores are used as they are (identity equating); a difference shown would call for "
            f"random-groups mean equating.")
    rows = equating_rows(d.forms, th, d.competency_names)
    if rows:
        sec.tables.append(("Equating check through the items the forms share", pd.DataFrame(rows)))
        sec.text.append(
            f"Equating through shared items (nominal-weights mean equating) is used only when the shared items are "
            f"at least {pm.pct(th.anchor_min_share)} of each form's points and cover every competency of the "
            f"forms; otherwise the table says why not, and the random-groups comparison above is the one to read.")
    elif len(d.forms) > 1:
        sec.text.append("The forms share no items, so no anchor equating is possible.")
    return sec


def random_groups_rows(d: ReportData) -> list[dict]:
    """One row per pair of forms: the random-groups difference and the TOST reading."""
    th = d.thresholds
    decided = d.decided
    rows = []
    forms = sorted(decided.form.unique(), key=str) if not decided.empty else []
    for i, a in enumerate(forms):
        for b in forms[i + 1:]:
            ga, gb = decided[decided.form == a], decided[decided.form == b]
            row: dict[str, object] = {"forms": f"{a} and {b}", "n": f"{len(ga)} and {len(gb)}"}
            diff = pm.random_groups(ga.total, gb.total, float(ga.max_total.iloc[0]), float(gb.max_total.iloc[0]), a, b,
                                    th.equivalence_margin, th.min_publish, th.min_stable)
            if isinstance(diff, pm.TooFew):
                rows.append({**row, "reading": str(diff)})
                continue
            lo90, hi90 = diff.ci90
            differ = not diff.equivalent and (lo90 > 0 or hi90 < 0)
            rows.append({**row, "scale": diff.scale, "difference": diff.difference,
                         "ci90": _interval(*diff.ci90), "margin": f"-{fmt(diff.margin)} to {fmt(diff.margin)}",
                         "p_tost": diff.p_tost,
                         "reading": diff.reading + (f"; {_what_the_program_does(d, a, b)}" if differ else "")
                         + (f" ({diff.caution})" if diff.caution else "")})
    return rows


def _what_the_program_does(d: ReportData, a: str, b: str) -> str:
    """What the program does about two forms that differ: the per-form cuts from the standard-setting study, when
    the forms have them (re-cut, or built after the decision), else what would give them."""
    t = d.cut_trace
    cut = {f.label: f.cut for f in d.forms}
    own = set()
    if t is not None and t.decision is not None:
        own = {r["form"] for r in t.recuts} | {f["form"] for f in t.forms if f["built_after_decision"]}
    cuts = f"form {a}: {fmt(cut.get(a))} points, form {b}: {fmt(cut.get(b))}"
    if {a, b} <= own:
        return (f"the program does not equate the scores: each form has its own cut from the standard-setting study "
                f"({cuts}), set from the panel's ratings of its own items, which is how a harder form passes with "
                "fewer points at the same standard")
    return (f"the forms' cuts ({cuts}) were not both set from a standard-setting study, so nothing yet allows for the "
            "difference: a study's decision gives each form its own cut (standard recut)")


def equating_rows(forms: list[FormData], th: pm.Thresholds | None = None,
                  names: dict[str, str] | None = None) -> list[dict]:
    """One row per pair of forms that share items: the mean-equating constant and what it says, when the shared
    items make an anchor (``psychometrics.anchor_adequate``); else why they do not."""
    th = th or pm.Thresholds()
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
            name = names or {}
            ok, why = pm.anchor_adequate(float(a.max_points[cols_a].sum()), a.max_total, b.max_total,
                                         {name.get(a.competencies[n], a.competencies[n]) for n in cols_a
                                          if n in a.competencies},
                                         {name.get(c, c) for c in a.competencies.values()},
                                         {name.get(c, c) for c in b.competencies.values()}, th.anchor_min_share)
            if not ok:
                rows.append({**row, "constant": None, "95% interval": "", "reading": why})
                continue
            eq = pm.mean_equating(sa[cols_a], sb[cols_b], sa.sum(axis=1), sb.sum(axis=1), max_a=a.max_total,
                                  max_b=b.max_total, max_common=float(a.max_points[cols_a].sum()))
            if isinstance(eq, pm.TooFew):
                rows.append({**row, "constant": None, "95% interval": "", "reading": str(eq)})
                continue
            low, high = eq.constant_ci or (math.nan, math.nan)
            if low <= 0 <= high:
                reading = "no evidence of a difference in difficulty"
            else:
                reading = (f"form {a.label} reads harder by about {fmt(abs(eq.constant))} points" if eq.constant > 0
                           else f"form {a.label} reads easier by about {fmt(abs(eq.constant))} points")
            rows.append({**row, "constant": round(eq.constant, DECIMALS), "95% interval": _interval(low, high),
                         "reading": reading})
    return rows


def flagged_sittings(d: ReportData) -> pd.DataFrame:
    """Sittings submitted at their deadline (within a minute of it, or after) with more than
    ``deadline_blank_share`` of their answers blank: time ran out, or the candidate left."""
    r = d.results
    cols = ["sitting", "candidate", "form", "answered", "items", "time_used_minutes"]
    if r.empty or "deadline" not in r.columns:
        return pd.DataFrame(columns=cols)
    out = []
    answered = {sid: (int(row.sum()), len(row)) for f in d.forms if not f.answered.empty
                for sid, row in f.answered.iterrows()}
    for row in r.itertuples():
        if row.sitting not in answered or row.deadline is None or pd.isna(row.deadline) \
                or row.submitted_at is None or pd.isna(row.submitted_at):
            continue
        got, items = answered[row.sitting]
        at_deadline = row.submitted_at >= row.deadline - dt.timedelta(minutes=1)
        if at_deadline and items and (items - got) / items > d.thresholds.deadline_blank_share:
            out.append({"sitting": row.sitting, "candidate": row.candidate, "form": row.form, "answered": got,
                        "items": items, "time_used_minutes": _whole_minutes(_minutes_used(row))})
    return pd.DataFrame(out, columns=cols)


#: A sitting whose app clock ran under this many minutes from start to submit (less pauses) has no time a
#: candidate spent answering: it was scripted (the demo's candidates answer in milliseconds) or entered after the
#: fact, so its time is "not recorded", never a median of 0 minutes.
MIN_RECORDED_MINUTES = 1.0
#: What a time cell says when no sitting of the form has one.
NOT_RECORDED = "not recorded"


def _minutes_used(row) -> float | None:
    """Minutes from start to submit less paused time; None on paper (no clock is kept there) and under
    ``MIN_RECORDED_MINUTES`` (no answering time was recorded)."""
    mode = row.get("mode", "online") if isinstance(row, pd.Series) else getattr(row, "mode", "online")
    if mode == "paper":  # a Series row's ``.mode`` is pandas' method, never the column: read it by name
        return None
    if row.started_at is None or pd.isna(row.started_at) or row.submitted_at is None or pd.isna(row.submitted_at):
        return None
    used = max(0.0, (row.submitted_at - row.started_at).total_seconds() - float(row.paused_seconds or 0)) / 60
    return used if used >= MIN_RECORDED_MINUTES else None


def _whole_minutes(minutes: float | None) -> int | None:
    """Minutes as the report shows them: whole minutes (a clock of a 3-hour exam is read in minutes, not
    in hundredths of one)."""
    return None if minutes is None or pd.isna(minutes) else int(round(float(minutes)))


def answers_section(d: ReportData) -> Section:
    """What the answers already tell: omitted and not-reached items per form and per item, the time used, and
    sittings submitted at the deadline with most answers blank."""
    sec = Section("Answers and time")
    forms = [f for f in d.forms if not f.answered.empty]
    if not forms:
        sec.text.append("No submitted sittings in this window.")
        return sec
    sec.text.append("An item is omitted when it is blank but the candidate answered a later item; not reached when "
                    "it is blank and every item after it is blank too (the candidate stopped there or ran out of "
                    "time). Minutes used are from the exam app's clock, less pauses, over the sittings it timed: "
                    "sittings on paper have no clock, and a sitting submitted under "
                    f"{pm.whole(MIN_RECORDED_MINUTES)} minute after its start has no answering time recorded "
                    "(scripted, as the demo's candidates are, or entered after the fact); both are left out, and "
                    f"a form with no timed sitting reads \"{NOT_RECORDED}\".")
    per_form, per_item = [], []
    for f in forms:
        ans = f.answered.to_numpy(bool)
        later = np.flip(np.cumsum(np.flip(ans, axis=1), axis=1), axis=1)  # answers at or after each item
        reached_later = np.c_[later[:, 1:], np.zeros((len(ans), 1))] > 0
        omitted = ~ans & reached_later
        not_reached = ~ans & ~reached_later
        used = d.results[d.results.sitting.isin(f.answered.index)].apply(_minutes_used, axis=1) \
            if "started_at" in d.results.columns else pd.Series(dtype=float)
        used = pd.to_numeric(used, errors="coerce").dropna()
        per_form.append({"form": f.label, "sittings": len(ans), "items": ans.shape[1],
                         "omitted": int(omitted.sum()), "not_reached": int(not_reached.sum()),
                         "sittings_not_reaching_the_end": int(not_reached.any(axis=1).sum()),
                         "timed": len(used),
                         "median_minutes": _whole_minutes(used.median()) if len(used) else NOT_RECORDED,
                         "longest_minutes": _whole_minutes(used.max()) if len(used) else NOT_RECORDED})
        for j, number in enumerate(f.answered.columns):
            if omitted[:, j].any() or not_reached[:, j].any():
                per_item.append({"form": f.label, "number": number, "item": f.item_ids.get(number, number),
                                 "omitted": int(omitted[:, j].sum()), "not_reached": int(not_reached[:, j].sum()),
                                 "sittings": len(ans)})
    sec.tables.append(("Omitted and not-reached answers, and time used, per form", pd.DataFrame(per_form)))
    if per_item:
        sec.tables.append(("Items left blank (omitted or not reached)", pd.DataFrame(per_item)))
    flagged = flagged_sittings(d)
    if flagged.empty:
        sec.text.append("No sitting was submitted at its deadline with most of its answers blank.")
    else:
        sec.text.append(f"{len(flagged)} sitting(s) were submitted at the deadline with more than "
                        f"{pm.pct(d.thresholds.deadline_blank_share)} of the answers blank (flagged below). The "
                        "reliability table shows each form's figures with and without them.")
        sec.tables.append(("Flagged: submitted at the deadline with most answers blank", flagged))
    return sec


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    """The table with every float rounded once to ``DECIMALS`` places (HTML, CSV and JSON show the same number)."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(DECIMALS) + 0.0
        elif out[col].dtype == object:
            out[col] = [round(v, DECIMALS) + 0.0 if isinstance(v, float) and math.isfinite(v) else v for v in out[col]]
    return out


def appeals_section(course, exam: str, since: dt.date | None, until: dt.date | None) -> Section:
    """Appeals (issue 26): counts by category and decision, time to decision (``analysis.keys.appeals_tables``)."""
    from .keys import appeals_tables

    text, tables = appeals_tables(course, exam, since, until)
    return Section("Appeals", text, tables)


def sections(d: ReportData) -> list[Section]:
    secs = _sections(d)
    for sec in secs:
        sec.tables = [(name, _rounded(df)) for name, df in sec.tables]
    return secs


CUT_TABLE = "Each form's cut and where it came from"


def cut_section(d: ReportData) -> Section:
    """How the cut was set (walk finding 11): the study, the decision in force, each form's cut and where it came
    from, the re-cuts and the key decisions, so the board can trace every pass mark the report uses."""
    sec = Section("How the cut was set")
    t = d.cut_trace
    if t is None:
        sec.text.append("Where the cuts came from was not read for this report.")
        return sec
    studies = {sid: (title, method) for sid, title, method in t.studies}
    dec = t.decision
    if dec is not None:
        title, method = studies.get(dec["study"], ("", ""))
        named = f"study {dec['study']}" + (f", \"{title}\"" if title else "") + (f" ({method})" if method else "")
        sec.text.append(
            f"The standard in force is the board's decision {dec['id']} on {named}: decided on {dec['on']} by "
            f"{dec['by']} (recorded by {dec['recorded_by']}, {dec['recorded']}), adopting {pm.pct(dec['adopted'])} "
            f"of the points of the items the panel rated; the panel recommended {pm.pct(dec['recommended'])} after "
            f"round {dec['round']}." + (f" The board's reason: {dec['reason'].rstrip('.')}." if dec["reason"] else "")
            + " Each form takes its own cut in points from that standard: the panel's ratings of the form's own "
            "items, so a harder form needs fewer points and the standard stays the same.")
    elif t.studies:
        sec.text.append(f"{len(t.studies)} standard-setting study(ies) recorded, but no decision of the board yet: "
                        "each form keeps the cut frozen when it was built.")
    else:
        sec.text.append("No standard-setting study is recorded for this exam: each form's cut is the one frozen "
                        "when it was built (from the blueprint).")
    recut_of: dict[str, dict] = {}
    for r in t.recuts:
        recut_of[r["form"]] = r  # the newest re-cut of each form is its cut
    rows = []
    for f in t.forms:
        last = recut_of.get(f["form"])
        if last is not None:
            source = (f"re-cut on {last['at']} by {last['by']}" + (f" from decision {last['decision']}"
                                                                    if last["decision"] else "")
                      + f" (was {fmt(last['previous'])})")
        elif f["built_after_decision"] and dec is not None:
            source = f"set when the form was built on {f['built']}, after decision {dec['id']}"
        else:
            source = f"frozen when the form was built on {f['built']}" + (
                " (before the decision in force; not re-cut)" if dec is not None else "")
        rows.append({"form": f["form"], "cut": f["cut"], "out_of": f["points"], "source": source})
    if rows:
        sec.tables.append((CUT_TABLE, pd.DataFrame(rows)))
    if t.recuts:
        sec.tables.append(("Re-cuts, oldest first", pd.DataFrame(
            [{"form": r["form"], "from": r["previous"], "to": r["cut"], "decision": r["decision"], "by": r["by"],
              "on": r["at"], "reason": r["reason"]} for r in t.recuts])))
    if t.keys:
        sec.text.append(f"{len(t.keys)} key decision(s) changed how items are scored after the exam (key "
                        "validation); every total and result in this report reads them.")
        sec.tables.append(("Key decisions, oldest first", pd.DataFrame(
            [{"item": k["item"], "decision": k["action"], "by": k["by"], "on": k["at"],
              "applied": k["applied"] or "not applied yet", "reason": k["reason"]} for k in t.keys])))
    else:
        sec.text.append("No key decision has been recorded: every item is scored with the key it was built with.")
    sec.text.append(f"Key validation closed {t.closed[0]} by {t.closed[1]}: results of sittings submitted before then "
                    "are final." if t.closed else
                    "Key validation is not closed: the results are provisional until it is.")
    return sec


def _sections(d: ReportData) -> list[Section]:
    return [cohort_section(d), cut_section(d), standing_section(d), scores_section(d), reliability_section(d),
            items_section(d), raters_section(d), comparability_section(d), answers_section(d)]


# -- figures ------------------------------------------------------------------------------------------
def hist_bins(max_totals) -> np.ndarray:
    """One set of bin edges for every form of a set: from 0 to the largest form's points, in whole-point steps
    (wider, still whole, when the form has more than 40 points), so the forms' histograms read side by side."""
    top = float(max(max_totals))
    width = max(1, math.ceil(top / 40))
    return np.arange(0, top + width, width, dtype=float)


def _figure_hist(decided: pd.DataFrame) -> Figure:
    plt = _plt()
    forms = sorted(decided.form.unique())
    edges = hist_bins(decided.max_total.astype(float))
    fig, axes = plt.subplots(1, len(forms), figsize=(4 * len(forms), 3), squeeze=False, sharey=True, sharex=True)
    for ax, form in zip(axes[0], forms, strict=False):
        part = decided[decided.form == form]
        ax.hist(part.total.astype(float), bins=edges, color="#0b4f8a", edgecolor="white")
        ax.set_xlim(edges[0], edges[-1])
        cut = float(part.cut.iloc[0])
        ax.axvline(cut, color="#a11d1d", linewidth=2, linestyle="--", label=f"cut {fmt(cut)}")
        ax.set_title(f"Form {form} (n = {len(part)})")
        ax.set_xlabel(f"total points (of {pm.whole(float(part.max_total.iloc[0]))})")
        ax.legend()
    axes[0][0].set_ylabel("candidates")
    alt = (f"Histograms of the total scores, one per form ({len(forms)}), on the same bins, each with its cut "
           "score marked by a dashed line.")
    caption = (f"Score distribution per form, every form on the same bins of {pm.whole(edges[1] - edges[0])} "
               f"point(s) from 0 to {pm.whole(edges[-1])}: ") + "; ".join(
        f"form {f}: n = {int((decided.form == f).sum())}, mean {fmt(decided[decided.form == f].total.mean())}, "
        f"cut {fmt(float(decided[decided.form == f].cut.iloc[0]))}" for f in forms) + "."
    return Figure(alt, caption, _png(fig), TOTALS)


def _figure_attempts(share: pd.DataFrame) -> Figure:
    """Scores (share of the form's points) by attempt, with each form's cut as a share."""
    plt = _plt()
    attempts = sorted(share.attempt.unique())
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(attempts) + 2), 3))
    ax.boxplot([share[share.attempt == a].share.astype(float) for a in attempts],
               tick_labels=[str(a) for a in attempts])
    cuts = sorted({round(c / m, DECIMALS) for c, m in zip(share.cut, share.max_total, strict=True)})
    for c in cuts:
        ax.axhline(c, color="#a11d1d", linestyle="--", linewidth=1.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel("attempt")
    ax.set_ylabel("share of the points")
    ax.set_title("Scores by attempt (dashed: the cut)")
    alt = (f"Box plots of the scores, as a share of the form's points, for each of {len(attempts)} attempts, with "
           "the cut as a dashed line.")
    caption = "Scores by attempt, with the cut at " + ", ".join(pm.pct(c) for c in cuts) \
        + ": " + "; ".join(f"attempt {a}: n = {int((share.attempt == a).sum())}, median "
                           f"{pm.pct(share[share.attempt == a].share.median())}" for a in attempts) + "."
    return Figure(alt, caption, _png(fig), BY_ATTEMPT)


def _figure_leniency(leniency: pd.DataFrame) -> Figure:
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
    alt = (f"Dot plot of each of {len(rows)} raters' leniency, in points above or below the decided score, with "
           "its 95% interval and a line at no difference.")
    caption = "Rater leniency: " + "; ".join(f"{r.rater}: {'+' if r.leniency > 0 else ''}{fmt(r.leniency)} points "
                                             f"(n = {int(r.n)})"
                                             for r in rows.itertuples()) + "."
    return Figure(alt, caption, _png(fig), LENIENCY)


def _figure_items(table: pd.DataFrame) -> Figure:
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
    alt = (f"Scatter plot of facility against discrimination for {len(table)} items: {int(flagged.sum())} flagged "
           "items drawn as crosses, the others as dots.")
    kinds: dict[str, int] = {}
    for flags in table.loc[flagged, "flags"].astype(str):
        for one in flags.split("; "):
            kind = one.split(" (small sample")[0]
            kind = "a distractor chosen more by strong candidates" if kind.startswith("distractor") else kind
            kinds[kind] = kinds.get(kind, 0) + 1
    caption = (f"Items: facility and discrimination. {int(flagged.sum())} of {len(table)} items flagged"
               + (" (" + "; ".join(f"{k}: {v}" for k, v in sorted(kinds.items())) + ")" if kinds else "")
               + ".")
    return Figure(alt, caption, _png(fig), ITEMS)


def _figure_bar(by: pd.DataFrame, title: str) -> Figure:
    plt = _plt()
    labels = [f"{c or '(no cohort)'} / {f}" for c, f in zip(by.cohort, by.form, strict=True)]
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(labels) + 2), 3))
    rate = by["pass rate"].astype(float)
    low = (rate - by.pass_ci_low.astype(float)).clip(lower=0)
    high = (by.pass_ci_high.astype(float) - rate).clip(lower=0)
    ax.bar(labels, rate, color="#1d6b31", yerr=[low, high], capsize=5, error_kw={"ecolor": "#222", "linewidth": 1.5})
    ax.set_ylim(0, 1)
    ax.set_ylabel("pass rate")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    alt = (f"Bar chart of the pass rate of each of {len(labels)} cohort and form groups, from 0 to 100%, each bar "
           "with its 95% interval as an error bar.")
    caption = title + ", with 95% intervals (Wilson): " + "; ".join(
        f"{lab}: {pm.pct(p)} of {n} ({pm.pct(lo)} to {pm.pct(hi)})" for lab, p, n, lo, hi in
        zip(labels, by["pass rate"], by.candidates, by.pass_ci_low, by.pass_ci_high, strict=True)) + "."
    return Figure(alt, caption, _png(fig), PASS_RATES)


# -- writing ---------------------------------------------------------------------------------------------
def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if hasattr(v, "item"):
        return _jsonable(v.item())
    return v


#: Column names as the report's reader reads them (the CSVs and report.json keep the short names); a name not
#: listed reads with its underscores as spaces.
HEADERS = {
    "n": "candidates", "k": "items", "sd": "standard deviation", "alpha_name": "coefficient", "alpha": "reliability",
    "alpha_ci": "reliability 95% interval", "sem": "SEM (points)", "cut": "cut (points)",
    "csem_at_cut": "conditional SEM at the cut (points)", "band": "cut +- 1.96 conditional SEM",
    "within_band": "candidates within that band", "effective_length": "effective test length (estimate)",
    "length_used": "test length used by the models",
    "p0": "consistency (p0)", "kappa": "kappa (beyond chance)", "false_pass": "false passes",
    "false_fail": "false fails", "length": "test length the model used", "model_cut": "cut the model used (points)",
    "sem_ci": "SEM 95% interval", "csem_ci": "conditional SEM 95% interval", "p0_ci": "consistency 95% interval",
    "kappa_ci": "kappa 95% interval", "accuracy_ci": "accuracy 95% interval",
    "false_pass_ci": "false passes 95% interval", "false_fail_ci": "false fails 95% interval",
    "min": "lowest", "max": "highest", "out_of": "points on the form", "max_points": "points",
    "number": "item number", "facility_low": "facility 95% low", "facility_high": "facility 95% high",
    "discrimination_low": "discrimination 95% low", "discrimination_high": "discrimination 95% high",
    "share_blank": "share left blank", "rater_a": "first rater", "rater_b": "second rater",
    "exact": "exact agreement", "adjacent": "agreement within one level", "qwk": "quadratic-weighted kappa",
    "icc": "intraclass correlation", "icc_ci_low": "intraclass correlation 95% low",
    "icc_ci_high": "intraclass correlation 95% high", "n_responses": "responses",
    "leniency_ci_low": "leniency 95% low", "leniency_ci_high": "leniency 95% high",
    "leniency_share": "leniency (share of the points)", "mean_ci_low": "mean 95% low",
    "mean_ci_high": "mean 95% high", "mean_share": "mean share of the points",
    "sd_share": "standard deviation of the share",
    "pass_ci_low": "pass rate 95% low", "pass_ci_high": "pass rate 95% high", "conclusive": "reading",
    "difference": "difference (second minus first)", "ci90": "90% interval", "margin": "equivalence margin",
    "p_tost": "equivalence test p (TOST)", "time_used_minutes": "minutes used",
    "median_minutes": "median minutes used", "longest_minutes": "longest minutes used",
    "timed": "sittings with a time",
}


#: Headings a table gives a column in its own sense: the raters' tables count responses, not candidates (the
#: CSVs and report.json keep the short name ``n``).
TABLE_HEADERS = {
    AGREEMENT: {"n": "double-rated responses"},
    LENIENCY: {"n": "responses rated (with a decided score)"},
    DRIFT: {"n": "responses rated (with a decided score)"},
}


def header(col) -> str:
    """A column's heading in words: ``share_B`` reads "chose B", ``rpb_B`` "point-biserial of B"."""
    col = str(col)
    if col in HEADERS:
        return HEADERS[col]
    if col.startswith("share_"):
        return f"chose {col[6:]}"
    if col.startswith("rpb_"):
        return f"point-biserial of {col[4:]}"
    return col.replace("_", " ")


#: Columns of whole numbers by nature (counts, item numbers, points on a form, lengths, days), written without
#: decimals even where a missing value made pandas hold them as floats; every other number has ``DECIMALS``.
WHOLE = {"n", "k", "attempt", "candidates", "sittings", "passed", "number", "items", "answered", "omitted",
         "not_reached", "sittings_not_reaching_the_end", "timed", "within_band", "length", "max_points", "out_of",
         "n_responses", "adjudicated", "decision",
         "shared items", "never sat", "sat", "certified", "upheld", "partly", "denied",
         "open", "total", "median_days_to_first_sitting", "median_days_to_certification",
         "longest_days_to_certification"}


def _cell(v, whole: bool = False) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if v is None or (not isinstance(v, (str, tuple, list)) and pd.isna(v)):
        return ""
    return pm.whole(v) if whole else fmt(v)


def display(df: pd.DataFrame, name: str = "") -> pd.DataFrame:
    """The table as the HTML shows it: headings in words (the table ``name``'s own first, ``TABLE_HEADERS``), every
    number through the one rounding (``DECIMALS`` places, a whole count without them), nothing shown for a missing
    figure (never "None" or "nan")."""
    own = TABLE_HEADERS.get(name, {})
    out = pd.DataFrame({own.get(str(c)) or header(c): [_cell(v, str(c) in WHOLE) for v in df[c]] for c in df.columns},
                       index=df.index,
                       dtype=object)
    return out


def data_hash(d: ReportData) -> str:
    """SHA-256 of the data the report read (sittings, every form's score matrix, the ratings), as CSV in a fixed
    order: the same data gives the same hash, so a report can be matched to the records it came from."""
    import hashlib

    h = hashlib.sha256()
    frames = [d.results, *(f.scores for f in d.forms), d.ratings]
    for frame in frames:
        if frame is None or frame.empty:
            h.update(b"-\n")
            continue
        h.update(frame.sort_index(axis=1, key=lambda c: c.map(str)).to_csv(index=False).encode())
    return h.hexdigest()


#: A column whose longest cell runs past this many characters is a column of sentences (a note, a reading, a
#: source): its heading gets the class ``long``, which gives the column a readable width, so its rows stay a few
#: lines tall instead of wrapping into a narrow strip (walk finding 12: rows ~400 px tall).
LONG_CELL = 40


def _html_table(shown: pd.DataFrame) -> str:
    html = shown.to_html(index=False, na_rep="", border=0, classes="t")
    for col in shown.columns:
        longest = shown[col].astype(str).str.len().max() if len(shown) else 0
        if longest > LONG_CELL:
            name = htmllib.escape(str(col), quote=False)
            kind = "long longer" if longest > 4 * LONG_CELL else "long"
            html = html.replace(f"<th>{name}</th>", f'<th class="{kind}">{name}</th>', 1)
    return html


def render_html(d: ReportData, secs: list[Section], program: str, zone: dt.tzinfo | None = None) -> str:
    from .. import __version__

    env = Environment(loader=PackageLoader("exam_builder.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    tables = [[(name, table_id(s.title, name), _html_table(display(df, name))) for name, df in s.tables] for s in secs]
    figures = [[(f, table_id(s.title, f.table) if f.table in dict(s.tables) else "") for f in s.figures]
               for s in secs]
    return env.get_template("program_report.html.j2").render(
        data=d, sections=list(zip(secs, tables, figures, strict=True)), program=program,
        made=clock.now_shown(zone),  # the room's zone, named, as every time shown
        version=__version__, data_hash=data_hash(d))


def write_report(course, exam: str, out: Path, cohort: str | None = None, since: dt.date | None = None,
                 until: dt.date | None = None) -> Path:
    """Write ``out/report.html``, ``out/report.json`` and ``out/tables/*.csv``; the HTML's path."""
    d = gather(course, exam, cohort, since, until)
    secs = sections(d) + [appeals_section(course, exam, since, until)]
    html = render_html(d, secs, course.policy.program_name, course.zone)
    from .. import __version__

    entries: list[dict] = []
    machine = {"exam": exam, "title": d.title, "window": d.window, "software": f"exam-builder {__version__}",
               "data_sha256": data_hash(d), "sections": entries}
    files: dict[Path, str] = {}
    for s in secs:
        tables: list[dict] = []
        entry = {"title": s.title, "text": s.text, "tables": tables}
        for name, df in s.tables:
            slug = table_id(s.title, name)
            files[out / "tables" / f"{slug}.csv"] = df.to_csv(index=False)
            tables.append({"name": name, "csv": f"tables/{slug}.csv",
                           "rows": [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict("records")]})
        entries.append(entry)
    files[out / "report.json"] = json.dumps(machine, indent=1, default=str)
    files[out / "report.html"] = html
    for path in files:  # every path checked (no link, the right type) before the first is written
        check_owned(path, course.root)
    for path, text in files.items():
        write_atomic(path, text, root=course.root)
    return out / "report.html"
