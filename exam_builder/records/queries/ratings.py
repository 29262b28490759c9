"""Ratings (``eb_rating``): one grader's rubric levels and score for one response."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Rating, Sitting
from .dialect import get_for_update


def select_rating(s: Session, rating_id: int, lock: bool = True) -> Rating | None:
    """One rating, row-locked by default (a save decides on it)."""
    return get_for_update(s, Rating, rating_id, lock)


def select_ratings_of_item(s: Session, item_id: str) -> list[Rating]:
    """Every rating of one item (the queue works out who may rate what)."""
    return list(s.execute(select(Rating).where(Rating.item_id == item_id)).scalars())


def select_ratings_of_response(s: Session, sitting_id: int, item_id: str) -> list[Rating]:
    """The ratings of one response (a decision is made from them)."""
    return list(s.execute(select(Rating).where(Rating.sitting_id == sitting_id, Rating.item_id == item_id)).scalars())


def select_scored_ratings(s: Session, sitting_ids: Collection[int]) -> list[Rating]:
    """The ratings with a score of these sittings (rater agreement in the report)."""
    return list(s.execute(select(Rating).where(Rating.sitting_id.in_(sitting_ids),
                                               Rating.score.is_not(None))).scalars())


def select_rater_names(s: Session, exam_id: str) -> list[str]:
    """Every name an exam's ratings were given under, oldest first (a sign-in keeps to one spelling)."""
    rows = s.execute(select(Rating.rater).join(Sitting, Sitting.id == Rating.sitting_id)
                     .where(Sitting.exam_id == exam_id).group_by(Rating.rater).order_by(func.min(Rating.id)))
    return list(rows.scalars())


def select_ratings_on_older_rubric(s: Session, exam_id: str, rubric_id: str, rubric_hash: str) -> list[Rating]:
    """An exam's ratings made with another version of a rubric, by id (re-applying it)."""
    return list(s.execute(
        select(Rating).join(Sitting, Sitting.id == Rating.sitting_id)
        .where(Sitting.exam_id == exam_id, Rating.rubric_id == rubric_id, Rating.rubric_hash != rubric_hash)
        .order_by(Rating.id)
    ).scalars().all())
