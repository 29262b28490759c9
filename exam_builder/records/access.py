"""Wrong access codes and lockouts, per source and for the whole server, kept in the database.

The contract: ``gate`` says whether a sign-in may even look at the code typed (a locked-out
source, or a flood of wrong codes from everywhere, refuses every code, right or wrong, with a
message that does not depend on the code); ``record_wrong_code`` records one wrong code and
locks the source once it has had ``max_wrong_codes_per_source`` within
``wrong_code_window_minutes``; ``lift`` is the proctor's audited unlock. The rows live in the
database, not in a process, because several server processes (and each candidate's kernel)
share one database: a guesser cannot spread attempts over pages or processes. Only the time
and the source are kept, never the code typed. On PostgreSQL the counting is serialized by an
advisory lock; on SQLite write transactions already run one at a time.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..model.states import AuditAction
from . import audit
from .models import Lockout, WrongCode
from .queries import access as q


@dataclass(frozen=True)
class Limits:
    """The settings this module needs (``DeliverySettings`` has them all)."""

    per_source: int = 5
    window_minutes: float = 15.0
    lockout_minutes: float = 30.0
    per_minute: int = 30

    @classmethod
    def of(cls, settings) -> "Limits":
        return cls(settings.max_wrong_codes_per_source, settings.wrong_code_window_minutes,
                   settings.lockout_minutes, settings.max_wrong_codes_per_minute)


def _serialize(s: Session) -> None:
    q.lock_wrong_codes(s)


def active_lockout(s: Session, source: str, now: dt.datetime) -> Lockout | None:
    """The source's lockout in force at ``now``, if any."""
    return q.select_active_lockout(s, source, now)


def wrong_codes_last_minute(s: Session, now: dt.datetime) -> int:
    """Wrong codes from every source in the minute before ``now``."""
    return q.select_wrong_code_count(s, now - dt.timedelta(minutes=1))


def gate(s: Session, source: str, now: dt.datetime, limits: Limits) -> str | None:
    """``"locked"`` (this source) or ``"busy"`` (the whole server) when no code may be checked now."""
    _serialize(s)
    if active_lockout(s, source, now) is not None:
        return "locked"
    if wrong_codes_last_minute(s, now) > limits.per_minute:
        return "busy"
    return None


def wrong_codes_of(s: Session, source: str, now: dt.datetime, limits: Limits) -> int:
    """The source's wrong codes that count now: within the window, and since a proctor last lifted it."""
    since = now - dt.timedelta(minutes=limits.window_minutes)
    lifted = q.select_last_lift(s, source)
    if lifted is not None and lifted > since:
        since = lifted
    return q.select_wrong_code_count(s, since, source)


def record_wrong_code(s: Session, source: str, now: dt.datetime, limits: Limits) -> Lockout | None:
    """Record one wrong code; the lockout it started, if it was one too many."""
    _serialize(s)
    s.add(WrongCode(at=now, source=source))
    s.flush()
    n = wrong_codes_of(s, source, now, limits)
    if n >= limits.per_source and active_lockout(s, source, now) is None:
        lock = Lockout(source=source, locked_at=now, until=now + dt.timedelta(minutes=limits.lockout_minutes),
                       wrong_codes=n)
        s.add(lock)
        s.flush()
        return lock
    return None


def current_lockouts(s: Session, now: dt.datetime) -> list[Lockout]:
    """Every source locked out at ``now``, the newest first (for the proctor)."""
    return q.select_current_lockouts(s, now)


def lift(s: Session, source: str, actor: str, reason: str, now: dt.datetime) -> list[Lockout]:
    """A proctor lets a locked-out source sign in again (audited); its earlier wrong codes no longer count."""
    locks = [lock for lock in current_lockouts(s, now) if lock.source == source]
    if not locks:
        raise ExamBuilderError(f"{source} is not locked out (see the proctor's dashboard for the locked sources)")
    for lock in locks:
        lock.lifted_at, lock.lifted_by, lock.lift_reason = now, actor, reason.strip()
        audit.record(s, actor, AuditAction.sign_in_unlock, "source", source, reason.strip(), lockout=lock.id,
                     locked_at=lock.locked_at, until=lock.until, wrong_codes=lock.wrong_codes)
    s.flush()
    return locks
