"""absent sittings: a no-show's sitting is ``absent`` (records.absence), a state the database accepts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00

``eb_sitting.status`` accepts ``absent`` from now on: the CHECK constraint
``ck_eb_sitting_status`` (revision 0006) is dropped and created again with the new list. No row
changes on the way up: a ``scheduled`` sitting whose window has already closed becomes absent
the next time a command or app looks at it (``records.absence.settle``), audited then.

On the way down the old constraint would refuse ``absent``; rather than guess what an absent
sitting should become (it was never taken, so neither ``scheduled`` nor ``voided`` is true),
the downgrade stops, changing nothing, and names how many rows to decide about.

The state lists are written out here, not imported from ``records.states``: a migration says
what the database was at this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BEFORE = ("scheduled", "in_progress", "submitted", "voided")
AFTER = BEFORE + ("absent",)


def _recreate(states: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{s}'" for s in states)
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_eb_sitting_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_eb_sitting_status"), sa.text(f"status IN ({allowed})"))


def upgrade() -> None:
    _recreate(AFTER)


def downgrade() -> None:
    t = sa.table("eb_sitting", sa.column("status"))
    n = op.get_bind().execute(sa.select(sa.func.count()).select_from(t).where(t.c.status == "absent")).scalar_one()
    if n:
        raise RuntimeError(
            f"revision 0009 cannot be undone: {n} sitting{'s are' if n != 1 else ' is'} absent, a state revision "
            "0008 does not know, and changed nothing. Void them (exam-builder sitting void) or decide what they "
            "were, then downgrade again.")
    _recreate(BEFORE)
