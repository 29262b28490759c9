"""sitting outcome: pass or fail, recorded by grading's results (ledger.record_outcome)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing sittings keep their rows; their outcome is unknown (NULL) until graded.
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eb_sitting", schema=None) as batch_op:
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("outcome")
