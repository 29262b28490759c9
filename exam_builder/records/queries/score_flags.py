"""Score flags (``eb_score_flag``): what objective scoring and rubric edits left for staff to see."""
from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Row, Table, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import ScoreFlag

FLAGS = cast(Table, ScoreFlag.__table__)  # a mapped class's table (typed as any FromClause)


def select_flags(s: Session, assignments: Collection[str]) -> list[Row]:
    """(form, candidate, cell, kind, details) of the flags of these forms, in a steady order."""
    return list(s.execute(
        select(ScoreFlag.assignment, ScoreFlag.candidate_id, ScoreFlag.grade_id, ScoreFlag.kind, ScoreFlag.details)
        .where(ScoreFlag.assignment.in_(assignments))
        .order_by(ScoreFlag.assignment, ScoreFlag.candidate_id, ScoreFlag.id)).all())


def select_flag_counts(s: Session, assignments: Collection[str]) -> dict[tuple[str, str], int]:
    """(form, candidate) -> how many flags (a result with flags is not final)."""
    return {(assignment, cand): n for assignment, cand, n in s.execute(
        select(ScoreFlag.assignment, ScoreFlag.candidate_id, func.count())
        .where(ScoreFlag.assignment.in_(assignments))
        .group_by(ScoreFlag.assignment, ScoreFlag.candidate_id))}


def select_flag_details(s: Session, kind: str, assignments: Collection[str]) -> dict[tuple[str, str], str]:
    """(candidate, form) -> details of the flags of one kind (submissions set aside)."""
    rows = s.execute(select(ScoreFlag.candidate_id, ScoreFlag.assignment, ScoreFlag.details)
                     .where(ScoreFlag.kind == kind, ScoreFlag.assignment.in_(assignments)))
    return {(c, a): d for c, a, d in rows}


def delete_flags_of_kind(s: Session, assignment: str, kind: str) -> None:
    """Drop a form's flags of one kind (they are replaced by this run's)."""
    s.execute(delete(ScoreFlag).where(ScoreFlag.assignment == assignment, ScoreFlag.kind == kind))


def delete_flags_of_candidates(conn: Connection, assignment: str, candidate_ids: list[str],
                               kinds: Collection[str]) -> None:
    """Drop the flags of these kinds of a batch of candidates, 500 per statement (Core, bulk)."""
    for i in range(0, len(candidate_ids), 500):
        conn.execute(delete(FLAGS).where(
            ScoreFlag.assignment == assignment, ScoreFlag.candidate_id.in_(candidate_ids[i:i + 500]),
            ScoreFlag.kind.in_(kinds)))


def insert_flags(conn: Connection, rows: list[dict]) -> None:
    """Insert many flags in one statement (Core, bulk)."""
    if rows:
        conn.execute(insert(FLAGS), rows)


def delete_cell_flag(s: Session, assignment: str, candidate_id: str, grade_id: str, kind: str) -> None:
    """Drop one cell's flag of one kind (a re-rated response is no longer waiting)."""
    s.execute(delete(ScoreFlag).where(ScoreFlag.assignment == assignment, ScoreFlag.candidate_id == candidate_id,
                                      ScoreFlag.grade_id == grade_id, ScoreFlag.kind == kind))
