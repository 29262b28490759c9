"""The attempt ledger: sittings, voids, outcomes and tutoring, with the cap held under races.

A sitting is one attempt of one candidate at one exam, on a form they have not seen, with a
personal time limit. Opening one locks the candidate's row (PostgreSQL ``FOR UPDATE``; on
SQLite write transactions begin IMMEDIATE and so already run one at a time), re-reads the
attempts and only then decides; the unique constraints on ``(candidate, exam, attempt_no)``
and ``(candidate, exam, seq)`` back this up, so two processes starting an attempt for the
same candidate at the same moment can never exceed the cap. Every change is audited. Before it
decides, a no-show of the candidate whose window has closed is made absent (``records.absence``).
Every date here is on the room's calendar: the caller gives the room's time zone (``zone``,
``Course.zone``), and a day left out (tutoring offered) is the room's today (``clock.today``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import count

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..errors import ExamBuilderError
from ..model.states import AuditAction, Outcome, SittingStatus
from ..settings.policy import ProgramPolicy
from . import absence, audit
from .accommodations import personal_time_limit
from .eligibility import evaluate
from .models import Candidate, Form, Sitting, Tutoring, utcnow
from .queries import forms as forms_q, sittings as sittings_q, tutoring as tutoring_q
from .roster import get_candidate


class NotEligible(ExamBuilderError):
    """The candidate may not sit the exam now; ``reasons`` says every why."""

    def __init__(self, candidate_id: str, exam_id: str, reasons: list[str]):
        self.candidate_id = candidate_id
        self.exam_id = exam_id
        self.reasons = list(reasons)
        super().__init__(f"{candidate_id} may not sit {exam_id}: " + "; ".join(self.reasons))


def _sittings(session: Session, candidate_id: str, exam_id: str) -> list[Sitting]:
    return sittings_q.select_sittings_of(session, candidate_id, exam_id)


def _pick_form(session: Session, candidate_id: str, exam_id: str, seen: set[int], form_id: int | None) -> Form:
    """A form of the exam this candidate has not sat: the least used so far, then by label."""
    forms = forms_q.select_forms(session, exam_id)
    if not forms:
        raise ExamBuilderError(f"exam {exam_id!r} has no forms yet; build and release its forms first")
    if form_id is not None:
        form = next((f for f in forms if f.id == form_id), None)
        if form is None:
            raise ExamBuilderError(f"form {form_id} is not a form of exam {exam_id!r}")
        if form.id in seen:
            raise ExamBuilderError(f"{candidate_id} has already sat form {form.label} of {exam_id}; choose another "
                                   "form")
        return form
    fresh = [f for f in forms if f.id not in seen]
    if not fresh:
        labels = ", ".join(f.label for f in forms)
        raise NotEligible(candidate_id, exam_id, [
            f"every form of {exam_id} already sat ({labels}); build another form before the next attempt"])
    usage = sittings_q.select_form_usage(session, exam_id)
    return min(fresh, key=lambda f: (usage.get(f.id, 0), f.label))


def open_sitting(
    session: Session,
    policy: ProgramPolicy,
    candidate_id: str,
    exam_id: str,
    actor: str,
    room: str = "",
    form_id: int | None = None,
    today: dt.date | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
    *,
    zone: dt.tzinfo,
) -> Sitting:
    """Open the candidate's next attempt, or raise ``NotEligible`` with every reason.

    ``zone`` (the room's time zone): earlier sittings whose window closed unstarted at ``now``
    become absent first, so a no-show does not block the next attempt as "pending"; the rules
    are asked on the room's calendar (``today``: default the room's date now).
    """
    get_candidate(session, candidate_id, lock=True)  # serializes attempts of this candidate
    absence.settle(session, policy, zone, now, exam_id=exam_id, candidate_ids=[candidate_id])
    [standing] = evaluate(session, policy, exam_id, [candidate_id], today=today, zone=zone)
    if not standing.eligible:
        raise NotEligible(candidate_id, exam_id, standing.reasons)
    earlier = _sittings(session, candidate_id, exam_id)
    seen = {s.form_id for s in earlier if s.status != SittingStatus.absent}  # a no-show never saw their form
    form = _pick_form(session, candidate_id, exam_id, seen, form_id)
    used = {s.attempt_no for s in earlier if s.attempt_no is not None}
    attempt_no = next(n for n in count(1) if n not in used)
    sitting = Sitting(
        candidate_id=candidate_id,
        exam_id=exam_id,
        seq=max((s.seq for s in earlier), default=0) + 1,
        attempt_no=attempt_no,
        form_id=form.id,
        room=room or "",
        status=SittingStatus.scheduled,
        time_limit_minutes=personal_time_limit(session, policy, candidate_id),
        extra_minutes=0,
        opened_at=utcnow(),
        opened_by=actor,
    )
    session.add(sitting)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ExamBuilderError(
            f"another attempt of {candidate_id} at {exam_id} was opened at the same moment; nothing was opened by "
            "this request. Check `exam-builder attempts` and try again if needed."
        ) from exc
    audit.record(session, actor, AuditAction.sitting_open, "sitting", sitting.id, reason,
                 candidate=candidate_id, exam=exam_id, seq=sitting.seq, attempt_no=attempt_no,
                 form=form.label, time_limit_minutes=sitting.time_limit_minutes, room=sitting.room)
    return sitting


def _sitting(session: Session, sitting_id: int) -> Sitting:
    sitting = sittings_q.select_sitting(session, sitting_id, lock=True)
    if sitting is None:
        raise ExamBuilderError(f"no sitting {sitting_id}; see `exam-builder attempts CANDIDATE`")
    return sitting


def void_sitting(session: Session, sitting_id: int, actor: str, reason: str) -> Sitting:
    """Void a sitting (an emergency, a fire alarm): it no longer counts as an attempt.

    Staff only, and always with a reason. The form stays seen: the next attempt gets another.
    """
    if not (reason or "").strip():
        raise ExamBuilderError("say why the sitting is voided (--reason); a void without a reason is not allowed")
    if not (actor or "").strip():
        raise ExamBuilderError("say who voids the sitting (--by)")
    sitting = _sitting(session, sitting_id)
    if session.get(Candidate, actor) is not None:
        raise ExamBuilderError(f"{actor!r} is a candidate; only staff can void a sitting")
    if sitting.status == SittingStatus.voided:
        raise ExamBuilderError(f"sitting {sitting_id} is already voided ({sitting.void_reason})")
    was = sitting.attempt_no
    sitting.status = SittingStatus.voided
    sitting.attempt_no = None
    sitting.voided_at = utcnow()
    sitting.voided_by = actor
    sitting.void_reason = reason.strip()
    audit.record(session, actor, AuditAction.sitting_void, "sitting", sitting.id, reason.strip(),
                 candidate=sitting.candidate_id, exam=sitting.exam_id, seq=sitting.seq, attempt_no=was)
    return sitting


def _latest_failed(session: Session, candidate_id: str, exam_id: str) -> Sitting | None:
    counted = [s for s in _sittings(session, candidate_id, exam_id) if s.attempt_no is not None]
    failed = [s for s in counted if s.outcome == Outcome.failed]
    return failed[-1] if failed else None


def record_tutoring(
    session: Session,
    candidate_id: str,
    exam_id: str,
    offered_on: dt.date | None = None,
    attended_on: dt.date | None = None,
    actor: str | None = None,
    sitting_id: int | None = None,
    reason: str = "",
    *,
    zone: dt.tzinfo,
) -> Tutoring:
    """Record tutoring offered and/or attended after a failed attempt (the latest, by default);
    offered, unless said, on the room's date today (``zone``: the room's time zone)."""
    actor = audit.current_actor(actor)
    get_candidate(session, candidate_id, lock=True)
    if sitting_id is None:
        sitting = _latest_failed(session, candidate_id, exam_id)
        if sitting is None:
            raise ExamBuilderError(f"{candidate_id} has no failed attempt at {exam_id}; tutoring follows a failed "
                                   "attempt")
    else:
        sitting = _sitting(session, sitting_id)
        if (sitting.candidate_id, sitting.exam_id) != (candidate_id, exam_id):
            raise ExamBuilderError(f"sitting {sitting_id} is not a sitting of {candidate_id} at {exam_id}")
    tutoring = tutoring_q.select_tutoring_of_sitting(session, sitting.id)
    if tutoring is None:
        tutoring = Tutoring(candidate_id=candidate_id, exam_id=exam_id, sitting_id=sitting.id,
                            offered_on=offered_on or clock.today(zone), recorded_by=actor)
        session.add(tutoring)
    elif offered_on:
        tutoring.offered_on = offered_on
    if attended_on:
        tutoring.attended_on = attended_on
    if tutoring.attended_on and tutoring.attended_on < tutoring.offered_on:
        raise ExamBuilderError(f"tutoring attended on {tutoring.attended_on} is before it was offered "
                               f"({tutoring.offered_on})")
    tutoring.recorded_by = actor
    session.flush()
    action = AuditAction.tutoring_attend if attended_on else AuditAction.tutoring_offer
    audit.record(session, actor, action, "tutoring", tutoring.id, reason, candidate=candidate_id, exam=exam_id,
                 sitting=sitting.id, offered_on=tutoring.offered_on, attended_on=tutoring.attended_on)
    return tutoring


def record_outcome(session: Session, sitting_id: int, passed: bool, actor: str, reason: str = "", *,
                   zone: dt.tzinfo) -> None:
    """Record pass or fail of a sitting (from grading's results); tutoring is offered after a fail,
    on the room's date today (``zone``: the room's time zone)."""
    sitting = _sitting(session, sitting_id)
    if sitting.status == SittingStatus.voided:
        raise ExamBuilderError(f"sitting {sitting_id} was voided; it has no outcome")
    if sitting.status == SittingStatus.absent:
        raise ExamBuilderError(f"sitting {sitting_id} is absent (the candidate never started); it has no outcome")
    outcome = Outcome.passed if passed else Outcome.failed
    if sitting.outcome == outcome:
        return
    was = sitting.outcome
    sitting.outcome = outcome
    sitting.outcome_at = utcnow()
    audit.record(session, actor, AuditAction.sitting_outcome, "sitting", sitting.id, reason,
                 candidate=sitting.candidate_id, exam=sitting.exam_id, attempt_no=sitting.attempt_no,
                 outcome=outcome, was=was)
    if outcome == Outcome.failed:
        offered = tutoring_q.select_tutoring_of_sitting(session, sitting.id)
        if offered is None:
            record_tutoring(session, sitting.candidate_id, sitting.exam_id, actor=actor, sitting_id=sitting.id,
                            reason="offered after a failed attempt", zone=zone)


@dataclass
class HistoryEntry:
    """One sitting as the coordinator sees it, with the tutoring that followed it."""

    sitting_id: int
    exam_id: str
    seq: int
    attempt_no: int | None
    form: str
    status: SittingStatus
    room: str
    time_limit_minutes: int
    extra_minutes: int
    opened_at: dt.datetime
    started_at: dt.datetime | None
    submitted_at: dt.datetime | None
    outcome: Outcome | None
    outcome_at: dt.datetime | None
    voided_by: str | None
    void_reason: str | None
    tutoring_offered_on: dt.date | None
    tutoring_attended_on: dt.date | None
    receipt_hash: str | None = None  # a submitted sitting's (its confirmation number is read from it)


def history(session: Session, candidate_id: str, exam_id: str | None = None) -> list[HistoryEntry]:
    """Every sitting of a candidate (voided ones included), oldest first."""
    get_candidate(session, candidate_id)
    rows = sittings_q.select_history(session, candidate_id, exam_id)
    tutoring = {t.sitting_id: t for t in tutoring_q.select_tutoring(session, candidate_id=candidate_id)}
    entries = []
    for s, label in rows:
        t = tutoring.get(s.id)
        entries.append(HistoryEntry(
            sitting_id=s.id, exam_id=s.exam_id, seq=s.seq, attempt_no=s.attempt_no, form=label, status=s.status,
            room=s.room, time_limit_minutes=s.time_limit_minutes, extra_minutes=s.extra_minutes,
            opened_at=s.opened_at, started_at=s.started_at, submitted_at=s.submitted_at, outcome=s.outcome,
            outcome_at=s.outcome_at, voided_by=s.voided_by, void_reason=s.void_reason,
            tutoring_offered_on=t.offered_on if t else None, tutoring_attended_on=t.attended_on if t else None,
            receipt_hash=s.receipt_hash,
        ))
    return entries
