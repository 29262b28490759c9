"""Who may sit an exam, and every reason why not.

The rules are the program's (``ProgramPolicy``): late for or missing too many modules,
attempts used up (an absent sitting, a no-show, uses one only when ``absent_counts_as_attempt``
says so), a result still pending (never for an absent sitting: it has no result to wait for), the waiting period after a
failed attempt and,
where the program requires it, tutoring first. The ledger asks this module before it opens a
sitting, and the coordinator sees the same reasons in ``exam-builder eligibility EXAM``.

``retake_on`` is the one place the waiting period is counted (eligibility, results' next step and
the score report), from ``sitting_date``, the room's date of the attempt (``clock.date_of`` in the
room's zone, ``c.DeliverySettings.timezone``: an attempt at 22:30 in Boston was taken that day,
not on the next UTC day); ``today`` is the room's date too (``clock.today``). The caller gives the
zone (``Course.zone``). ``standing`` is the one sentence of a candidate's standing (``exam-builder
attempts``, the demo).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy.orm import Session

from .. import clock
from ..errors import ExamBuilderError
from ..model.states import Outcome, SittingStatus
from ..settings.policy import ProgramPolicy
from .attendance import Participation, late_or_absent, module_label, participation
from .models import Sitting
from .queries import candidates as candidates_q, sittings as sittings_q, tutoring as tutoring_q


class Barrier(str, Enum):
    """Why a candidate may not sit now: one per rule, so reports count reasons without reading their text."""

    attendance = "attendance"        # late for or missed too many modules: may not sit at all
    passed = "passed"                # already certified
    no_attempts = "no_attempts"      # every attempt used
    pending = "pending"              # an attempt without a result yet
    waiting = "waiting"              # the waiting period after a failed attempt
    tutoring = "tutoring"            # tutoring required before the next attempt

    @property
    def plain(self) -> str:
        """The reason as the coordinator's report says it."""
        return {"attendance": "late for or missed too many modules", "passed": "already passed",
                "no_attempts": "no attempts left", "pending": "a result still pending",
                "waiting": "in the waiting period after a failed attempt",
                "tutoring": "tutoring required first"}[self.value]


@dataclass
class Eligibility:
    """One candidate's standing for one exam."""

    candidate_id: str
    name: str
    eligible: bool
    reasons: list[str]
    attempts_used: int
    attempts_left: int
    next_allowed_on: dt.date | None
    cohort: str = ""
    late_or_absent: list[str] = field(default_factory=list)  # "2.1", "3.3", ...
    participation: Participation | None = None
    barriers: list[Barrier] = field(default_factory=list)  # one per reason, in the same order
    sat_before: bool = False  # any attempt counted (the standing says "again")
    last_failed: bool = False  # the latest counted attempt failed (tutoring follows it)
    tutoring_offered_on: dt.date | None = None  # tutoring after that failed attempt
    tutoring_attended_on: dt.date | None = None


def sitting_date(sitting: Sitting, zone: dt.tzinfo | str) -> dt.date:
    """The day an attempt was taken (started, else opened), on the room's calendar (``zone``)."""
    return clock.date_of(sitting.started_at or sitting.opened_at, zone)


def retake_on(sitting: Sitting, policy: ProgramPolicy, zone: dt.tzinfo | str) -> dt.date:
    """The first day a candidate may sit again after this failed attempt: the waiting period,
    counted from the room's date it was taken (``zone``: the room's time zone)."""
    return sitting_date(sitting, zone) + dt.timedelta(days=policy.waiting_period_days)


def counts_as_attempt(sitting: Sitting, policy: ProgramPolicy) -> bool:
    """Whether a sitting uses one of the candidate's attempts: not voided, and not absent unless the policy says so."""
    if sitting.attempt_no is None:
        return False
    return sitting.status != SittingStatus.absent or policy.absent_counts_as_attempt


def evaluate(
    session: Session,
    policy: ProgramPolicy,
    exam_id: str,
    candidate_ids: list[str] | None = None,
    today: dt.date | None = None,
    ignore_sittings: Collection[int] = (),
    *,
    zone: dt.tzinfo | str,
) -> list[Eligibility]:
    """Every candidate (or the ones named), eligible or not, with every reason, as of ``today``
    (default: the room's date now) with each attempt's date on the room's calendar (``zone``).

    ``ignore_sittings``: sittings left out, as if not opened yet: the one a candidate signs in to
    (``delivery.session`` checks every rule again then, on the day it is taken).
    """
    today = today or clock.today(zone)
    ignored = set(ignore_sittings)
    candidates = candidates_q.select_candidates(session, candidate_ids)
    if candidate_ids is not None:
        missing = sorted(set(candidate_ids) - {c.id for c in candidates})
        if missing:
            raise ExamBuilderError(f"no candidate {', '.join(map(repr, missing))}; import the roster first")
    ids = [c.id for c in candidates]
    missed = late_or_absent(session, ids)
    homework = participation(session, ids)
    sittings: dict[str, list[Sitting]] = {}
    for s in sittings_q.select_sittings_of_candidates(session, exam_id, ids):
        if s.id not in ignored:
            sittings.setdefault(s.candidate_id, []).append(s)
    tutoring = {t.sitting_id: t for t in tutoring_q.select_tutoring(session, ids, exam_id)}
    attended = {sid for sid, t in tutoring.items() if t.attended_on is not None}

    result = []
    for cand in candidates:
        reasons: list[str] = []
        barriers: list[Barrier] = []
        modules = [module_label(c, m) for c, m, _status in missed.get(cand.id, [])]
        if len(modules) >= policy.disqualify_late_or_absent:
            reasons.append(f"late or absent for {len(modules)} modules: {', '.join(modules)}")
            barriers.append(Barrier.attendance)
        counted = [s for s in sittings.get(cand.id, []) if counts_as_attempt(s, policy)]
        used = len(counted)
        next_allowed = None
        last_failed, tutor = False, None
        passed = [s for s in counted if s.outcome == Outcome.passed]
        if passed:
            reasons.append(f"already passed (attempt {passed[0].attempt_no} on {sitting_date(passed[0], zone)})")
            barriers.append(Barrier.passed)
        elif used >= policy.max_attempts:
            reasons.append(f"no attempts left ({used} of {policy.max_attempts} used)")
            barriers.append(Barrier.no_attempts)
        else:
            pending = [s for s in counted if s.outcome is None and s.status != SittingStatus.absent]
            for s in pending:
                reasons.append(f"attempt {s.attempt_no} has no result yet ({s.status.replace('_', ' ')})")
                barriers.append(Barrier.pending)
            last = counted[-1] if counted else None
            if last is not None and last.outcome == Outcome.failed:
                last_failed, tutor = True, tutoring.get(last.id)
                wait_until = retake_on(last, policy, zone)
                if today < wait_until:
                    reasons.append(f"waiting period after a failed attempt: not before {wait_until.isoformat()}")
                    barriers.append(Barrier.waiting)
                    next_allowed = wait_until
                if policy.tutoring_after_failure == "required" and last.id not in attended:
                    reasons.append("tutoring required before the next attempt")
                    barriers.append(Barrier.tutoring)
        result.append(Eligibility(
            candidate_id=cand.id,
            name=cand.name,
            eligible=not reasons,
            reasons=reasons,
            attempts_used=used,
            attempts_left=max(0, policy.max_attempts - used),
            next_allowed_on=next_allowed,
            cohort=cand.cohort,
            late_or_absent=modules,
            participation=homework.get(cand.id),
            barriers=barriers,
            sat_before=bool(counted),
            last_failed=last_failed,
            tutoring_offered_on=tutor.offered_on if tutor else None,
            tutoring_attended_on=tutor.attended_on if tutor else None,
        ))
    return result


def standing(row: Eligibility, exam_id: str, policy: ProgramPolicy) -> str:
    """A candidate's standing for an exam in one line: whether and when they may sit (again),
    attempts left, tutoring ("may sit cps again: not before 2026-12-20 (waiting period after a
    failed attempt); 2 attempts left; tutoring offered 2026-12-06, not yet attended")."""
    head = f"may sit {exam_id}" + (" again" if row.sat_before else "") + ": "
    if row.eligible:
        head += "yes"
    else:
        others = [r for b, r in zip(row.barriers, row.reasons, strict=False) if b != Barrier.waiting]
        if Barrier.waiting in row.barriers:
            assert row.next_allowed_on is not None  # a waiting period ends on a date
            head += f"not before {row.next_allowed_on.isoformat()} (waiting period after a failed attempt)"
            head += "".join(f"; {r}" for r in others)
        else:
            head += "no (" + "; ".join(others) + ")"
    parts = [head]
    if Barrier.passed not in row.barriers:
        parts.append(f"{row.attempts_left} attempt{'s' if row.attempts_left != 1 else ''} left")
    if row.last_failed:
        tutoring = "tutoring " + ("required, " if policy.tutoring_after_failure == "required" else "")
        if row.tutoring_offered_on is None:
            tutoring += "not offered yet"
        else:
            tutoring += f"offered {row.tutoring_offered_on.isoformat()}, " + (
                f"attended {row.tutoring_attended_on.isoformat()}" if row.tutoring_attended_on
                else "not yet attended")
        parts.append(tutoring)
    return "; ".join(parts)


def write_eligibility_csv(path, rows: list[Eligibility], root) -> None:
    """The eligibility table as CSV, every reason in one column (it holds names: keep it out of git)."""
    from .csvfile import write_csv_atomic

    write_csv_atomic(path, ["candidate id", "name", "cohort", "eligible", "late or absent",
                            "homework", "attempts used", "attempts left", "next allowed on", "reasons"],
                     [[e.candidate_id, e.name, e.cohort, "yes" if e.eligible else "no",
                       " ".join(e.late_or_absent), str(e.participation or "-"), e.attempts_used,
                       e.attempts_left, "-" if e.next_allowed_on is None else str(e.next_allowed_on),
                       "; ".join(e.reasons)] for e in rows], root=root)
