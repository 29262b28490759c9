"""Tutoring after a failed attempt (``eb_tutoring``)."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Tutoring


def select_tutoring_of_sitting(s: Session, sitting_id: int) -> Tutoring | None:
    """The tutoring that followed a sitting, if any (one per failed attempt)."""
    return s.execute(select(Tutoring).where(Tutoring.sitting_id == sitting_id)).scalars().first()


def select_tutoring(s: Session, candidate_ids: Collection[str] | None = None, exam_id: str | None = None,
                    candidate_id: str | None = None) -> list[Tutoring]:
    """Tutoring rows of one candidate or of many (of one exam), in one query."""
    stmt = select(Tutoring)
    if candidate_id is not None:
        stmt = stmt.where(Tutoring.candidate_id == candidate_id)
    if exam_id is not None:
        stmt = stmt.where(Tutoring.exam_id == exam_id)
    if candidate_ids is not None:
        stmt = stmt.where(Tutoring.candidate_id.in_(list(candidate_ids)))
    return list(s.execute(stmt).scalars())


def select_tutoring_ids(s: Session, exam_id: str, sitting_ids: Collection[int]) -> list[int]:
    """The tutoring rows that followed these sittings of an exam (the report counts them)."""
    return list(s.execute(select(Tutoring.id).where(
        Tutoring.exam_id == exam_id, Tutoring.sitting_id.in_(sitting_ids))).scalars())


def select_tutoring_sittings(s: Session, exam_id: str, sitting_ids: Collection[int]) -> list[int]:
    """The sitting each tutoring row of these sittings followed, one per row (the report counts candidates)."""
    return list(s.execute(select(Tutoring.sitting_id).where(
        Tutoring.exam_id == exam_id, Tutoring.sitting_id.in_(sitting_ids))).scalars())
