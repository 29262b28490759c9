"""The answer journal (``eb_response``): append-only, the latest row per (sitting, item) wins.

``latest_ids`` is the one definition of "the latest answer per item"; every reader of
answers (the candidate's session, collection, the proctor, the rating queue, the report)
goes through it, in one query for however many sittings.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.orm import Session

from ..models import ItemComment, Response


def latest_ids(sittings: Collection[int] | Any, item_id: str | None = None) -> ScalarSelect:
    """The ids of the latest journal row per (sitting, item) of ``sittings`` (ids or a subquery)."""
    conds: list[ColumnElement[bool]] = [Response.sitting_id.in_(sittings)]
    if item_id is not None:
        conds.append(Response.item_id == item_id)
    return (select(func.max(Response.id)).where(*conds)
            .group_by(Response.sitting_id, Response.item_id).scalar_subquery())


def select_latest_responses(s: Session, sitting_ids: list[int],
                            item_id: str | None = None) -> dict[int, dict[str, Response]]:
    """Each sitting's answer to each item (or to ``item_id`` only), in one query."""
    out: dict[int, dict[str, Response]] = {sid: {} for sid in sitting_ids}
    if not sitting_ids:
        return out
    for r in s.execute(select(Response).where(Response.id.in_(latest_ids(sitting_ids, item_id)))).scalars():
        out[r.sitting_id][r.item_id] = r
    return out


def select_item_mark(s: Session, sitting_ids: list[int], item_id: str) -> tuple[int, int | None]:
    """(rows, newest row id) of the journal of ``item_id`` in these sittings, on ``ix_eb_response_sitting_item``:
    journal rows are only ever added, so any answer written since changes it."""
    if not sitting_ids:
        return 0, None
    rows, newest = s.execute(select(func.count(), func.max(Response.id)).where(
        Response.sitting_id.in_(sitting_ids), Response.item_id == item_id)).one()
    return int(rows), newest


def select_answered_counts(s: Session, sittings: Any) -> dict[int, int]:
    """Items answered (latest value not blank) per sitting of ``sittings`` (a subquery: a whole room)."""
    return dict(s.execute(select(Response.sitting_id, func.count()).where(
        Response.id.in_(latest_ids(sittings)), Response.value.is_not(None), Response.value != "")
        .group_by(Response.sitting_id)).all())


def select_last_answer_times(s: Session, sittings: Any) -> dict[int, dt.datetime]:
    """When each sitting of ``sittings`` last sent an answer (the proctor sees a silent seat)."""
    return dict(s.execute(select(Response.sitting_id, func.max(Response.recorded_at))
                          .where(Response.sitting_id.in_(sittings)).group_by(Response.sitting_id)).all())


def select_limit_counts(s: Session, sitting_id: int, since: dt.datetime) -> tuple[int, int]:
    """(rows, rows after ``since``) of a sitting's answers and comments together, in ONE statement (the
    save's write transaction holds the writers' lock meanwhile: one round trip, not two): four scalar
    subqueries on ``ix_eb_response_sitting_recorded`` and ``ix_eb_item_comment_sitting_recorded``."""
    def counts(model) -> tuple[ScalarSelect, ScalarSelect]:
        mine = model.sitting_id == sitting_id
        return (select(func.count()).select_from(model).where(mine).scalar_subquery(),
                select(func.count()).select_from(model).where(mine, model.recorded_at > since).scalar_subquery())

    (r_total, r_recent), (c_total, c_recent) = counts(Response), counts(ItemComment)
    total, recent = s.execute(select(r_total + c_total, r_recent + c_recent)).one()
    return int(total), int(recent)


def select_count(s: Session) -> int:
    """How many journal rows exist, every sitting's (the demo shows practice adds none)."""
    return s.execute(select(func.count(Response.id))).scalar_one()
