"""The audit trail's table (``eb_audit``): the chain's tail, its walk, and the newest entries."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditEntry
from .dialect import AUDIT_CHAIN_LOCK, lock_transaction


def lock_chain(s: Session) -> None:
    """Serialize appends so two writers never chain onto the same predecessor."""
    lock_transaction(s, AUDIT_CHAIN_LOCK)


def select_last_entry(s: Session) -> AuditEntry | None:
    """The chain's tail: the next entry hashes onto it."""
    return s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()


def select_entries(s: Session) -> Iterator[AuditEntry]:
    """Every entry from the first, streamed, for walking the chain."""
    return iter(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


def select_count(s: Session) -> int:
    """How many entries the trail holds."""
    return s.execute(select(func.count(AuditEntry.id))).scalar_one()


def select_newest(s: Session, entity: str | None = None, entity_id: str | None = None,
                  limit: int = 50) -> list[AuditEntry]:
    """The newest ``limit`` entries (of one kind of entity, or one entity), newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    return list(s.execute(stmt).scalars())
