"""Every difference between PostgreSQL and SQLite, in one place.

SQLite runs one write transaction at a time (``records/db.py`` begins them IMMEDIATE), so row
locks and advisory locks are no-ops there; PostgreSQL needs them to serialize decisions taken
on rows two processes may read at once. Nothing outside this module asks ``dialect.name``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

from sqlalchemy import Insert, Select, Update, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

S = TypeVar("S", bound=Select)
M = TypeVar("M")

# pg_advisory_xact_lock keys of exam-builder (the course lock's key is lock.PG_LOCK_KEY)
AUDIT_CHAIN_LOCK = 7316001
WRONG_CODE_LOCK = 7316002


def name_of(bind: Session | Connection | Engine) -> str:
    """The dialect's name of a session, connection or engine ("postgresql", "sqlite")."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.dialect.name


def is_postgresql(bind: Session | Connection | Engine) -> bool:
    """PostgreSQL needs explicit locks; SQLite serializes writers at BEGIN IMMEDIATE."""
    return name_of(bind) == "postgresql"


def for_update(stmt: S, of: Any = None) -> S:
    """Lock the rows read (PostgreSQL ``FOR UPDATE [OF table]``; SQLAlchemy leaves it out on
    SQLite, whose write transactions already run one at a time)."""
    return stmt.with_for_update(of=of) if of is not None else stmt.with_for_update()


def get_for_update(s: Session, model: type[M], pk: Any, lock: bool = True, fresh: bool = False) -> M | None:
    """``session.get`` that row-locks when ``lock`` (and re-reads the row when ``fresh``)."""
    if fresh:
        return s.get(model, pk, with_for_update=lock, populate_existing=True)
    return s.get(model, pk, with_for_update=lock)


def lock_transaction(s: Session, key: int) -> None:
    """Serialize this transaction with every other one taking ``key`` (PostgreSQL advisory lock,
    released at commit; nothing to do on SQLite)."""
    if is_postgresql(s):
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def executemany(conn: Connection, stmt: Insert | Update, rows: list[dict]) -> None:
    """Run ``stmt`` for many rows, handing the rows to the database driver directly.

    SQLAlchemy's per-row parameter processing costs several times the insert itself on SQLite
    (80 against 13 microseconds a row here). The statement is still SQLAlchemy's, compiled for
    the connection's dialect (positional for SQLite's driver, named for psycopg); the values are
    plain str, float, bool and None, which every driver takes as they are.
    """
    if not rows:
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    if compiled.positional:
        order = compiled.positiontup or []
        conn.exec_driver_sql(str(compiled), [tuple(r[k] for k in order) for r in rows])
    else:
        conn.exec_driver_sql(str(compiled), rows)


@contextlib.contextmanager
def large_cache(conn: Connection, kib: int = 262_144) -> Iterator[None]:
    """A bigger SQLite page cache while bulk-writing (the gradebook's indexes outgrow the default)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{kib}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


# -- the course lock across machines (lock.py): session-level advisory locks on one connection --

def set_application_name(conn: Connection, name: str) -> None:
    """Name this connection so another command waiting on the course lock can say who holds it."""
    conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name[:63]})


def lock_try_advisory(conn: Connection, key: int) -> bool:
    """Take the session-level advisory lock ``key`` if free (PostgreSQL)."""
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())


def unlock_advisory(conn: Connection, key: int) -> None:
    """Release the session-level advisory lock ``key`` (PostgreSQL)."""
    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def select_advisory_holder(conn: Connection, key: int) -> str | None:
    """The application name of another connection holding the advisory lock ``key``, if any."""
    row = conn.execute(text(
        "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.objid = :key AND l.pid <> pg_backend_pid() LIMIT 1"), {"key": key}).first()
    if row is None or not row[0]:
        return None
    return row[0]


# -- throw-away databases of a rehearsal (PostgreSQL only; an AUTOCOMMIT connection) --

def create_database(conn: Connection, name: str) -> None:
    """Create the rehearsal's scratch database (``name`` is made by the caller, never typed)."""
    conn.execute(text(f'CREATE DATABASE "{name}"'))


def drop_database(conn: Connection, name: str) -> None:
    """Drop the rehearsal's scratch database, closing its connections."""
    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
