"""Decided item scores (``eb_item_score``): the outcome of the rating process per response."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from ...model.states import ItemScoreStatus
from ..models import ItemScore


def select_item_score(s: Session, sitting_id: int, item_id: str) -> ItemScore | None:
    """The decision on one response, if any."""
    return s.execute(select(ItemScore).where(ItemScore.sitting_id == sitting_id,
                                             ItemScore.item_id == item_id)).scalar_one_or_none()


def select_decided_sittings(s: Session, item_id: str) -> set[int]:
    """The sittings whose response to ``item_id`` has a decision (blanks are settled once)."""
    return set(s.execute(select(ItemScore.sitting_id).where(ItemScore.item_id == item_id)).scalars())


def select_statuses(s: Session, item_id: str) -> dict[int, ItemScoreStatus]:
    """sitting -> the status of its decision on ``item_id`` (who a response waits for)."""
    return dict(s.execute(select(ItemScore.sitting_id, ItemScore.status).where(ItemScore.item_id == item_id)).all())


def select_status_counts(s: Session, item_id: str) -> list[Row]:
    """(status, count) of an item's decisions."""
    return list(s.execute(select(ItemScore.status, func.count()).where(ItemScore.item_id == item_id)
                          .group_by(ItemScore.status)).all())


def select_final_scores(s: Session, sitting_ids: Collection[int]) -> dict[tuple[int, str], float | None]:
    """(sitting, item) -> score of the final decisions of these sittings."""
    return {(sid, item): score for sid, item, score in s.execute(
        select(ItemScore.sitting_id, ItemScore.item_id, ItemScore.score).where(
            ItemScore.sitting_id.in_(sitting_ids), ItemScore.status == ItemScoreStatus.final))}
