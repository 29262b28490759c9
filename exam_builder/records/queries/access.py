"""Wrong access codes and lockouts (``eb_wrong_code``, ``eb_lockout``), shared by every server process."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Lockout, WrongCode
from .dialect import WRONG_CODE_LOCK, lock_transaction


def lock_wrong_codes(s: Session) -> None:
    """Serialize the counting of wrong codes across processes (PostgreSQL; SQLite already is)."""
    lock_transaction(s, WRONG_CODE_LOCK)


def select_active_lockout(s: Session, source: str, now: dt.datetime) -> Lockout | None:
    """The source's newest lockout in force at ``now``, if any."""
    return s.execute(select(Lockout).where(Lockout.source == source, Lockout.lifted_at.is_(None),
                                           Lockout.until > now)
                     .order_by(Lockout.id.desc()).limit(1)).scalar_one_or_none()


def select_wrong_code_count(s: Session, since: dt.datetime, source: str | None = None) -> int:
    """Wrong codes after ``since`` (of one source, or of every source: the flood check)."""
    stmt = select(func.count()).select_from(WrongCode)
    if source is not None:
        stmt = stmt.where(WrongCode.source == source)
    return s.execute(stmt.where(WrongCode.at > since)).scalar_one()


def select_last_lift(s: Session, source: str) -> dt.datetime | None:
    """When a proctor last lifted a lockout of ``source``: earlier wrong codes no longer count."""
    return s.execute(select(func.max(Lockout.lifted_at)).where(Lockout.source == source)).scalar_one()


def select_current_lockouts(s: Session, now: dt.datetime) -> list[Lockout]:
    """Every source locked out at ``now``, the newest first."""
    return list(s.execute(select(Lockout).where(Lockout.lifted_at.is_(None), Lockout.until > now)
                          .order_by(Lockout.locked_at.desc())).scalars())
