"""recourse: candidates' comments on questions, key-validation decisions, appeals

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00

New tables: ``eb_item_comment`` (a candidate's comment on a question, journaled like an answer),
``eb_key_decision`` (a decision on an objective item's key: keep, accept another answer as well,
credit everyone, drop; scoring reads it, the frozen manifest is never edited),
``eb_key_validation`` (key validation of an exam closed at a time), ``eb_appeal`` and
``eb_appeal_rating`` (an appeal and its blind re-rating). ``eb_audit.action`` accepts the new
words (``key.*``, ``appeal.*``): its CHECK constraint ``ck_eb_audit_action`` is created again
with them. The lists are written out here, not imported from ``records.states``.

Down drops the tables (and what they hold) and puts the audit list back; it stops, changing
nothing, when the audit trail holds one of the new words (an audit entry cannot be removed
without breaking its hash chain).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

AUDIT_BEFORE = (
    "accommodation.request", "accommodation.approve", "accommodation.revoke", "sign_in.unlock", "roster.import",
    "attendance.import", "homework.import", "homework.sync", "sitting.open", "sitting.void", "sitting.outcome",
    "sitting.absent", "sitting.absent_undone", "sitting.pause", "sitting.resume", "sitting.window",
    "sitting.reissue_code", "sitting.break", "sitting.break_end", "add_time", "record_scribe", "tutoring.offer",
    "tutoring.attend", "exam.created", "form.built", "form.rebuilt", "form.released", "item.reviewed",
    "practice_set_built", "score_objective", "score_objective.unknown_candidates", "rating",
    "rating_claim_expired", "rating_rerate", "rating_reapplied", "item_score",
    # revision 0012 (standard setting)
    "study.created", "study.panelist", "study.round", "study.ratings", "standard.adopted", "form.recut",
)
AUDIT_NEW = ("key.decision", "key.applied", "key.closed", "appeal.recorded", "appeal.rerate", "appeal.decided")
KEY_ACTIONS = ("keep", "accept", "credit", "drop")
CATEGORIES = ("procedure", "accommodation", "score")
DECISIONS = ("upheld", "partly", "denied")


def _audit_words(words: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{w}'" for w in words)
    with op.batch_alter_table("eb_audit", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_eb_audit_action"), type_="check")
        batch_op.create_check_constraint(op.f("ck_eb_audit_action"), sa.text(f"action IN ({allowed})"))


def _check(column: str, words: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{w}'" for w in words)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def upgrade() -> None:
    op.create_table(
        "eb_item_comment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("entered_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["sitting_id"], ["eb_sitting.id"],
                                name=op.f("fk_eb_item_comment_sitting_id_eb_sitting")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_item_comment")),
    )
    op.create_index("ix_eb_item_comment_sitting_recorded", "eb_item_comment", ["sitting_id", "recorded_at"])
    op.create_table(
        "eb_key_decision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("accepted", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("applied_by", sa.String(length=128), nullable=True),
        _check("action", KEY_ACTIONS, op.f("ck_eb_key_decision_action")),
        sa.ForeignKeyConstraint(["exam_id"], ["eb_exam.id"], name=op.f("fk_eb_key_decision_exam_id_eb_exam")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_key_decision")),
    )
    op.create_index("ix_eb_key_decision_item", "eb_key_decision", ["exam_id", "item_id", "id"])
    op.create_table(
        "eb_key_validation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["exam_id"], ["eb_exam.id"], name=op.f("fk_eb_key_validation_exam_id_eb_exam")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_key_validation")),
    )
    op.create_index(op.f("ix_eb_key_validation_exam_id"), "eb_key_validation", ["exam_id"])
    op.create_table(
        "eb_appeal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("rater", sa.String(length=128), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        _check("category", CATEGORIES, op.f("ck_eb_appeal_category")),
        _check("decision", DECISIONS, op.f("ck_eb_appeal_decision")),
        sa.ForeignKeyConstraint(["sitting_id"], ["eb_sitting.id"], name=op.f("fk_eb_appeal_sitting_id_eb_sitting")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_appeal")),
    )
    op.create_index(op.f("ix_eb_appeal_sitting_id"), "eb_appeal", ["sitting_id"])
    op.create_table(
        "eb_appeal_rating",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("rater", sa.String(length=128), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rubric_hash", sa.String(length=64), nullable=False),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["appeal_id"], ["eb_appeal.id"], name=op.f("fk_eb_appeal_rating_appeal_id_eb_appeal")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_appeal_rating")),
        sa.UniqueConstraint("appeal_id", "item_id", name="uq_eb_appeal_rating_item"),
    )
    op.create_index(op.f("ix_eb_appeal_rating_appeal_id"), "eb_appeal_rating", ["appeal_id"])
    _audit_words(AUDIT_BEFORE + AUDIT_NEW)


def downgrade() -> None:
    t = sa.table("eb_audit", sa.column("action"))
    used = op.get_bind().execute(sa.select(sa.func.count()).select_from(t).where(t.c.action.in_(AUDIT_NEW))).scalar()
    if used:
        raise RuntimeError(f"revision 0013 cannot be undone: the audit trail holds {used} entr"
                           f"{'y' if used == 1 else 'ies'} of comments, key validation or appeals "
                           f"({', '.join(AUDIT_NEW)}), which cannot be removed without breaking its hash chain. "
                           "Nothing was changed.")
    for table in ("eb_appeal_rating", "eb_appeal", "eb_key_validation", "eb_key_decision", "eb_item_comment"):
        op.drop_table(table)
    _audit_words(AUDIT_BEFORE)
