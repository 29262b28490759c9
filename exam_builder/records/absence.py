"""No-shows: a sitting whose sign-in window closed unstarted is ``absent``, stored and audited.

Contract:

- ``closed_at(sitting, zone)`` is the moment a sitting's sign-in closes: its ``closes_at``,
  else the end of its ``scheduled_on`` day in the room's time zone (the default window), else
  None (a sitting from before revision 0004 has no window and never becomes absent by itself).
- ``is_no_show(sitting, now, zone)`` is the pure decision: scheduled, never started, and the
  window has closed at ``now`` (naive UTC).
- ``settle(session, policy, zone, now)`` is the one place that applies it to the database:
  each such sitting becomes ``absent``, with a ``absent`` sitting event and an audit record by
  ``exam-builder`` saying when the window closed. Whatever shows or decides on a sitting's
  state (eligibility, ``sitting open``, the proctor's room view, ``attempts``, ``results``, the
  program's report) calls it first, in a write transaction, so the state is stored and not only
  displayed.
- ``mark_absent`` is the proctor's early mark (before the window closes), with who and why.
- ``reopen``: a proctor who opens a room's sign-in again (``delivery.sittings.set_window``, e.g.
  after "close now", for a late candidate) brings back the sittings the window's close made
  absent, audited; a sitting a proctor marked absent stays absent.
- Whether an absent sitting uses an attempt is the program's (``ProgramPolicy.absent_counts_as_attempt``):
  when it does not, its ``attempt_no`` is cleared as a void's is, so the next sitting is that
  attempt again; when it does, it keeps its number and counts, but is never a result pending.
"""
from __future__ import annotations

import datetime as dt
from datetime import timezone
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from .. import clock
from ..errors import ExamBuilderError
from ..model.states import AuditAction, EventKind, SittingStatus
from ..settings.policy import ProgramPolicy
from . import audit
from .events import record_event
from .models import Candidate, Sitting, utcnow
from .queries import sittings as sittings_q

if TYPE_CHECKING:
    from ..course import Course

#: Who the audit trail names for an absence the window's close decided.
SYSTEM_ACTOR = audit.SYSTEM


def zone_named(name: str) -> dt.tzinfo:
    """The room's time zone by its IANA name (``DeliverySettings.timezone``); UTC if it is not one (``clock.zone``)."""
    return clock.zone(name)


def closed_at(sitting: Sitting, zone: dt.tzinfo) -> dt.datetime | None:
    """When the sitting's sign-in closes (naive UTC), or None when it has no window at all."""
    if sitting.closes_at is not None:
        return sitting.closes_at
    if sitting.scheduled_on is None:
        return None
    end = dt.datetime.combine(sitting.scheduled_on + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return end.astimezone(timezone.utc).replace(tzinfo=None)


def is_no_show(sitting: Sitting, now: dt.datetime, zone: dt.tzinfo) -> bool:
    """Scheduled, never started, and its sign-in window closed at or before ``now``."""
    if sitting.status != SittingStatus.scheduled or sitting.started_at is not None:
        return False
    closes = closed_at(sitting, zone)
    return closes is not None and now >= closes


def _wall(t: dt.datetime, zone: dt.tzinfo) -> str:
    return clock.shown(t, zone)


def _make_absent(session: Session, policy: ProgramPolicy, sitting: Sitting, actor: str, reason: str,
                 now: dt.datetime, **details) -> None:
    was = sitting.attempt_no
    sitting.status = SittingStatus.absent
    if not policy.absent_counts_as_attempt:
        sitting.attempt_no = None
    record_event(session, sitting.id, EventKind.absent,
                 {"by": actor, "reason": reason, **{k: str(v) for k, v in details.items()}}, at=now)
    audit.record(session, actor, AuditAction.sitting_absent, "sitting", sitting.id, reason,
                 candidate=sitting.candidate_id, exam=sitting.exam_id, seq=sitting.seq, attempt_no=was,
                 counts_as_attempt=bool(policy.absent_counts_as_attempt), **details)


def settle(session: Session, policy: ProgramPolicy, zone: dt.tzinfo, now: dt.datetime | None = None,
           exam_id: str | None = None, candidate_ids: list[str] | None = None) -> list[Sitting]:
    """Every scheduled sitting whose window has closed unstarted becomes absent (audited); those changed."""
    now = now or utcnow()
    changed = []
    for row in sittings_q.select_not_started(session, exam_id, candidate_ids):
        if not is_no_show(row, now, zone):
            continue
        sitting = sittings_q.select_sitting_fresh(session, row.id, lock=True)
        if sitting is None or not is_no_show(sitting, now, zone):  # started or changed meanwhile by another process
            continue
        closes = closed_at(sitting, zone)
        assert closes is not None  # a no-show's sign-in window has closed
        _make_absent(session, policy, sitting, SYSTEM_ACTOR,
                     f"the sign-in window closed at {_wall(closes, zone)} and the candidate never started",
                     now, closed_at=closes.isoformat(timespec="seconds"))
        changed.append(sitting)
    if changed:
        session.flush()
    return changed


def absent_by_window(session: Session, sitting: Sitting) -> bool:
    """Absent because its window closed (exam-builder decided), not because a proctor marked it."""
    if sitting.status != SittingStatus.absent:
        return False
    details = sittings_q.select_last_event_details(session, sitting.id, EventKind.absent) or {}
    return details.get("by") == SYSTEM_ACTOR


def reopen(session: Session, sitting: Sitting, actor: str, reason: str, now: dt.datetime | None = None) -> Sitting:
    """An absent sitting is scheduled again (its sign-in reopened); it takes the next free attempt number."""
    if sitting.status != SittingStatus.absent:
        raise ExamBuilderError(f"sitting {sitting.id} is {sitting.status}, not absent")
    now = now or utcnow()
    if sitting.attempt_no is None:
        used = {s.attempt_no for s in sittings_q.select_sittings_of(session, sitting.candidate_id, sitting.exam_id)
                if s.attempt_no is not None}
        sitting.attempt_no = next(n for n in range(1, len(used) + 2) if n not in used)
    sitting.status = SittingStatus.scheduled
    record_event(session, sitting.id, EventKind.absent_undone, {"by": actor, "reason": reason}, at=now)
    audit.record(session, actor, AuditAction.sitting_absent_undone, "sitting", sitting.id, reason,
                 candidate=sitting.candidate_id, exam=sitting.exam_id, seq=sitting.seq, attempt_no=sitting.attempt_no)
    session.flush()
    return sitting


def absent_sittings(session: Session, exam_id: str) -> list[Sitting]:
    """The exam's absent sittings (no-shows), for results and reports: none of them is a result."""
    return sittings_q.select_absent(session, exam_id)


def later_sittings(session: Session, exam_id: str, absent: list[Sitting]) -> dict[int, Sitting]:
    """absent sitting -> a later sitting of the candidate's for the exam that is not absent (one they
    sat, else the latest booked), for results: a no-show who came back is not one who is missing."""
    later = sittings_q.select_sittings_of_candidates(session, exam_id, {a.candidate_id for a in absent})
    out = {}
    for a in absent:
        after = [s for s in later if s.candidate_id == a.candidate_id and s.seq > a.seq
                 and s.status != SittingStatus.absent]
        if after:  # one they sat, else the latest booked
            out[a.id] = next((s for s in after if s.status == SittingStatus.submitted), after[-1])
    return out


def settle_course(course: Course, now: dt.datetime | None = None, exam_id: str | None = None) -> list[int]:
    """``settle`` in a transaction of its own, with the course's policy and room time zone; the sittings changed."""
    zone = zone_named(course.delivery_settings.timezone)
    with course.db.transaction() as s:
        return [sit.id for sit in settle(s, course.policy, zone, now, exam_id=exam_id)]


def mark_absent(session: Session, policy: ProgramPolicy, sitting_id: int, actor: str, reason: str,
                now: dt.datetime | None = None) -> Sitting:
    """A proctor marks a candidate absent before the window closes: staff only, with a reason, audited.

    Only a sitting not yet started can be absent; a started one is submitted or voided instead.
    """
    if not (reason or "").strip():
        raise ExamBuilderError("say why the candidate is marked absent (--reason); it is kept in the audit trail")
    if not (actor or "").strip():
        raise ExamBuilderError("say who marks the candidate absent (--by)")
    now = now or utcnow()
    sitting = sittings_q.select_sitting_fresh(session, sitting_id, lock=True)
    if sitting is None:
        raise ExamBuilderError(f"no sitting {sitting_id}; see `exam-builder attempts CANDIDATE`")
    if actor.strip() == SYSTEM_ACTOR:
        raise ExamBuilderError(f"{SYSTEM_ACTOR!r} is exam-builder itself; say who you are (--by)")
    if session.get(Candidate, actor.strip()) is not None:
        raise ExamBuilderError(f"{actor!r} is a candidate; only staff can mark a sitting absent")
    if sitting.status == SittingStatus.absent:
        raise ExamBuilderError(f"sitting {sitting_id} is already absent")
    if sitting.status != SittingStatus.scheduled or sitting.started_at is not None:
        raise ExamBuilderError(f"sitting {sitting_id} is {str(sitting.status).replace('_', ' ')}: the candidate "
                               "has started, so they are not absent (void the sitting instead if it must not count)")
    _make_absent(session, policy, sitting, actor.strip(), reason.strip(), now, early=True)
    session.flush()
    return sitting
