"""item review: every reviewer's decision on a version of an item (approve, revise, retire)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00

A new, append-only table ``eb_item_review`` (``bank.review``): who decided what on which
content hash of an item, when and why. ``decision`` accepts only its states through the CHECK
constraint ``ck_eb_item_review_decision``, like the columns of revision 0006. Nothing existing
changes; before this revision no review was recorded, so every item starts waiting for review
(``bank list --waiting``) and the forms already stored stay as they were.

The state list is written out here, not imported from ``records.states``: a migration says
what the database was at this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DECISIONS = ("approve", "revise", "retire")


def upgrade() -> None:
    allowed = ", ".join(f"'{d}'" for d in DECISIONS)
    op.create_table(
        "eb_item_review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("file", sa.String(length=512), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"decision IN ({allowed})", name=op.f("ck_eb_item_review_decision")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_item_review")),
    )
    with op.batch_alter_table("eb_item_review", schema=None) as batch_op:
        batch_op.create_index("ix_eb_item_review_item", ["item_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("eb_item_review", schema=None) as batch_op:
        batch_op.drop_index("ix_eb_item_review_item")
    op.drop_table("eb_item_review")
