"""grade seals: what exam-builder last wrote into each grade of nbgrader's gradebook, sealed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 09:00:00

A new table ``eb_grade_seal`` (``grading.seal``): per assignment, candidate and grade cell, the
auto score, manual score and extra credit that exam-builder wrote, and an HMAC of them under the
course's secret (kept in the course folder, never in the database). ``results`` refuses a
gradebook whose scores differ from their seals. Nothing existing changes. A course upgraded to
this revision has no seals yet: run ``exam-builder grade`` again before ``results`` (it seals what
each scored submission's grades hold then).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eb_grade_seal",
        sa.Column("assignment", sa.String(length=128), nullable=False),
        sa.Column("candidate_id", sa.String(length=128), nullable=False),
        sa.Column("grade_id", sa.String(length=128), nullable=False),
        sa.Column("auto_score", sa.Float(), nullable=True),
        sa.Column("manual_score", sa.Float(), nullable=True),
        sa.Column("extra_credit", sa.Float(), nullable=True),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("assignment", "candidate_id", "grade_id", name=op.f("pk_eb_grade_seal")),
    )


def downgrade() -> None:
    op.drop_table("eb_grade_seal")
