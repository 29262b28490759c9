"""typed words: sitting event kinds, submit reasons and audit actions get CHECK constraints (records.states)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:00:00

Three columns that held free text now accept only their words, like the lifecycle states of
revision 0006: ``eb_sitting_event.kind`` (``EventKind``), ``eb_sitting.submit_reason``
(``SubmitReason``, NULL until submitted) and ``eb_audit.action`` (``AuditAction``), each through
a CHECK constraint named ``ck_<table>_<column>``. Nothing is converted: every word the program
ever wrote is in its list, so a row holding another word was written by hand; the upgrade then
stops before changing anything and names the table, the row ids and the values, so that a person
decides what they were (an audit entry cannot be rewritten without breaking its hash chain).

The lists are written out here, not imported from ``records.states``: a migration says what the
database was at this revision. Down drops the three constraints.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WORDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("eb_sitting", "submit_reason"): ("candidate", "deadline", "proctor"),
    ("eb_sitting_event", "kind"): (
        "opened", "sign_in", "resume", "sign_in_refused", "taken_over", "receipt_shown", "identity_confirmed",
        "identity_rejected", "start", "refused_change", "limit", "warning", "time_added_shown", "draft_dropped",
        "submit", "time_added", "scribe", "paused", "resumed", "break_started", "break_ended", "voided", "window",
        "code_reissued", "absent", "absent_undone",
    ),
    ("eb_audit", "action"): (
        "accommodation.request", "accommodation.approve", "accommodation.revoke", "sign_in.unlock", "roster.import",
        "attendance.import", "homework.import", "homework.sync", "sitting.open", "sitting.void", "sitting.outcome",
        "sitting.absent", "sitting.absent_undone", "sitting.pause", "sitting.resume", "sitting.window",
        "sitting.reissue_code", "sitting.break", "sitting.break_end", "add_time", "record_scribe", "tutoring.offer",
        "tutoring.attend", "exam.created", "form.built", "form.rebuilt", "form.released", "item.reviewed",
        "practice_set_built", "score_objective", "score_objective.unknown_candidates", "rating",
        "rating_claim_expired", "rating_rerate", "rating_reapplied", "item_score",
    ),
}

#: At most this many row ids are named per value (the count says how many there are).
SHOWN_IDS = 10


def _strays(conn: sa.Connection) -> list[str]:
    """Every value outside its list, as ``table row ids: column = 'value'``."""
    problems = []
    for (table, column), words in WORDS.items():
        t = sa.table(table, sa.column("id"), sa.column(column))
        col = t.c[column]
        rows = conn.execute(sa.select(t.c.id, col).where(col.is_not(None), col.not_in(words)).order_by(t.c.id)).all()
        by_value: dict[str, list[int]] = {}
        for row_id, value in rows:
            by_value.setdefault(value, []).append(row_id)
        for value, ids in sorted(by_value.items()):
            shown = ", ".join(str(i) for i in ids[:SHOWN_IDS]) + (f" and {len(ids) - SHOWN_IDS} more"
                                                                  if len(ids) > SHOWN_IDS else "")
            problems.append(f"{table} row{'s' if len(ids) != 1 else ''} {shown}: {column} = {value!r}")
    return problems


def upgrade() -> None:
    problems = _strays(op.get_bind())
    if problems:
        lists = "; ".join(f"{t}.{c}: {', '.join(w)}" for (t, c), w in WORDS.items())
        raise RuntimeError(
            "revision 0011 (typed words) found values outside their lists, and changed nothing: "
            + "; ".join(problems)
            + f". The words each column accepts are {lists}. Correct or remove those rows, then run "
            "`exam-builder db upgrade` again.")
    for (table, column), words in WORDS.items():
        allowed = ", ".join(f"'{w}'" for w in words)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), sa.text(f"{column} IN ({allowed})"))


def downgrade() -> None:
    for table, column in WORDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
