"""typed states: a CHECK constraint on every lifecycle column (records.states)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00

Each column below accepts only its states from now on, through a CHECK constraint named
``ck_<table>_<column>`` (the metadata's naming convention). Existing rows are converted first:
a value is stripped and lowercased, spaces and hyphens become underscores ("In progress" ->
``in_progress``), and the spellings the roster and accommodation sheets accept are mapped to
the state they stand for ("tardy" -> ``late``, "extra time" -> ``extended_time``). A value that
is still not a state stops the upgrade before anything is changed, naming the table, the column
and the values, so that a person decides what it was; no row is dropped or guessed.

The state lists are written out here, not imported from ``records.states``: a migration says
what the database was at this revision, whatever the enums become later.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# (table, column) -> the states of the column at this revision, in the enum's order
STATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("eb_sitting", "status"): ("scheduled", "in_progress", "submitted", "voided"),
    ("eb_sitting", "outcome"): ("pass", "fail"),
    ("eb_attendance", "status"): ("present", "late", "absent"),
    ("eb_accommodation", "status"): ("requested", "approved", "revoked"),
    ("eb_accommodation", "kind"): ("extended_time", "scribe", "separate_room", "other"),
    ("eb_rating", "role"): ("first", "second", "adjudication"),
    ("eb_item_score", "status"): ("pending", "adjudication", "rerate", "final"),
    ("eb_score_flag", "kind"): (
        "missing_notebook", "invalid_notebook", "malformed_cell", "bad_timestamp", "deleted_cell",
        "duplicated_cell", "unknown_cell", "edited_locked_cell", "changed_points", "changed_cell_type",
        "changed_metadata", "junk_answer", "unknown_label", "unknown_candidate", "rerate",
    ),
}

# Spellings an import accepts for a state (records.attendance.STATUS, accommodations.KIND_ALIASES),
# after normalising (lowercase, "_" for spaces and hyphens): a value stored as typed maps to its state.
LEGACY: dict[tuple[str, str], dict[str, str]] = {
    ("eb_attendance", "status"): {
        "p": "present", "yes": "present", "attended": "present",
        "l": "late", "tardy": "late",
        "a": "absent", "no": "absent", "missed": "absent", "missing": "absent",
    },
    ("eb_accommodation", "kind"): {
        "extra_time": "extended_time", "time_and_a_half": "extended_time", "private_room": "separate_room",
    },
}


def _normal(value: str) -> str:
    return "_".join(value.strip().lower().replace("-", " ").split())


def _constraint(table: str, column: str) -> str:
    return f"ck_{table}_{column}"


def _convert(conn: sa.Connection) -> list[str]:
    """Rewrite every convertible value to its state; return what is left that is not a state."""
    problems = []
    for (table, column), states in STATES.items():
        legacy = LEGACY.get((table, column), {})
        t = sa.table(table, sa.column(column))
        col = t.c[column]
        counts = conn.execute(sa.select(col, sa.func.count()).where(col.is_not(None)).group_by(col)).all()
        bad = {}
        for value, n in counts:
            if value in states:
                continue
            norm = _normal(value)
            target = norm if norm in states else legacy.get(norm)
            if target is None:
                bad[value] = n
            else:
                conn.execute(sa.update(t).where(col == value).values({column: target}))
        if bad:
            shown = ", ".join(f"{v!r} ({n} row{'s' if n != 1 else ''})" for v, n in sorted(bad.items()))
            problems.append(f"{table}.{column} holds {shown}; its states are {', '.join(states)}")
    return problems


def upgrade() -> None:
    problems = _convert(op.get_bind())
    if problems:
        raise RuntimeError(
            "revision 0006 (typed states) found values that are not states, and changed nothing: "
            + "; ".join(problems)
            + ". Correct those rows (e.g. UPDATE <table> SET <column> = '<state>' WHERE <column> = '<value>'), "
            "then run `exam-builder db upgrade` again."
        )
    tables: dict[str, list[str]] = {}
    for table, column in STATES:
        tables.setdefault(table, []).append(column)
    for table, columns in tables.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                allowed = ", ".join(f"'{s}'" for s in STATES[(table, column)])
                batch_op.create_check_constraint(op.f(_constraint(table, column)), sa.text(f"{column} IN ({allowed})"))


def downgrade() -> None:
    tables: dict[str, list[str]] = {}
    for table, column in STATES:
        tables.setdefault(table, []).append(column)
    for table, columns in tables.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(_constraint(table, column)), type_="check")
