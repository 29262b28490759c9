"""question on: the question a sitting's candidate was on, so a takeover comes back to it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:20:00

``eb_sitting`` gains ``at_question``: the number (on the candidate's form) of the question the
candidate last went to, written as they move. A page that opens the sitting from another browser
(a takeover) comes back there, as a reload does, instead of at the first unanswered question.
Existing rows have none (they come back to the first unanswered question, as before). On the
way down the column goes: only where a candidate was is lost, never an answer or a time.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("at_question", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.drop_column("at_question")
