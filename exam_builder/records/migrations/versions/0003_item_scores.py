"""grading: decided open-response scores with provenance (eb_item_score), server secrets (eb_secret)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eb_item_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rule", sa.String(length=16), nullable=True),
        sa.Column("rating_ids", sa.JSON(), nullable=False),
        sa.Column("rubric_hash", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sitting_id"], ["eb_sitting.id"], name=op.f("fk_eb_item_score_sitting_id_eb_sitting")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_item_score")),
        sa.UniqueConstraint("sitting_id", "item_id", name="uq_eb_item_score_response"),
    )
    with op.batch_alter_table("eb_item_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eb_item_score_sitting_id"), ["sitting_id"], unique=False)
    op.create_table(
        "eb_secret",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_eb_secret")),
    )


def downgrade() -> None:
    op.drop_table("eb_secret")
    with op.batch_alter_table("eb_item_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eb_item_score_sitting_id"))
    op.drop_table("eb_item_score")
