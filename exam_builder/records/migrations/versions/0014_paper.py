"""paper: answer sheets scanned into the journal, checks of unclear marks, large print, paper submits

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 18:00:00

Two new tables: ``eb_paper_page`` (each scanned page of a paper sitting's answer sheet, once;
a written page keeps its cropped writing area for blind rating) and ``eb_paper_check`` (an
answer read from paper that a staff member must confirm or correct: a faint, erased or double
mark, or a short answer written by hand). Three CHECK lists grow: ``eb_accommodation.kind``
accepts ``large_print``, ``eb_sitting.submit_reason`` accepts ``paper`` and ``eb_audit.action``
accepts ``paper.print``, ``paper.scan`` and ``paper.verify``.

The lists are written out here, not imported from ``records.states``: a migration says what the
database was at this revision. On the way down, rows using a new word would break the old
constraints; rather than rewrite them (an audit entry cannot change without breaking its hash
chain) the downgrade stops, changing nothing, and says how many rows are in the way.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = ("extended_time", "scribe", "separate_room", "other", "breaks")
REASONS = ("candidate", "deadline", "proctor")
ACTIONS = (
    "accommodation.request", "accommodation.approve", "accommodation.revoke", "sign_in.unlock", "roster.import",
    "attendance.import", "homework.import", "homework.sync", "sitting.open", "sitting.void", "sitting.outcome",
    "sitting.absent", "sitting.absent_undone", "sitting.pause", "sitting.resume", "sitting.window",
    "sitting.reissue_code", "sitting.break", "sitting.break_end", "add_time", "record_scribe", "tutoring.offer",
    "tutoring.attend", "exam.created", "form.built", "form.rebuilt", "form.released", "item.reviewed",
    "practice_set_built", "score_objective", "score_objective.unknown_candidates", "rating",
    "rating_claim_expired", "rating_rerate", "rating_reapplied", "item_score",
    # revision 0012 (standard setting)
    "study.created", "study.panelist", "study.round", "study.ratings", "standard.adopted", "form.recut",
    # revision 0013 (recourse)
    "key.decision", "key.applied", "key.closed", "appeal.recorded", "appeal.rerate", "appeal.decided",
)
NEW = {
    ("eb_accommodation", "kind"): ("large_print",),
    ("eb_sitting", "submit_reason"): ("paper",),
    ("eb_audit", "action"): ("paper.print", "paper.scan", "paper.verify"),
}
BEFORE = {("eb_accommodation", "kind"): KINDS, ("eb_sitting", "submit_reason"): REASONS,
          ("eb_audit", "action"): ACTIONS}


def _words(table: str, column: str, words: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{w}'" for w in words)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), sa.text(f"{column} IN ({allowed})"))


def upgrade() -> None:
    op.create_table(
        "eb_paper_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("scanned_by", sa.String(length=128), nullable=False),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sitting_id"], ["eb_sitting.id"], name=op.f("fk_eb_paper_page_sitting_id_eb_sitting")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_paper_page")),
        sa.UniqueConstraint("sitting_id", "page", name=op.f("uq_eb_paper_page_sitting_id")),
    )
    with op.batch_alter_table("eb_paper_page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eb_paper_page_sitting_id"), ["sitting_id"], unique=False)
    op.create_table(
        "eb_paper_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("why", sa.String(length=16), nullable=False),
        sa.Column("read", sa.String(length=64), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("decided", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sitting_id"], ["eb_sitting.id"],
                                name=op.f("fk_eb_paper_check_sitting_id_eb_sitting")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_paper_check")),
    )
    with op.batch_alter_table("eb_paper_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eb_paper_check_sitting_id"), ["sitting_id"], unique=False)
    for (table, column), words in BEFORE.items():
        _words(table, column, words + NEW[(table, column)])


def downgrade() -> None:
    bind = op.get_bind()
    in_use = []
    for (table, column), words in NEW.items():
        t = sa.table(table, sa.column(column))
        n = bind.execute(sa.select(sa.func.count()).select_from(t).where(t.c[column].in_(words))).scalar_one()
        if n:
            in_use.append(f"{n} row{'s' if n != 1 else ''} of {table} with {column} in {', '.join(words)}")
    if in_use:
        raise RuntimeError("revision 0014 (paper) cannot be undone: " + "; ".join(in_use)
                           + " would break the lists of the revision before it; nothing was changed.")
    for (table, column), words in BEFORE.items():
        _words(table, column, words)
    op.drop_table("eb_paper_check")
    op.drop_table("eb_paper_page")
