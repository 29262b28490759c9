"""The recourse tables (revision 0013): candidates' comments, key decisions and closures, appeals.

``eb_item_comment`` is a journal like ``eb_response``: the latest row per (sitting, item) is the
comment. Comments are read by staff only of submitted sittings (``select_submitted_comments``).
"""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...model.states import SittingStatus
from ..models import Appeal, AppealRating, ItemComment, KeyDecision, KeyValidation, Sitting
from .dialect import get_for_update


def _latest_comment_ids(sitting_ids: Collection[int] | object):
    return (select(func.max(ItemComment.id)).where(ItemComment.sitting_id.in_(sitting_ids))  # type: ignore[arg-type]
            .group_by(ItemComment.sitting_id, ItemComment.item_id).scalar_subquery())


def select_latest_comments(s: Session, sitting_id: int) -> dict[str, str]:
    """item -> the sitting's latest comment on it (empty text: the comment was taken back)."""
    rows = s.execute(select(ItemComment.item_id, ItemComment.text)
                     .where(ItemComment.id.in_(_latest_comment_ids([sitting_id])))).all()
    return {item: text for item, text in rows}


def select_submitted_comments(s: Session, exam_id: str) -> list[tuple[int, int, str, str]]:
    """(sitting, form, item, text) of every non-empty latest comment of the exam's submitted sittings."""
    submitted = select(Sitting.id).where(Sitting.exam_id == exam_id, Sitting.status == SittingStatus.submitted)
    rows = s.execute(select(ItemComment.sitting_id, Sitting.form_id, ItemComment.item_id, ItemComment.text)
                     .join(Sitting, Sitting.id == ItemComment.sitting_id)
                     .where(ItemComment.id.in_(_latest_comment_ids(submitted)), ItemComment.text != "")
                     .order_by(ItemComment.item_id, Sitting.form_id, ItemComment.id)).all()
    return [(a, b, c, d) for a, b, c, d in rows]


def select_key_decisions(s: Session, exam_id: str) -> list[KeyDecision]:
    """Every key decision of an exam, oldest first (the latest per item is in force)."""
    return list(s.execute(select(KeyDecision).where(KeyDecision.exam_id == exam_id).order_by(KeyDecision.id))
                .scalars())


def select_key_decision(s: Session, decision_id: int) -> KeyDecision | None:
    return get_for_update(s, KeyDecision, decision_id)


def select_last_closure(s: Session, exam_id: str) -> KeyValidation | None:
    """The exam's latest closed key validation, if any."""
    return s.execute(select(KeyValidation).where(KeyValidation.exam_id == exam_id)
                     .order_by(KeyValidation.id.desc()).limit(1)).scalar_one_or_none()


def select_appeals(s: Session, exam_id: str | None = None) -> list[tuple[Appeal, Sitting]]:
    """Every appeal (of an exam) with its sitting, oldest first."""
    q = select(Appeal, Sitting).join(Sitting, Sitting.id == Appeal.sitting_id)
    if exam_id is not None:
        q = q.where(Sitting.exam_id == exam_id)
    return [(a, sit) for a, sit in s.execute(q.order_by(Appeal.id)).all()]


def select_appeal(s: Session, appeal_id: int) -> Appeal | None:
    return get_for_update(s, Appeal, appeal_id)


def select_appeal_ratings(s: Session, appeal_id: int) -> dict[str, AppealRating]:
    """item -> the appeal's re-rating of it."""
    return {r.item_id: r for r in s.execute(select(AppealRating).where(AppealRating.appeal_id == appeal_id))
            .scalars()}
