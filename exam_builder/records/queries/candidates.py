"""Candidates (``eb_candidate``): the roster as the other tables see it."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Candidate
from .dialect import for_update


def select_candidate(s: Session, candidate_id: str, lock: bool = False) -> Candidate | None:
    """One candidate; ``lock`` takes the row lock before a decision on their attempts."""
    stmt = select(Candidate).where(Candidate.id == candidate_id)
    if lock:
        stmt = for_update(stmt)
    return s.execute(stmt).scalar_one_or_none()


def select_candidates(s: Session, ids: Collection[str] | None = None, cohort: str | None = None) -> list[Candidate]:
    """Candidates by id (all of them, or those named, or one class's), one query for a whole file."""
    stmt = select(Candidate)
    if cohort:
        stmt = stmt.where(Candidate.cohort == cohort)
    if ids is not None:
        stmt = stmt.where(Candidate.id.in_(list(ids)))
    return list(s.execute(stmt.order_by(Candidate.id)).scalars())


def select_candidate_ids(s: Session, ids: Collection[str] | None = None, cohort: str | None = None,
                         ordered: bool = True) -> list[str]:
    """The ids of every candidate (or of those named, or of one cohort), without loading rows."""
    stmt = select(Candidate.id)
    if cohort:
        stmt = stmt.where(Candidate.cohort == cohort)
    if ids is not None:
        stmt = stmt.where(Candidate.id.in_(list(ids)))
    if ordered:
        stmt = stmt.order_by(Candidate.id)
    return list(s.execute(stmt).scalars())


def select_ids_case_insensitive(s: Session, lowered: Collection[str]) -> list[str]:
    """Existing ids equal to one of ``lowered`` but for case (they would share folders)."""
    return list(s.execute(select(Candidate.id).where(func.lower(Candidate.id).in_(list(lowered)))).scalars().all())


def select_training_ended(s: Session, ids: Collection[str]) -> dict[str, object]:
    """Each candidate's training end date (the report's time from training to certification)."""
    return dict(s.execute(select(Candidate.id, Candidate.training_ended_on).where(Candidate.id.in_(list(ids)))).all())
