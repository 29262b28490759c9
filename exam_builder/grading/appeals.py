"""Appeals: recorded by the coordinator, re-rated blind, decided, the outcome updated (ISO/IEC 17024 9.8).

``record`` keeps the candidate's appeal: the sitting, the category (``AppealCategory``: procedure,
accommodation, score), the candidate's own words and the date it was received. The program's
deadline is ``RecourseSettings.appeal_deadline_days`` from the score report's date (the day the
outcome was recorded, in the room's time zone); a later appeal is refused with both dates.

A **score** appeal on written answers goes to a rater who has rated none of the sitting's written
answers (``assign_rater``, refused otherwise), who sees each answer, its question and scenario as the
candidate read them, and its rubric only: no name, no earlier rating or score, not the appeal's words
(``to_rerate``; ``waiting_for``: what waits for a rater across an exam's appeals, the grader's desk's
list). An answer left blank is not sent: grading settled it 0 without a rating ("no response"), so there is
nothing to re-rate; it stays at 0, and ``Rerating.text`` and ``exam-builder appeal assign`` say how many.
Their ratings (``rerate``, the one path of the CLI and the grader's desk, audited as a
``rating`` by the rater) are kept in ``eb_appeal_rating``; ``rerating_states`` says how far each score
appeal's re-rating is (the coordinator's Appeals screen). The
decision (``decide``: upheld, partly, denied, with a reason) agrees with what the re-rating does to the
total (``effect``): a score appeal is upheld or partly upheld only when the re-rating raises the total, and
denied when it does not (refused otherwise, with the totals). Whether a re-rating may *lower* a score is the
program's (``RecourseSettings.appeal_may_lower``; ISO/IEC 17024 leaves it to the scheme): by default it may
not, so a lower re-rating of an answer leaves its score as it was, and the decision says so. An upheld or
partly upheld score appeal makes the re-ratings the decided scores (``resolution.persist``: ``eb_item_score`` with rule
``appeal``, mirrored into nbgrader's gradebook and sealed, audited), then updates the outcome and
writes the score report again through the same path as key adjustments (``keys.update_outcomes``,
``keys.rewrite_reports``) and writes the candidate's letter; a denied one changes no score, unless the
program lets an appeal lower a score and the re-rating is lower: then the lower re-ratings become the scores
the same way. A **procedure** or **accommodation**
appeal upheld may void the sitting (``void=True``, ``ledger.void_sitting``): it is no longer an
attempt, so the candidate may sit again. Every step is audited (``appeal.*``).

``appeals_log`` is the program report's appeals section: counts by category and decision, and the
days from receipt to decision.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import clock
from ..assembly.release import write_atomic
from ..errors import ExamBuilderError
from ..files import check_owned
from ..kinds import kind_for
from ..model.manifest import Manifest
from ..model.states import AppealCategory, AppealDecision, AuditAction, ItemScoreStatus, Outcome, SittingStatus
from ..records import audit
from ..records.ledger import void_sitting
from ..records.models import Appeal, AppealRating, Candidate, Exam, Form, Sitting, utcnow
from ..records.queries import (
    item_scores as item_scores_q,
    paper as paper_q,
    ratings as ratings_q,
    recourse as recourse_q,
)
from ..records.text import shown
from .keys import Precision, rewrite_reports, update_outcomes
from .queue import load_rubric_for
from .resolution import NO_RESPONSE, Decision, persist, ratings_of, response_context
from .results import Result, compute_results, next_step_words
from .rubric_scoring import rubric_score
from .score_report import num, stated_cut
from .seal import course_key

if TYPE_CHECKING:
    from ..delivery.form_view import ScenarioView

DECISION_TEXT = {AppealDecision.upheld: "upheld", AppealDecision.partly: "partly upheld",
                 AppealDecision.denied: "denied"}


def _appeal(s, appeal_id: int) -> Appeal:
    a = recourse_q.select_appeal(s, appeal_id)
    if a is None:
        raise ExamBuilderError(f"no appeal {appeal_id}; `exam-builder appeal list EXAM` shows them")
    return a


def report_date(course, sit: Sitting) -> dt.date | None:
    """The score report's date: the day the outcome was recorded, in the room's time zone."""
    return clock.date_of(sit.outcome_at, course.zone) if sit.outcome_at else None


def record(course, sitting_id: int, category: str, words: str, received_on: dt.date, actor: str,
           today: dt.date | None = None) -> int:
    """Record a candidate's appeal (see the module); its id. Audited (``appeal.recorded``)."""
    try:
        cat = AppealCategory(category)
    except ValueError:
        raise ExamBuilderError(f"{shown(category)} is not an appeal category: choose one of "
                               + ", ".join(c.value for c in AppealCategory)) from None
    words = (words or "").strip()
    if not words:
        raise ExamBuilderError("write the candidate's own words (--words): what they appeal and why")
    today = today or clock.today(course.zone)
    if received_on > today:
        raise ExamBuilderError(f"the appeal cannot be received on {received_on} (in the future; today is {today})")
    days = course.recourse_settings.appeal_deadline_days
    with course.db.transaction() as s:
        sit = s.get(Sitting, sitting_id)
        if sit is None:
            raise ExamBuilderError(f"no sitting {sitting_id}; `exam-builder attempts CANDIDATE` lists a candidate's")
        if sit.status not in (SittingStatus.submitted, SittingStatus.voided):
            raise ExamBuilderError(f"sitting {sitting_id} is {sit.status}: only a sitting that was taken can be "
                                   "appealed")
        issued = report_date(course, sit)
        if cat == AppealCategory.score and issued is None:
            raise ExamBuilderError(f"sitting {sitting_id} has no result yet: a score appeal waits for the score "
                                   "report")
        if issued is not None and received_on > issued + dt.timedelta(days=days):
            raise ExamBuilderError(
                f"the appeal was received on {received_on}, more than {days} days after the score report of "
                f"{issued}: the program's deadline was {issued + dt.timedelta(days=days)} "
                "(c.RecourseSettings.appeal_deadline_days). It is not recorded.")
        a = Appeal(sitting_id=sitting_id, category=cat, words=words, received_on=received_on, recorded_by=actor,
                   recorded_at=utcnow(), voided=False)
        s.add(a)
        s.flush()
        audit.record(s, actor, AuditAction.appeal_recorded, "appeal", a.id, f"{cat} appeal received {received_on}",
                     sitting=sitting_id, candidate=sit.candidate_id, category=cat, received_on=received_on)
        return a.id


def _rated_entries(s, sit: Sitting) -> list:
    form = s.get(Form, sit.form_id)
    return [e for e in Manifest.model_validate(form.manifest).items if kind_for(e.kind).rated]


def _blank(s, sit: Sitting, entry) -> bool:
    """Left blank: grading settled it 0 as "no response" (``RatingQueue.settle_blanks``) and no grader
    ever rated it, so there is nothing for an appeal to re-rate."""
    row = item_scores_q.select_item_score(s, sit.id, entry.item_id)
    return row is not None and row.rule == NO_RESPONSE


def _written(s, sit: Sitting) -> list:
    """The sitting's written answers an appeal re-rates: every rated one except those left blank."""
    return [e for e in _rated_entries(s, sit) if not _blank(s, sit, e)]


def _rated_before(s, sit: Sitting, items: list, rater: str | None) -> bool:
    """Whether ``rater`` rated one of these written answers of the sitting (an appeal never goes to them)."""
    return any(_same(r.rater, rater) for e in items for r in ratings_q.select_ratings_of_response(s, sit.id, e.item_id))


def blank_answers(course, appeal_id: int) -> int:
    """How many of an appeal's written answers were left blank: they stay at 0, not re-rated."""
    with course.db.read() as s:
        sit = s.get(Sitting, _appeal(s, appeal_id).sitting_id)
        return sum(_blank(s, sit, e) for e in _rated_entries(s, sit))


def assign_rater(course, appeal_id: int, rater: str, actor: str) -> None:
    """Send a score appeal's written answers to ``rater``, who must have rated none of them (those left
    blank stay at 0 and are not sent: ``blank_answers``). Audited."""
    rater = (rater or "").strip()
    if not rater:
        raise ExamBuilderError("name the rater who re-rates the written answers (--rater)")
    with course.db.transaction() as s:
        a = _appeal(s, appeal_id)
        if a.category != AppealCategory.score:
            raise ExamBuilderError(f"appeal {appeal_id} is a {a.category} appeal: only a score appeal is re-rated")
        if a.decision is not None:
            raise ExamBuilderError(f"appeal {appeal_id} is already decided ({a.decision})")
        sit = s.get(Sitting, a.sitting_id)
        items = _written(s, sit)
        if not items:
            blank = len(_rated_entries(s, sit))
            raise ExamBuilderError(f"sitting {a.sitting_id} has no written answers to re-rate" + (
                f": its {blank} written answer(s) were left blank and stay at 0" if blank else ""))
        if _rated_before(s, sit, items, rater):
            raise ExamBuilderError(f"{rater} rated this candidate's written answers before: an appeal goes to a "
                                   "rater who has not rated them")
        a.rater = rater
        audit.record(s, actor, AuditAction.appeal_rerate, "appeal", a.id, f"re-rating by {rater}",
                     sitting=sit.id, rater=rater, items=[e.item_id for e in items])


@dataclass(frozen=True)
class ToRerate:
    """One written answer as the appeal's rater sees it: the question and its scenario as the
    candidate read them, the answer, the rubric's id. No name, no earlier rating, not the appeal's words."""

    item_id: str
    number: int
    points: float
    question: str
    answer: str
    rubric_id: str
    rated: bool
    appeal_id: int = 0
    scenario: ScenarioView | None = None
    image: bytes | None = None  # written on paper: the scanned writing area (no name or code)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold() != ""


def _answers(course, s, a: Appeal) -> list[ToRerate]:
    from ..delivery.form_view import load_form_view, released_notebook_path
    from ..records.queries.responses import select_latest_responses

    sit = s.get(Sitting, a.sitting_id)
    form = s.get(Form, sit.form_id)
    answers = select_latest_responses(s, [sit.id])[sit.id]
    written = paper_q.select_written_pages(s, [sit.id])
    done = recourse_q.select_appeal_ratings(s, a.id)
    view = load_form_view(released_notebook_path(course, form.assignment), course.root)
    out = []
    for e in _written(s, sit):
        it = view.item(e.item_id)
        out.append(ToRerate(e.item_id, e.number, e.points, it.stem,
                            (answers[e.item_id].value or "") if e.item_id in answers else "", e.rubric or e.item_id,
                            e.item_id in done, appeal_id=a.id,
                            scenario=view.scenarios.get(it.scenario) if it.scenario else None,
                            image=getattr(written.get((sit.id, e.item_id)), "image", None)))
    return out


def to_rerate(course, appeal_id: int, rater: str) -> list[ToRerate]:
    """The written answers of an appeal, for its rater only (blind: no candidate, no earlier rating)."""
    with course.db.read() as s:
        a = _appeal(s, appeal_id)
        if not _same(a.rater, rater):
            raise ExamBuilderError(f"appeal {appeal_id} is assigned to another rater")
        return _answers(course, s, a)


def waiting_for(course, exam: str, rater: str | None) -> list[ToRerate]:
    """The written answers of ``exam``'s open score appeals assigned to ``rater`` that they have not
    re-rated yet, oldest appeal first: what the grader's desk offers them (nothing for anyone else)."""
    if not (rater or "").strip():
        return []
    with course.db.read() as s:
        mine = [a for a, sit in recourse_q.select_appeals(s, exam)
                if a.category == AppealCategory.score and a.decision is None and _same(a.rater, rater)
                and not _rated_before(s, sit, _written(s, sit), rater)]  # a rating since the assignment: not theirs
        return [x for a in mine for x in _answers(course, s, a) if not x.rated]


@dataclass(frozen=True)
class Rerating:
    """How far a score appeal's re-rating is: what the coordinator reads before deciding."""

    rater: str | None
    done: int
    total: int
    score: float | None  # the re-rated points so far
    before: float | None  # the written answers' decided points before the appeal's decision (None: not known)
    max_points: float
    blank: int = 0  # written answers left blank: 0 without rating, not re-rated (they stay at 0)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.done >= self.total

    def text(self) -> str:
        blank = f"; {self.blank} blank answer(s) stay at 0 (not re-rated)" if self.blank else ""
        if not self.rater:
            return "not sent to a rater yet" + blank
        if not self.finished:
            return f"{self.done} of {self.total} written answer(s) re-rated by {self.rater}: waiting{blank}"
        points = f"; re-rated {self.score:g} of {self.max_points:g} points" if self.score is not None else ""
        before = f" (before: {self.before:g})" if self.before is not None else ""
        return f"done: {self.done} of {self.total} written answer(s) re-rated by {self.rater}{points}{before}{blank}"


def rerating_states(course, exam: str) -> dict[int, Rerating]:
    """Each score appeal of ``exam`` -> how far its re-rating is (only the appeals with written answers)."""
    out: dict[int, Rerating] = {}
    with course.db.read() as s:
        for a, sit in recourse_q.select_appeals(s, exam):
            if a.category != AppealCategory.score:
                continue
            items = _written(s, sit)
            if not items:
                continue
            rr = recourse_q.select_appeal_ratings(s, a.id)
            done = [rr[e.item_id].score for e in items if e.item_id in rr]
            if a.decision is None:  # the written answers' decided points now
                final = item_scores_q.select_final_scores(s, [sit.id])
                now = [final.get((sit.id, e.item_id)) for e in items]
                before = sum(x or 0.0 for x in now) if final and all(x is not None for x in now) else None
            else:  # decided: the points just before the decision (the re-ratings may be the scores now)
                before = a.points_before
            out[a.id] = Rerating(a.rater, len(done), len(items), sum(x or 0.0 for x in done) if done else None,
                                 before, sum(e.points for e in items), len(_rated_entries(s, sit)) - len(items))
    return out


def rerate(course, appeal_id: int, rater: str, item_id: str, levels: dict[str, float], comment: str = "") -> float:
    """The appeal rater's rating of one written answer (rubric levels); its score. Kept, not yet decisive.
    The one path of ``exam-builder appeal rerate`` and the grader's desk; audited (``rating``) as the rater."""
    with course.db.transaction() as s:
        a = _appeal(s, appeal_id)
        if not _same(a.rater, rater):
            raise ExamBuilderError(f"appeal {appeal_id} is assigned to {a.rater or 'nobody yet'}, not {rater}")
        if a.decision is not None:
            raise ExamBuilderError(f"appeal {appeal_id} is already decided ({a.decision})")
        sit = s.get(Sitting, a.sitting_id)
        if _rated_before(s, sit, _written(s, sit), rater):
            raise ExamBuilderError(f"{rater} has rated this candidate's written answers (since the appeal was sent "
                                   f"to them): appeal {appeal_id} needs another rater (exam-builder appeal assign)")
        entry = next((e for e in _rated_entries(s, sit) if e.item_id == item_id), None)
        if entry is None:
            raise ExamBuilderError(f"{item_id!r} is not a written answer of sitting {sit.id}")
        if _blank(s, sit, entry):
            raise ExamBuilderError(f"{item_id!r} was left blank in sitting {sit.id}: it stays at 0, with nothing to "
                                   "re-rate")
        rubric = load_rubric_for(course, entry.rubric or entry.item_id)
        score = rubric_score(rubric, levels)
        row = recourse_q.select_appeal_ratings(s, appeal_id).get(item_id)
        old = None if row is None else row.score
        if row is None:
            row = AppealRating(appeal_id=appeal_id, item_id=item_id, rater=a.rater)
            s.add(row)
        row.levels, row.score, row.comment = dict(levels), score, (comment or "").strip()
        row.rubric_hash, row.rated_at = rubric.content_hash(), utcnow()
        s.flush()
        audit.record(s, rater.strip(), AuditAction.rating, "appeal_rating", row.id,
                     f"appeal {appeal_id}: re-rating" if old is None else f"appeal {appeal_id}: re-rating changed",
                     appeal=appeal_id, sitting=sit.id, item=item_id, score=score, old_score=old,
                     levels=dict(levels), rubric_hash=row.rubric_hash)
        return score


@dataclass(frozen=True)
class Effect:
    """What a finished re-rating does to the re-rated answers' points (``effect``): their decided scores now,
    the re-ratings, and what the decision would make them under the program's rule (``appeal_may_lower``)."""

    before: float
    rerated: float
    after: float
    may_lower: bool
    kept: tuple[str, ...] = ()      # items rated lower whose score stays (the program does not lower on appeal)
    scores: tuple[tuple[str, float], ...] = ()  # item -> the score the decision gives it

    @property
    def raises(self) -> bool:
        return self.after > self.before + 1e-9

    def text(self) -> str:
        """The re-rating's direction and what the program's rule did, in the coordinator's words."""
        d = self.rerated - self.before
        said = (f"the re-rating gives {_pts(self.rerated)} point(s) for the re-rated answers against "
                f"{_pts(self.before)} now ({'+' if d > 0 else ''}{_pts(d)})")
        if self.rerated < self.before - 1e-9 or self.kept:
            if self.may_lower:
                said += "; the program lets an appeal lower a score (c.RecourseSettings.appeal_may_lower), so the " \
                        "lower re-rating counts"
            else:
                said += (f"; it is lower on {', '.join(self.kept)}, and scores are not lowered on appeal "
                         "(c.RecourseSettings.appeal_may_lower = False), so "
                         + ("that score stays" if len(self.kept) == 1 else "those scores stay"))
                said += f": {_pts(self.after)} point(s) in all"
        return said


    def plain(self) -> str:
        """What the re-rating did, in the candidate's words (no setting's name): the letter's sentence."""
        said = (f"Your re-rated written answers now have {_pts(self.after)} point(s) in all, against "
                f"{_pts(self.before)} before the appeal.")
        if self.kept:
            said += (f" The new rating was lower on {len(self.kept)} answer(s); "
                     + ("that answer keeps the score it had" if len(self.kept) == 1
                        else "those answers keep the scores they had")
                     + ", because this program never lowers a score on appeal.")
        elif self.may_lower and self.rerated < self.before - 1e-9:
            said += " This program counts a new rating whether it is higher or lower, so your score is lower."
        return said


def _pts(x: float) -> str:
    return f"{round(x, 2):g}"


def effect(course, appeal_id: int) -> Effect | None:
    """What a score appeal's finished re-rating does (None when it is not a score appeal or not finished)."""
    may_lower = bool(course.recourse_settings.appeal_may_lower)
    with course.db.read() as s:
        a = _appeal(s, appeal_id)
        if a.category != AppealCategory.score:
            return None
        sit = s.get(Sitting, a.sitting_id)
        reratings = recourse_q.select_appeal_ratings(s, appeal_id)
        if not reratings or any(e.item_id not in reratings for e in _written(s, sit)):
            return None
        before = rerated = after = 0.0
        kept, scores = [], []
        for item_id, rr in sorted(reratings.items()):
            row = item_scores_q.select_item_score(s, sit.id, item_id)
            now = float(row.score) if row is not None and row.score is not None else 0.0
            new = float(rr.score or 0.0)
            before, rerated = before + now, rerated + new
            if new < now - 1e-9 and not may_lower:
                kept.append(item_id)
                new = now
            after += new
            scores.append((item_id, new))
        return Effect(before, rerated, after, may_lower, tuple(kept), tuple(scores))


def decide(course, exam: str, appeal_id: int, decision: str, reason: str, actor: str, void: bool = False,
           precision: Precision = None) -> dict:
    """Decide an appeal (see the module). Returns what changed: scores, outcomes, reports, void, letter.
    ``precision``: as ``keys.rewrite_reports`` takes it."""
    try:
        dec = AppealDecision(decision)
    except ValueError:
        raise ExamBuilderError(f"{shown(decision)} is not an appeal decision: choose one of "
                               + ", ".join(d.value for d in AppealDecision)) from None
    reason = (reason or "").strip()
    if not reason:
        raise ExamBuilderError("an appeal decision needs a reason (--reason): the candidate's letter gives it")
    key = course_key(course)
    changed: dict = {"scores": [], "outcomes": [], "reports": [], "voided": False, "effect": None}
    was = _result_of(course, exam, appeal_id)  # the result before the decision: the letter says what changed
    eff = effect(course, appeal_id)
    if eff is not None:  # the decision agrees with the direction of the finished re-rating
        changed["effect"] = eff
        upholds = dec in (AppealDecision.upheld, AppealDecision.partly)
        if upholds and not eff.raises:
            raise ExamBuilderError(f"appeal {appeal_id} cannot be {DECISION_TEXT[dec]}: {eff.text()}; the result does "
                                   "not improve, so the appeal is denied (decide 'denied', with the reason)")
        if not upholds and eff.raises:
            raise ExamBuilderError(f"appeal {appeal_id} cannot be denied: {eff.text()}; the result improves, so "
                                   "the appeal is upheld or partly upheld (decide 'upheld' or 'partly')")
    with course.db.transaction() as s:
        a = _appeal(s, appeal_id)
        if a.decision is not None:
            on = f", {clock.date_of(a.decided_at, course.zone)}" if a.decided_at else ""
            raise ExamBuilderError(f"appeal {appeal_id} is already decided ({a.decision}{on})")
        sit = s.get(Sitting, a.sitting_id)
        if sit.exam_id != exam:
            raise ExamBuilderError(f"appeal {appeal_id} is about exam {sit.exam_id}, not {exam}")
        upheld = dec in (AppealDecision.upheld, AppealDecision.partly)
        if void and (a.category == AppealCategory.score or not upheld):
            raise ExamBuilderError("only an upheld (or partly upheld) procedure or accommodation appeal can void "
                                   "the sitting")
        lowers = eff is not None and not upheld and eff.after < eff.before - 1e-9  # denied, lower re-rating counts
        if a.category == AppealCategory.score and (upheld or lowers):
            reratings = recourse_q.select_appeal_ratings(s, appeal_id)
            missing = [e.item_id for e in _written(s, sit) if e.item_id not in reratings]
            if missing:
                raise ExamBuilderError(f"appeal {appeal_id}: the re-rating is not finished ({', '.join(missing)} "
                                       f"not rated by {a.rater or 'a rater yet'}); decide once it is")
            for item_id, rr in reratings.items():
                ctx = response_context(s, sit.id, item_id)
                ratings = ratings_of(s, sit.id, item_id)
                rubric = load_rubric_for(course, next(e.rubric or e.item_id for e in _written(s, sit)
                                                      if e.item_id == item_id))
                ids = tuple(r.id for r in ratings.values() if r.score is not None)
                if eff is not None and item_id in eff.kept:  # rated lower; the program does not lower on appeal
                    continue
                if persist(s, ctx, item_id, Decision(ItemScoreStatus.final, rr.score, "appeal", ids), rubric,
                           list(ratings.values()), actor, f"appeal {appeal_id} ({DECISION_TEXT[dec]}): {reason}", key):
                    changed["scores"].append((item_id, rr.score))
        if void:
            void_sitting(s, sit.id, actor, f"appeal {appeal_id} ({a.category}) {DECISION_TEXT[dec]}: {reason}")
            changed["voided"] = True
        a.decision, a.decision_reason, a.decided_by, a.decided_at = dec, reason, actor, utcnow()
        a.voided = void
        a.points_before = eff.before if eff is not None else None
        audit.record(s, actor, AuditAction.appeal_decided, "appeal", a.id, reason, sitting=sit.id,
                     candidate=sit.candidate_id, category=a.category, decision=dec, voided=void,
                     scores=[list(x) for x in changed["scores"]])
        sitting_id = sit.id
    if changed["scores"]:
        changed["outcomes"] = update_outcomes(course, exam, {sitting_id}, actor, f"appeal {appeal_id} {dec}")
        changed["reports"] = rewrite_reports(course, exam, {sitting_id}, precision)
    changed["letter"] = write_letter(course, appeal_id, rescored=bool(changed["scores"]), was=was, effect=eff)
    return changed


def _result_of(course, exam: str, appeal_id: int) -> Result | None:
    """The appealed sitting's result now (None when it is voided or not the exam's)."""
    with course.db.read() as s:
        sitting_id = _appeal(s, appeal_id).sitting_id
    return next((r for r in compute_results(course, exam) if r.sitting_id == sitting_id), None)


_ENV = Environment(loader=PackageLoader("exam_builder.grading", "templates"), autoescape=select_autoescape(["j2"]))


def write_letter(course, appeal_id: int, rescored: bool | None = None, was: Result | None = None,
                 effect: Effect | None = None) -> Path | None:
    """The candidate's letter on a decided appeal, beside their score report (nbgrader's feedback folder), in plain
    words: the decision and why, what the re-rating did (``effect``), the total and pass or fail now and whether
    that changed (against ``was``, the result before the decision), what happens next and whom to contact
    (``ProgramPolicy.contact``); never a setting's name. ``rescored``: whether the decision changed a score
    (else: a score appeal not denied)."""
    with course.db.read() as s:
        exam_id = s.get(Sitting, _appeal(s, appeal_id).sitting_id).exam_id
    now = _result_of(course, exam_id, appeal_id)
    with course.db.read() as s:
        a = _appeal(s, appeal_id)
        if a.decision is None:
            return None
        sit = s.get(Sitting, a.sitting_id)
        cand = s.get(Candidate, sit.candidate_id)
        form = s.get(Form, sit.form_id)
        ex = s.get(Exam, sit.exam_id)
        html = render_letter(
            course, a, exam_title=(ex.title if ex and ex.title else sit.exam_id),
            name=cand.name if cand else sit.candidate_id, now=now, was=was, effect=effect,
            rescored=(a.category == AppealCategory.score and a.decision != AppealDecision.denied) if rescored is None
            else rescored)
        path = course.feedback_path(sit.candidate_id, form.assignment) / f"appeal-{a.id}.html"
    check_owned(path, course.root)
    write_atomic(path, html, root=course.root)
    return path


def render_letter(course, a: Appeal, exam_title: str, name: str, now: Result | None, was: Result | None,
                  effect: Effect | None, rescored: bool) -> str:
    """The letter's page (``write_letter``) from the decided appeal ``a`` and the results; reads of ``course`` only
    its settings (``policy``, ``recourse_settings``) and time zone."""
    return _ENV.get_template("appeal_letter.html.j2").render(
        program=course.policy.program_name, exam_title=exam_title, name=name, appeal=a,
        decision=DECISION_TEXT[AppealDecision(a.decision or "")], category=str(a.category), voided=a.voided,
        rescored=rescored, score_appeal=a.category == AppealCategory.score,
        may_lower=bool(course.recourse_settings.appeal_may_lower),
        decided_on=clock.date_of(a.decided_at or utcnow(), course.zone).isoformat(),
        effect=effect.plain() if effect is not None else "", result=_result_words(now, was),
        next_step=next_step_words(course.policy, now) if now is not None and not a.voided else "",
        contact=course.policy.contact)


def _result_words(now: Result | None, was: Result | None) -> str:
    """"Your total is now 40 of 57 points (38 are needed to pass): you have passed. Before the appeal you had not
    passed." or "...: you have not passed. That has not changed." ("" when there is no result)."""
    if now is None or now.total.score is None or not now.final:
        return ""
    needed = stated_cut(now.cut_score, now.score_step)
    passed = now.status == Outcome.passed
    said = (f"Your total is now {num(now.total.score)} of {num(now.total.max)} points ({num(needed)} are needed to "
            f"pass): you have {'passed' if passed else 'not passed'}"
            + (" (provisional)" if now.provisional else "") + ".")
    if was is None or not was.final or was.total.score is None:
        return said
    if was.status != now.status:
        return said + (f" Before the appeal your total was {num(was.total.score)} and you had "
                       f"{'passed' if was.status == Outcome.passed else 'not passed'}: your result has changed.")
    if abs(was.total.score - now.total.score) > 1e-9:
        return said + f" Before the appeal your total was {num(was.total.score)}; your result is the same."
    return said + " Your total and your result are the same as before the appeal."


@dataclass
class AppealsLog:
    """The appeals section of the program's report."""

    counts: dict[tuple[str, str], int]  # (category, decision or "open") -> how many
    days_to_decision: list[int]
    voided: int

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days_to_decision) if self.days_to_decision else None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def appeals_log(course, exam: str, since: dt.date | None = None, until: dt.date | None = None) -> AppealsLog:
    """Counts by category and decision ("open" while undecided), days from receipt to decision (the median is the
    middle value of the decided appeals), and how many voided a sitting; received in [since, until] when given."""
    counts: dict[tuple[str, str], int] = {}
    days: list[int] = []
    voided = 0
    with course.db.read() as s:
        for a, _sit in recourse_q.select_appeals(s, exam):
            if (since and a.received_on < since) or (until and a.received_on > until):
                continue
            k = (str(a.category), str(a.decision) if a.decision else "open")
            counts[k] = counts.get(k, 0) + 1
            if a.decided_at is not None:
                days.append((clock.date_of(a.decided_at, course.zone) - a.received_on).days)
            voided += int(bool(a.voided))
    return AppealsLog(counts, days, voided)
