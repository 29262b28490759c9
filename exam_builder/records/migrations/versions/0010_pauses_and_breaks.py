"""pauses and breaks: a sitting's clock can stop (a proctor's pause, a candidate's break), and breaks are an
accommodation

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:00:00

``eb_sitting`` gains the stopped clock: ``paused_at``, ``paused_by`` and ``pause_reason`` (a
pause running now, of the sitting or its whole room), ``break_started_at`` and ``break_ends_at``
(a break running now), ``breaks_taken``, and ``paused_seconds``, the stopped time already over,
which moves the deadline (start + limit + added + paused). Kept in the database so that every
server sharing it computes the same deadline. ``eb_accommodation`` gains ``break_count`` and
``break_minutes``, and its ``kind`` accepts ``breaks``: the CHECK constraint
``ck_eb_accommodation_kind`` (revision 0006) is dropped and created again with the new list.
Existing rows get zero stopped time and no breaks: nothing changes for them on the way up.

On the way down the columns would go, and with them the stopped time of the sittings not
finished (their deadline would jump back) and every approved break; rather than lose either
silently, the downgrade stops, changing nothing, and names how many rows to decide about.

The kind lists are written out here, not imported from ``records.states``: a migration says
what the database was at this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BEFORE = ("extended_time", "scribe", "separate_room", "other")
AFTER = BEFORE + ("breaks",)
UNFINISHED = ("scheduled", "in_progress")


def _kinds(kinds: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("eb_accommodation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_eb_accommodation_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_eb_accommodation_kind"), sa.text(f"kind IN ({allowed})"))


def upgrade() -> None:
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("paused_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("pause_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("paused_seconds", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("break_started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("break_ends_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("breaks_taken", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("eb_accommodation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("break_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("break_minutes", sa.Integer(), nullable=True))
    _kinds(AFTER)


def downgrade() -> None:
    bind = op.get_bind()
    acc = sa.table("eb_accommodation", sa.column("kind"))
    sit = sa.table("eb_sitting", sa.column("status"), sa.column("paused_seconds"), sa.column("paused_at"),
                   sa.column("break_started_at"))
    breaks = bind.execute(sa.select(sa.func.count()).select_from(acc).where(acc.c.kind == "breaks")).scalar_one()
    stopped = bind.execute(sa.select(sa.func.count()).select_from(sit).where(
        sit.c.status.in_(UNFINISHED),
        sa.or_(sit.c.paused_seconds != 0, sit.c.paused_at.is_not(None), sit.c.break_started_at.is_not(None)))
    ).scalar_one()
    if breaks or stopped:
        why = []
        if breaks:
            why.append(f"{breaks} accommodation{'s are' if breaks != 1 else ' is'} breaks, a kind revision 0009 "
                       "does not know (revoke them, then delete them or record them as other)")
        if stopped:
            why.append(f"{stopped} sitting{'s' if stopped != 1 else ''} not finished had "
                       f"{'their' if stopped != 1 else 'its'} "
                       "clock stopped, and would lose that time (let them finish first)")
        raise RuntimeError("revision 0010 cannot be undone: " + "; ".join(why) + "; nothing was changed.")
    _kinds(BEFORE)
    with op.batch_alter_table("eb_accommodation", schema=None) as batch_op:
        batch_op.drop_column("break_minutes")
        batch_op.drop_column("break_count")
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        for column in ("breaks_taken", "break_ends_at", "break_started_at", "paused_seconds", "pause_reason",
                       "paused_by", "paused_at"):
            batch_op.drop_column(column)
