"""training end: the day a candidate's training ended, from the roster's optional "training ended" column

The program's report measures the time from the end of training to certification from it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Candidates imported before this revision have no date (NULL): the report counts them as "not recorded".
    with op.batch_alter_table("eb_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training_ended_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eb_candidate", schema=None) as batch_op:
        batch_op.drop_column("training_ended_on")
