"""Grade seals (``eb_grade_seal``): what exam-builder last wrote into each grade of the gradebook
(``grading.seal`` computes and checks them; these are the statements, 500 candidates a statement)."""
from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Row, Table, delete, insert, select
from sqlalchemy.engine import Connection

from ..models import GradeSeal

SEAL = cast(Table, GradeSeal.__table__)  # a mapped class's table (typed as any FromClause)


def _chunks(seq: list, n: int = 500):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def select_seals(conn: Connection, assignment: str, candidates: Collection[str] | None = None) -> list[Row]:
    """The seals of an assignment (of these candidates only, when given)."""
    query = select(SEAL).where(SEAL.c.assignment == assignment)
    if candidates is None:
        return list(conn.execute(query))
    out: list[Row] = []
    for chunk in _chunks(sorted(set(candidates))):
        out += conn.execute(query.where(SEAL.c.candidate_id.in_(chunk))).all()
    return out


def replace_seals(conn: Connection, assignment: str, candidates: Collection[str], rows: list[dict]) -> None:
    """The seals of these candidates become ``rows`` (the caller's transaction)."""
    for chunk in _chunks(sorted(set(candidates))):
        conn.execute(delete(SEAL).where(SEAL.c.assignment == assignment, SEAL.c.candidate_id.in_(chunk)))
    if rows:
        conn.execute(insert(SEAL), rows)  # SQLAlchemy's own parameters: ``sealed_at`` is a datetime
