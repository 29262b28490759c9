"""The SQL of ``eb_item_review``: recorded review decisions on items (``bank.review``).

Every function takes the caller's session; the caller owns the transaction and writes the
audit entry in it. Rows are never updated or deleted: a new decision is a new row.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...model.states import ReviewDecision
from ..models import ItemReview


def insert_review(
    session: Session,
    *,
    item_id: str,
    content_hash: str,
    decision: ReviewDecision,
    reviewer: str,
    author: str = "",
    comment: str = "",
    file: str = "",
) -> ItemReview:
    """Append one decision; flushed, so its ``id`` and ``decided_at`` are set."""
    row = ItemReview(item_id=item_id, content_hash=content_hash, decision=decision, reviewer=reviewer,
                     author=author, comment=comment, file=file)
    session.add(row)
    session.flush()
    return row


def select_reviews(session: Session, item_ids: Iterable[str] | None = None) -> list[ItemReview]:
    """Every decision (of the items named, or of all items), oldest first."""
    stmt = select(ItemReview).order_by(ItemReview.id)
    if item_ids is not None:
        ids = sorted(set(item_ids))
        if not ids:
            return []
        stmt = stmt.where(ItemReview.item_id.in_(ids))
    return list(session.execute(stmt).scalars())
