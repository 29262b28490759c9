"""standard setting: studies, panels, rounds, ratings, the board's decision and re-cut forms

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 17:40:00

New tables for the standard-setting study (``exam_builder.standard``): ``eb_study`` (an exam's
study: method, scope, the minimally competent candidate), ``eb_study_item`` (the items in scope
as they were), ``eb_panelist`` (role and conflict-of-interest declaration), ``eb_study_round``,
``eb_study_rating`` (append-only: every change between and within rounds kept),
``eb_standard_decision`` (the board's adopted cut) and ``eb_form_cut`` (a frozen form's cut
changed by a recorded decision; ``records.cuts`` reads it). Nothing existing changes, except
that the audit trail's CHECK constraint ``ck_eb_audit_action`` takes the six new actions.

The word list is written out here, not imported from ``records.states``: a migration says what
the database was at this revision. Down drops the tables and restores revision 0011's list; it
refuses while an audit entry holds one of the new actions (an entry cannot be rewritten).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ACTIONS_0011 = (
    "accommodation.request", "accommodation.approve", "accommodation.revoke", "sign_in.unlock", "roster.import",
    "attendance.import", "homework.import", "homework.sync", "sitting.open", "sitting.void", "sitting.outcome",
    "sitting.absent", "sitting.absent_undone", "sitting.pause", "sitting.resume", "sitting.window",
    "sitting.reissue_code", "sitting.break", "sitting.break_end", "add_time", "record_scribe", "tutoring.offer",
    "tutoring.attend", "exam.created", "form.built", "form.rebuilt", "form.released", "item.reviewed",
    "practice_set_built", "score_objective", "score_objective.unknown_candidates", "rating",
    "rating_claim_expired", "rating_rerate", "rating_reapplied", "item_score",
)
NEW_ACTIONS = ("study.created", "study.panelist", "study.round", "study.ratings", "standard.adopted", "form.recut")


def _actions(words: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{w}'" for w in words)
    with op.batch_alter_table("eb_audit", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_eb_audit_action"), type_="check")
        batch_op.create_check_constraint(op.f("ck_eb_audit_action"), sa.text(f"action IN ({allowed})"))


def upgrade() -> None:
    op.create_table(
        "eb_study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("mcc", sa.Text(), nullable=False),
        sa.Column("sd_flag", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_study")),
    )
    op.create_index(op.f("ix_eb_study_exam_id"), "eb_study", ["exam_id"], unique=False)
    op.create_table(
        "eb_study_item",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("rated", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["eb_study.id"], name=op.f("fk_eb_study_item_study_id_eb_study")),
        sa.PrimaryKeyConstraint("study_id", "item_id", name=op.f("pk_eb_study_item")),
    )
    op.create_table(
        "eb_panelist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=128), nullable=False),
        sa.Column("conflict", sa.Text(), nullable=False),
        sa.Column("declared_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["eb_study.id"], name=op.f("fk_eb_panelist_study_id_eb_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_panelist")),
        sa.UniqueConstraint("study_id", "name", name=op.f("uq_eb_panelist_study_id")),
    )
    op.create_index(op.f("ix_eb_panelist_study_id"), "eb_panelist", ["study_id"], unique=False)
    op.create_table(
        "eb_study_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["eb_study.id"], name=op.f("fk_eb_study_round_study_id_eb_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_study_round")),
        sa.UniqueConstraint("study_id", "number", name=op.f("uq_eb_study_round_study_id")),
    )
    op.create_index(op.f("ix_eb_study_round_study_id"), "eb_study_round", ["study_id"], unique=False)
    op.create_table(
        "eb_study_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("round_no", sa.Integer(), nullable=False),
        sa.Column("panelist_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("carried", sa.Boolean(), nullable=False),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.Column("rated_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["panelist_id"], ["eb_panelist.id"],
                                name=op.f("fk_eb_study_rating_panelist_id_eb_panelist")),
        sa.ForeignKeyConstraint(["study_id"], ["eb_study.id"], name=op.f("fk_eb_study_rating_study_id_eb_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_study_rating")),
    )
    op.create_index("ix_eb_study_rating_round", "eb_study_rating", ["study_id", "round_no", "panelist_id", "item_id"],
                    unique=False)
    op.create_table(
        "eb_standard_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("exam_id", sa.String(length=64), nullable=False),
        sa.Column("round_no", sa.Integer(), nullable=False),
        sa.Column("recommended", sa.Float(), nullable=False),
        sa.Column("adopted", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["eb_study.id"],
                                name=op.f("fk_eb_standard_decision_study_id_eb_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_standard_decision")),
    )
    op.create_index(op.f("ix_eb_standard_decision_exam_id"), "eb_standard_decision", ["exam_id"], unique=False)
    op.create_index(op.f("ix_eb_standard_decision_study_id"), "eb_standard_decision", ["study_id"], unique=False)
    op.create_table(
        "eb_form_cut",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("cut_score", sa.Float(), nullable=False),
        sa.Column("previous", sa.Float(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["eb_standard_decision.id"],
                                name=op.f("fk_eb_form_cut_decision_id_eb_standard_decision")),
        sa.ForeignKeyConstraint(["form_id"], ["eb_form.id"], name=op.f("fk_eb_form_cut_form_id_eb_form")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eb_form_cut")),
    )
    op.create_index(op.f("ix_eb_form_cut_form_id"), "eb_form_cut", ["form_id"], unique=False)
    _actions(ACTIONS_0011 + NEW_ACTIONS)


def downgrade() -> None:
    conn = op.get_bind()
    t = sa.table("eb_audit", sa.column("id"), sa.column("action"))
    held = conn.execute(sa.select(t.c.id).where(t.c.action.in_(NEW_ACTIONS)).order_by(t.c.id)).scalars().all()
    if held:
        raise RuntimeError(f"revision 0012 cannot be undone: audit entries {', '.join(map(str, held[:10]))} record "
                           "standard-setting actions, and an audit entry cannot be rewritten. Nothing was changed.")
    _actions(ACTIONS_0011)
    for table in ("eb_form_cut", "eb_standard_decision", "eb_study_rating", "eb_study_round", "eb_panelist",
                  "eb_study_item", "eb_study"):
        op.drop_table(table)
