"""Results: per sitting the total, subscores, pass or fail and the next step; score reports.

Points are read from nbgrader's gradebook (one truth per fact): a cell's score is the grader's
score when there is one, else the autograder's. A score not given yet is ``None`` and reads
"pending", never 0, and so does any total or result that needs it. A score that exam-builder did
not write (the gradebook differs from its seal, ``grading.seal``) makes its result pending, its
points withheld (never shown as if real: "withheld") and is named; ``record_outcomes`` (the one
place that refuses, for ``results`` and the demo) and the program's report refuse to go on while
any exists. An outcome recorded before such a change is named too (``Result.recorded``,
``outcomes_in_question``): the recorded pass or fail rests on a score exam-builder did not write. When a result is final
its
outcome is recorded through the records ledger (which audits it and offers tutoring after a
fail). Candidate score reports never show items or keys: total, pass or fail, a subscore per
competency and the next step.

A pending result's next step says what it waits for and from whom, per question ("waiting for
Q7 adjudication by the coordinator (Carla Coordinator)"), from the rating queues
(``RatingQueue.waiting``): staff read it in ``exam-builder results`` and the CSV.

A result is provisional (``Result.provisional``) while the key validation of its sitting is not
closed, and while a key decision on an item of its form is recorded but not applied (``adjust.waiting``,
named in ``Result.waiting_keys``; ``keys close`` refuses then too); a provisional pass's next step is
"certified once key validation closes", not "certified". The results table and the candidate's
record (``provisional_sittings``) say "pass (provisional)", the CSV's ``provisional`` column "yes", the
score report "Provisional result." and the program's report counts them.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import clock
from ..assembly.release import write_atomic
from ..errors import ExamBuilderError
from ..files import check_owned
from ..kinds import kind_for
from ..model.manifest import Manifest, grade_ids
from ..model.rubric import Rubric, load_rubrics
from ..model.states import Outcome
from ..records.cuts import effective_cuts
from ..records.eligibility import retake_on
from ..records.models import Exam, Form, Sitting
from ..records.queries import (
    forms as forms_q,
    recourse as recourse_q,
    score_flags as score_flags_q,
    sittings as sittings_q,
)
from ..records.queries.gradebook import ScoreMatrix, select_score_matrix
from . import score_report, seal
from .adjust import dropped as dropped_items, in_force, scale, waiting as unapplied_decisions

PENDING = "pending"
WITHHELD = "withheld"
TAMPERED_STEP = "withheld: score changed outside exam-builder"


def refuse_tampered(results: list["Result"]) -> None:
    """Stop before anything is recorded or reported when the gradebook holds a score that
    exam-builder did not write (``seal``): each one named, with both values."""
    changed = [m for r in results for m in r.tampered]
    if changed:
        doubted = [f"sitting {r.sitting_id} ({r.candidate_id}): {recorded_before_change(r)}"
                   for r in results if r.tampered and r.recorded]
        raise ExamBuilderError(
            "".join(f"{line}\n" for line in doubted) +
            f"{len(changed)} score(s) in nbgrader's gradebook were changed outside exam-builder, so no result was "
            "recorded:\n  " + "\n  ".join(changed) + "\nScores are given and changed only by exam-builder's scoring "
            "and the grader's desk, which record who and why. Put each score back to the value exam-builder "
            "recorded (from a backup, or by whoever changed it), then run results again; to change a score, rate "
            "the response again in the grader's desk.")


@dataclass
class Part:
    """Points earned (None while pending) out of a maximum."""

    score: float | None
    max: float
    withheld: bool = False  # a score in it was changed outside exam-builder: no figure is shown

    def text(self) -> str:
        if self.withheld:
            return WITHHELD
        return PENDING if self.score is None else f"{self.score:g}/{self.max:g}"


def _withheld(p: Part) -> Part:
    return Part(None, p.max, withheld=True)


def _add(parts: list[tuple[float | None, float]]) -> Part:
    if any(s is None for s, _ in parts):
        return Part(None, sum(m for _, m in parts))
    return Part(sum(s for s, _ in parts if s is not None), sum(m for _, m in parts))


@dataclass
class Result:
    sitting_id: int
    candidate_id: str
    candidate_name: str
    exam: str
    assignment: str
    attempt_no: int
    objective: Part
    open_response: Part
    total: Part
    cut_score: float
    competencies: dict[str, Part] = field(default_factory=dict)
    status: str = PENDING  # an Outcome (pass | fail) once final, else PENDING
    next_step: str = ""
    flags: int = 0
    tampered: list[str] = field(default_factory=list)  # scores changed outside exam-builder (``seal``)
    recorded: str | None = None  # the outcome already in the candidate's record (pass | fail), if any
    sat_at: dt.datetime | None = None  # when the exam was taken (stored UTC; the report shows the room's date)
    retake_on: dt.date | None = None  # after a fail: the first day of another attempt (eligibility.retake_on)
    provisional: bool = False  # key validation of its sitting is not closed yet (``grading.keys``): it may change
    waiting_keys: list[str] = field(default_factory=list)  # key decisions on its form not applied yet: "3 on it-0012"
    score_step: float | None = None  # the step its form's totals move in (``form_step``); None: not known
    outcome_at: dt.datetime | None = None  # when the outcome was recorded: the report's date, an appeal counts from it

    @property
    def final(self) -> bool:
        return self.status != PENDING


def next_step(policy, passed: bool | None, attempt_no: int, retake: dt.date | None = None,
              provisional: bool = False) -> str:
    """What the candidate does next, in the program's words; ``retake``: the first day of another
    attempt after a fail (the waiting period, ``records.eligibility.retake_on``); a provisional pass is not
    a certification yet (``Result.provisional``)."""
    if passed is None:
        return "waiting for scores"
    if passed:
        return "certified" if not provisional else "certified once key validation closes"
    left = policy.max_attempts - attempt_no
    if left <= 0:
        return "no attempts left"
    tutoring = "tutoring offered" if policy.tutoring_after_failure == "offered" else "tutoring required first"
    when = f" from {retake.isoformat()}" if retake is not None else ""
    return f"may retake{when} ({left} left), {tutoring}"


def next_step_words(policy, r: "Result") -> str:
    """The candidate's next step in plain words, as their score report and an appeal letter give it: a
    provisional pass is not a certification yet, and says so."""
    if r.status == PENDING:
        return "Some answers are still being scored. You will get your result when scoring is finished."
    if r.status == Outcome.passed:
        if r.provisional:
            return ("Your pass is provisional: every question of the exam is checked after the exam (key validation) "
                    "before results are final. You will get a new report if a correction changes your result; "
                    "you are certified once the check is finished.")
        return "Congratulations: you have passed the certification exam."
    left = max(0, policy.max_attempts - r.attempt_no)
    if left == 0:
        return (f"You have used all your attempts at this exam. The program will talk with you about what comes "
                f"next: contact {policy.contact}.")
    when = f" from {r.retake_on.isoformat()}, after the waiting period" if r.retake_on else ""
    first = ("Tutoring comes first" if policy.tutoring_after_failure == "required"
             else "Tutoring is offered to help you prepare")
    return (f"You can take the exam again{when} ({left} attempt{'s' if left != 1 else ''} left). {first}: the "
            f"program will contact you about it and the next exam date."
            + (" Your result is provisional until every question has been checked (key validation)."
               if r.provisional else ""))


def recorded_before_change(r: "Result") -> str:
    """The words for an outcome recorded before a score was changed outside exam-builder."""
    return (f"the {r.recorded} recorded for this sitting rests on a score changed outside exam-builder "
            "after it was recorded")


def compute_results(course, exam: str) -> list[Result]:
    """The result of every submitted (not voided) sitting of ``exam``."""
    policy = course.policy
    with course.db.read() as s:
        if s.get(Exam, exam) is None and not forms_q.select_exam_has_forms(s, exam):
            raise ExamBuilderError(f"no exam {exam!r}; check the name (exam-builder build creates its forms)")
        rows = sittings_q.select_submitted_with_candidates(s, exam)
        conn = s.connection()
        scores: dict[str, ScoreMatrix] = {}
        manifests: dict[int, Manifest] = {}
        assignments = {form.assignment for _sitting, form, _cand in rows}
        flags: dict[tuple[str, str], int] = score_flags_q.select_flag_counts(s, assignments)
        key = seal.course_key(course) if rows else b""
        adjustments = in_force(s, exam)  # key-validation decisions applied (``grading.adjust``)
        rule = course.recourse_settings.drop_cut_rule
        closure = recourse_q.select_last_closure(s, exam)
        waiting_keys = unapplied_decisions(s, exam)
        tampered: dict[tuple[str, str], list[str]] = {}
        for assignment in sorted(assignments):  # the gradebook read once: scores and their seals
            scores[assignment] = select_score_matrix(conn, assignment)
            whose = {sit.candidate_id for sit, f, _c in rows if f.assignment == assignment}
            for t in seal.check(conn, key, assignment, whose, rows=scores[assignment].rows):
                tampered.setdefault((assignment, t.candidate_id), []).append(t.message())
        results = []
        missing: dict[int, list] = {}  # sitting -> the form's entries without a score yet
        forms_seen = {form.id: form for _sitting, form, _cand in rows}
        for fid, form in forms_seen.items():
            manifests[fid] = Manifest.model_validate(form.manifest)
        cuts = effective_cuts(s, [(form, manifests[fid]) for fid, form in forms_seen.items()])  # re-cuts recorded
        rubrics = _rubrics(course, manifests.values())
        steps = {fid: form_step(m, rubrics, str(policy.rating_resolution), dropped_items(m, adjustments))
                 for fid, m in manifests.items()}
        for sitting, form, cand in rows:
            m = manifests[form.id]
            gone = dropped_items(m, adjustments)
            _full, cut = scale(m, adjustments, rule, cuts[form.id])
            got = scores[form.assignment]
            objective: list[tuple[float | None, float]] = []
            open_: list[tuple[float | None, float]] = []
            by_comp: dict[str, list[tuple[float | None, float]]] = {}
            for entry in m.items:
                if entry.item_id in gone:  # out of scoring: neither its points nor its maximum count
                    continue
                value = got.get(sitting.candidate_id, grade_ids(entry.number)["grade"])
                if value is None:
                    missing.setdefault(sitting.id, []).append(entry)
                (objective if not kind_for(entry.kind).rated else open_).append((value, entry.points))
                by_comp.setdefault(entry.competency, []).append((value, entry.points))
            total = _add(objective + open_)
            changed = tampered.get((form.assignment, sitting.candidate_id), [])
            if total.score is None or changed:  # a score exam-builder did not write decides nothing
                status, passed = PENDING, None
            else:
                passed = total.score + 1e-9 >= cut
                status = Outcome.passed if passed else Outcome.failed
            retake = retake_on(sitting, policy, course.zone) if passed is False else None
            parts: dict[str, Any] = {"objective": _add(objective), "open_response": _add(open_), "total": total,
                     "competencies": {c: _add(v) for c, v in by_comp.items()}}
            if changed:  # never shown as if real: withheld, every figure of it
                parts = {k: ({c: _withheld(p) for c, p in v.items()} if k == "competencies" else _withheld(v))
                         for k, v in parts.items()}
            keys_waiting = _keys_on(m, waiting_keys)
            provisional = _provisional(course, closure, sitting.submitted_at, bool(keys_waiting))
            r = Result(
                sitting_id=sitting.id, candidate_id=sitting.candidate_id, candidate_name=cand.name, exam=exam,
                assignment=form.assignment, attempt_no=sitting.attempt_no, cut_score=cut, status=status,
                next_step=TAMPERED_STEP if changed else next_step(policy, passed, sitting.attempt_no, retake,
                                                                  provisional),
                flags=flags.get((form.assignment, sitting.candidate_id), 0), tampered=changed,
                recorded=str(sitting.outcome) if sitting.outcome else None,
                sat_at=sitting.started_at or sitting.opened_at, retake_on=retake,
                provisional=provisional, waiting_keys=keys_waiting, score_step=steps[form.id],
                outcome_at=sitting.outcome_at, **parts)
            if changed and r.recorded:
                r.next_step = f"{TAMPERED_STEP}; {recorded_before_change(r)}"
            results.append(r)
    waiting = [r for r in results if not r.final and not r.tampered and r.sitting_id in missing]
    if waiting:
        waits = pending_steps(course, exam, {r.sitting_id: missing[r.sitting_id] for r in waiting})
        for r in waiting:
            r.next_step = waits.get(r.sitting_id, r.next_step)
    return results


def _rubrics(course, manifests) -> dict[str, Rubric]:
    """The course's rubrics by id, read once, when a form has a rated item (for ``form_step``); a rubric that
    cannot be read is left out (its form's step is then not known)."""
    if not any(kind_for(e.kind).rated for m in manifests for e in m.items) or not course.rubrics_dir.is_dir():
        return {}
    try:
        course.require_inside(course.rubrics_dir)  # the link rule of `check`: never rubrics from out of the course
    except ExamBuilderError:
        return {}
    rubrics, _problems = load_rubrics([course.rubrics_dir])
    return rubrics


def form_step(m: Manifest, rubrics: Mapping[str, Rubric], resolution: str, gone: set[str] | frozenset[str] = frozenset()
              ) -> float | None:
    """The step a form's totals move in (``score_report.score_step``): per item in scoring, what one score
    can add: an objective item its points (partial credit: its share per key), a rated item its rubric's
    level points, halved when two ratings are averaged (``rating_resolution`` mean). None when a rated
    item's rubric is not known."""
    values: list[float] = []
    for e in m.items:
        if e.item_id in gone:
            continue
        if not kind_for(e.kind).rated:
            values.append(kind_for(e.kind).score_step(e))
            continue
        rubric = rubrics.get(e.rubric or e.item_id)
        if rubric is None:
            return None
        halve = 2 if resolution == "mean" else 1
        values += [lv.points / halve for c in rubric.criteria for lv in c.levels]
    return score_report.score_step(values)


def _keys_on(m: Manifest, waiting_keys: Mapping[str, Any]) -> list[str]:
    """The key decisions recorded but not applied (``adjust.waiting``) on items of this form: "3 on it-0012"."""
    return [f"{waiting_keys[e.item_id].id} on {e.item_id}" for e in m.items if e.item_id in waiting_keys]


def _provisional(course, closure, submitted_at: dt.datetime | None, keys_waiting: bool = False) -> bool:
    """Whether a sitting's result may still change by key validation: submitted after the exam's last closure
    (``closure``: its ``eb_key_validation`` row, None before any), or a key decision on an item of its form is
    recorded but not applied (``keys_waiting``, ``adjust.waiting``), unless the program waives it."""
    if not course.recourse_settings.provisional_until_validated:
        return False
    return keys_waiting or closure is None or (submitted_at is not None and submitted_at > closure.covers)


def provisional_sittings(course, sittings: list[tuple[int, str, dt.datetime | None]]) -> set[int]:
    """Of ``(sitting id, exam, submitted at)``, the sittings whose result is provisional (``Result.provisional``),
    for a view that shows a recorded outcome (``exam-builder attempts``)."""
    with course.db.read() as s:
        exams = {x for _i, x, _t in sittings}
        closures = {exam: recourse_q.select_last_closure(s, exam) for exam in exams}
        waits = {exam: unapplied_decisions(s, exam) for exam in exams}
        out = set()
        for sid, exam, at in sittings:
            keys = False
            if waits[exam]:
                sitting = s.get(Sitting, sid)
                form = s.get(Form, sitting.form_id) if sitting is not None else None
                keys = form is not None and bool(_keys_on(Manifest.model_validate(form.manifest), waits[exam]))
            if _provisional(course, closures[exam], at, keys):
                out.add(sid)
        return out


def pending_steps(course, exam: str, missing: dict[int, list]) -> dict[int, str]:
    """sitting -> what its result waits for, in staff's words: per question without a score, the
    next rating it needs and who may give it (``RatingQueue.waiting``), or objective scoring."""
    from .queue import RatingQueue, open_items

    wanted = {e.item_id for entries in missing.values() for e in entries if kind_for(e.kind).rated}
    waits = {}
    for item_id, _rubric in open_items(course, exam):
        if item_id in wanted:
            for w in RatingQueue(course, exam, item_id).waiting():
                waits[(w.sitting_id, item_id)] = w
    out = {}
    for sitting_id, entries in missing.items():
        parts = []
        if any(not kind_for(e.kind).rated for e in entries):
            parts.append("objective scoring (exam-builder grade)")
        for e in entries:
            waiting = waits.get((sitting_id, e.item_id))
            if waiting is not None:
                parts.append(f"Q{e.number} {waiting.step} by {waiting.who}")
            elif kind_for(e.kind).rated:
                parts.append(f"Q{e.number} score")
        out[sitting_id] = "waiting for " + "; ".join(parts)
    return out


def record_outcomes(course, results: list[Result], actor: str, reason: str = "graded", *, write: bool = True) -> int:
    """Record pass or fail of every final result through the ledger (one transaction); nothing at
    all while any score was changed outside exam-builder (``refuse_tampered``: the one place that
    refuses, so ``write=False``, results without recording, still refuses)."""
    from ..records.ledger import record_outcome

    refuse_tampered(results)
    final = [r for r in results if r.final]
    if not final or not write:
        return 0
    with course.db.transaction() as s:
        for r in final:
            record_outcome(s, r.sitting_id, r.status == Outcome.passed, actor,
                           f"{reason}: {r.total.text()} (cut score {r.cut_score:.2f})", zone=course.zone)
    return len(final)


def competency_names(course, results: list[Result]) -> list[tuple[str, str]]:
    names = course.policy.competencies
    slugs = sorted({c for r in results for c in r.competencies},
                   key=lambda c: (list(names).index(c) if c in names else 99, c))
    return [(c, names.get(c, c)) for c in slugs]


def results_csv(course, results: list[Result]) -> str:
    """The results as CSV, a row per sitting; ``provisional`` is yes while the key validation of its sitting is
    not closed (``Result.provisional``): its result may still change."""
    comps = competency_names(course, results)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["candidate", "name", "sitting", "form", "attempt", "objective", "open_response", "total", "max",
                "cut_score", *[name for _, name in comps], "result", "provisional", "next_step", "flags"])

    def num(p: Part) -> str:
        return WITHHELD if p.withheld else PENDING if p.score is None else f"{p.score:g}"

    for r in results:
        w.writerow([r.candidate_id, r.candidate_name, r.sitting_id, r.assignment, r.attempt_no, num(r.objective),
                    num(r.open_response), num(r.total), f"{r.total.max:g}", f"{r.cut_score:.2f}",
                    *[num(r.competencies[c]) if c in r.competencies else "" for c, _ in comps],
                    WITHHELD if r.tampered else r.status, "yes" if r.provisional else "no", r.next_step, r.flags])
    return buf.getvalue()


# -- candidate score reports ------------------------------------------------------------
_ENV = Environment(loader=PackageLoader("exam_builder.grading", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))


def render_report(course, result: Result, exam_title: str,
                  precision: Mapping[str, score_report.SubscorePrecision] | None = None) -> str:
    """A candidate's score report: no item, no key, no answer; only what DESIGN.md allows
    (total, pass or fail, a subscore per competency with its figure, the next step).

    ``precision`` (competency -> ``SubscorePrecision`` on the candidate's form): a competency's subscore is
    shown only when its reliability supports it; otherwise the report says the exam is not designed to report
    it precisely. None (no evidence asked for) shows every subscore, as a guide."""
    from . import score_report as sr

    comps, withheld = [], []
    for slug, name in competency_names(course, [result]):
        p = precision.get(slug) if precision is not None else None
        if precision is not None and (p is None or not p.shown):
            withheld.append((name, p.reason() if p is not None else "no evidence of its precision"))
        else:
            comps.append((name, result.competencies[slug]))
    step = result.score_step
    table = sr.rows(comps, result.total, result.cut_score, step)
    return _ENV.get_template("score_report.html.j2").render(
        program=course.policy.program_name, exam_title=exam_title, result=result, rows=table,
        not_scored=sr.NOT_SCORED, num=sr.num, generated=clock.today(course.zone).isoformat(),
        needed=sr.stated_cut(result.cut_score, step),
        cut_sentence=sr.cut_sentence(result.cut_score, result.total, step),
        rounding_note=sr.rounding_note(result.cut_score, step),
        figure=sr.figure(table), alt=sr.alt_text(table),
        attempts_left=max(0, course.policy.max_attempts - result.attempt_no),
        sat_on=clock.date_of(result.sat_at, course.zone).isoformat() if result.sat_at else None,
        retake_on=result.retake_on.isoformat() if result.retake_on else None,
        tutoring=course.policy.tutoring_after_failure, withheld=withheld,
        next_step=next_step_words(course.policy, result), appeal=appeal_words(course, result),
    )


def appeal_words(course, result: Result) -> str:
    """How to question a final result, and by when (ISO/IEC 17024 9.8: the candidate is told of the appeals
    process): counted from the day the outcome was recorded, as ``appeals.record`` counts it; "" before a result."""
    if not result.final or result.tampered:
        return ""
    days = course.recourse_settings.appeal_deadline_days
    issued = clock.date_of(result.outcome_at, course.zone) if result.outcome_at else clock.today(course.zone)
    by = issued + dt.timedelta(days=days)
    lower = ("A written answer checked again on appeal may get more or fewer points." if
             course.recourse_settings.appeal_may_lower else "An appeal never lowers your score.")
    return (f"If you think a mistake was made in scoring your exam or in how it was run, you may appeal. Write what "
            f"you appeal and why to {course.policy.contact}. Your appeal must arrive by {clock.day_text(by)} {by.year} "
            f"({days} days from {clock.day_text(issued)} {issued.year}, the date of this result). {lower}")


def write_feedback(course, exam: str, results: list[Result] | None = None,
                   precision: Mapping[str, Mapping[str, score_report.SubscorePrecision]] | None = None) -> list[Path]:
    """``feedback/<candidate>/<assignment>/<assignment>.html`` for every sitting (nbgrader's layout,
    so ``nbgrader release_feedback`` delivers this report instead of the stock one with keys).

    ``precision``: assignment -> competency -> its subscore's precision (``analysis.subscores``, passed by the
    caller: grading does not read analysis); a subscore is shown only where it supports it.

    Every report is rendered before any is written, and each is written through a temporary file:
    a report that cannot be made leaves every earlier one as it was, none half-written."""
    check_owned(course.feedback_dir, course.root, "dir")  # the folder first: before the seals' key is needed
    if results is None:
        # every report's path before the results are computed: computing them may store a key on first
        # need (the rating queue's), and a refused command changes nothing, the database included
        with course.db.read() as s:
            for sitting, form, _cand in sittings_q.select_submitted_with_candidates(s, exam):
                check_owned(course.feedback_path(sitting.candidate_id, form.assignment) / f"{form.assignment}.html",
                            course.root)
        results = compute_results(course, exam)
    with course.db.read() as s:
        ex = s.get(Exam, exam)
        title = (ex.title if ex and ex.title else None)
        if title is None:
            form = forms_q.select_first_form(s, exam)
            title = Manifest.model_validate(form.manifest).title if form else exam
    pages = [(course.feedback_path(r.candidate_id, r.assignment) / f"{r.assignment}.html",
              render_report(course, r, title, None if precision is None else precision.get(r.assignment, {})))
             for r in results]
    for path, _html in pages:  # every report's path checked before the first is written
        check_owned(path, course.root)
    for path, html in pages:
        write_atomic(path, html, root=course.root)
    return [path for path, _ in pages]


def outcomes_in_question(course, candidate: str, exam: str | None = None) -> dict[int, list[str]]:
    """sitting -> the scores changed outside exam-builder under an outcome already recorded for it
    (the candidate's record, ``exam-builder attempts``): empty when every recorded outcome stands."""
    with course.db.read() as s:
        rows = sittings_q.select_decided_of_candidate(s, candidate, exam)
        if not rows:
            return {}
        key = seal.course_key(course)
        conn = s.connection()
        out: dict[int, list[str]] = {}
        for sit, form in rows:
            changed = [t.message() for t in seal.check(conn, key, form.assignment, [candidate])]
            if changed:
                out[sit.id] = changed
        return out
