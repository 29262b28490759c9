"""closure covers: when key validation was closed, apart from the submissions it covers; an appeal's points before

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 08:05:00

``eb_key_validation`` gains ``covers_through``: the latest submission time the closure makes final. A
closure used to store the later of the two in ``closed_at``, so a sitting stamped ahead of the clock (a
simulated one) made the closure read as closed at that sitting's time. ``closed_at`` is now when the
coordinator closed it. An existing row whose audit entry (``key.closed``, naming the closure) is earlier than
its ``closed_at`` gets that entry's time as ``closed_at`` and its old ``closed_at`` as ``covers_through`` (it
covers the same sittings); any other keeps its ``closed_at`` (``covers_through`` NULL reads as ``closed_at``).
The audit trail is only read. On the way down a row's cover goes back into ``closed_at``, then the column goes.

``eb_appeal`` gains ``points_before``: a score appeal's re-rated answers' decided points just before its
decision, so ``appeal list`` shows the re-rating against them after the decision too (it showed them only
while the appeal was open). Existing rows have none; on the way down the column goes.
"""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eb_key_validation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("covers_through", sa.DateTime(), nullable=True))
    conn = op.get_bind()
    closures = {cid: at for cid, at in conn.execute(sa.text("SELECT id, closed_at FROM eb_key_validation"))}
    for at, details in conn.execute(sa.text("SELECT at, details FROM eb_audit WHERE action = 'key.closed'")):
        info = json.loads(details) if isinstance(details, str) else (details or {})
        cid = info.get("closure") if isinstance(info, dict) else None
        stored = closures.get(cid)
        if isinstance(at, str):
            at = dt.datetime.fromisoformat(at)
        if isinstance(stored, str):
            stored = dt.datetime.fromisoformat(stored)
        if stored is not None and at is not None and at < stored - dt.timedelta(seconds=1):
            conn.execute(sa.text("UPDATE eb_key_validation SET closed_at = :at, covers_through = :covers "
                                 "WHERE id = :id"), {"at": at, "covers": stored, "id": cid})
    with op.batch_alter_table("eb_appeal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points_before", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eb_appeal", schema=None) as batch_op:
        batch_op.drop_column("points_before")
    op.execute("UPDATE eb_key_validation SET closed_at = covers_through WHERE covers_through IS NOT NULL")
    with op.batch_alter_table("eb_key_validation", schema=None) as batch_op:
        batch_op.drop_column("covers_through")
