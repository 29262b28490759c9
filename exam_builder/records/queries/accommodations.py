"""Accommodations (``eb_accommodation``): extra time, a scribe, a room of one's own."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...model.states import AccommodationStatus
from ..models import Accommodation
from .dialect import for_update


def select_accommodation(s: Session, accommodation_id: int) -> Accommodation | None:
    """One accommodation, row-locked (approving or revoking decides on it)."""
    return s.execute(for_update(select(Accommodation).where(Accommodation.id == accommodation_id))).scalar_one_or_none()


def select_accommodations(s: Session, candidate_id: str | None = None,
                          status: AccommodationStatus | str | None = None) -> list[Accommodation]:
    """Accommodations (of one candidate, in one status) by candidate then id."""
    stmt = select(Accommodation).order_by(Accommodation.candidate_id, Accommodation.id)
    if candidate_id:
        stmt = stmt.where(Accommodation.candidate_id == candidate_id)
    if status:
        stmt = stmt.where(Accommodation.status == status)
    return list(s.execute(stmt).scalars())


def select_same_accommodation(s: Session, candidate_id: str, kind: str,
                              requested_on: dt.date | None) -> Accommodation | None:
    """The first live accommodation of this kind (and request date) a sheet's row would repeat."""
    same = select(Accommodation).where(Accommodation.candidate_id == candidate_id, Accommodation.kind == kind,
                                       Accommodation.status != AccommodationStatus.revoked)
    if requested_on is not None:
        same = same.where(Accommodation.requested_on == requested_on)
    return s.execute(same.order_by(Accommodation.id)).scalars().first()


def select_approved_of(s: Session, candidate_ids: Collection[str]) -> list[Accommodation]:
    """The approved accommodations of many candidates, one query (the report)."""
    return list(s.execute(select(Accommodation).where(
        Accommodation.candidate_id.in_(candidate_ids),
        Accommodation.status == AccommodationStatus.approved)).scalars())
