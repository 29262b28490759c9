"""The one module that reaches the database.

nbgrader's gradebook tables and exam-builder's ``eb_*`` tables share one URL. Every write is
one transaction (``Database.transaction``); on SQLite a write transaction takes the write lock
at its start (``BEGIN IMMEDIATE``), on PostgreSQL callers lock the rows they decide on, so two
processes can never both act on the same stale read.

**SQLite writers queue; they do not poll.** SQLite has one writer at a time, and a writer that
finds the lock taken sleeps and retries (1, 2, 5 ... 100 ms steps): with a room of kernels saving
at once, a save could sleep through several free moments and a few took over a second. So a
write transaction first takes an exclusive POSIX record lock (``lockf``) on ``<database>.lock``
(a file beside the database, ``0600``), which the operating system hands to the next waiting
process the moment it is released, and only then ``BEGIN IMMEDIATE``. The lock only orders
the queue: SQLite's own lock still decides, and its busy timeout stays for writers outside this
module (nbgrader, alembic) and for a second ``Database`` of the same file in one process (a
process never waits on its own record lock). Nothing is kept in the lock file.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ExamBuilderError
from ..files import create_private_file, make_private, open_in_place

# nbgrader's Gradebook runs the `alembic` command of its own environment; make it findable
# when exam-builder runs from a virtualenv that is not activated.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "exam_builder_alembic_version"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for an in-memory database or another engine)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:" or u.database.startswith("file:"):
        return None
    return Path(u.database)


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file ``0600`` before SQLite (or nbgrader) does, so it is never world-readable.

    The database holds every key (``eb_form.manifest``) and candidate records. An empty file is
    a valid SQLite database; SQLite gives the ``-wal`` and ``-shm`` files the mode of the
    database file, so they are private too.
    """
    path = sqlite_path(url)
    if path is None or os.path.lexists(path) or not path.parent.is_dir():
        return
    create_private_file(path, b"", None)  # exclusively: never through a link, never over another process's


def make_private_sqlite(url: str) -> None:
    """Narrow an existing SQLite file and its ``-wal``/``-shm`` to ``0600`` (``db upgrade`` does it)."""
    path = sqlite_path(url)
    if path is not None:
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            make_private(p)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        # Let SQLAlchemy, not the driver, issue BEGIN, so write transactions can be IMMEDIATE.
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_driver_begin(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Engine and sessions for one database URL."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        )
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

        path = sqlite_path(url)
        self._writers_path = path.with_name(path.name + ".lock") if path is not None else None
        self._writers_fd: int | None = None
        self._writers_local = threading.RLock()  # threads of this process; the record lock queues the processes

    @contextlib.contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """This process's turn to write a SQLite file: the threads queue on a lock, the processes on
        ``lockf`` (woken as soon as the writer before them commits). Other engines: nothing to wait for."""
        if self._writers_path is None:
            yield
            return
        with self._writers_local:
            if self._writers_fd is None:
                self._writers_fd = open_in_place(self._writers_path, None)
            fcntl.lockf(self._writers_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._writers_fd, fcntl.LOCK_UN)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (rolled back at the end)."""
        with self._sessions() as s:
            try:
                yield s
            finally:
                s.rollback()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: committed at the end, rolled back on any error."""
        with self._writer_turn(), self._write_sessions() as s:
            with s.begin():
                yield s

    # -- schema ----------------------------------------------------------------------
    def alembic_config(self):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Create nbgrader's gradebook tables (nbgrader's own code) and migrate ours."""
        from alembic import command
        from nbgrader.api import Gradebook

        try:
            make_private_sqlite(self.url)
            self._nbgrader_version_first()
            Gradebook(self.url).close()
            command.upgrade(self.alembic_config(), revision)
        except Exception as exc:  # a database we cannot reach or migrate
            raise ExamBuilderError(f"cannot prepare the database at {self.safe_url}: {exc}") from exc

    def _nbgrader_version_first(self) -> None:
        """On an empty database, write nbgrader's version row as nbgrader's ``Gradebook`` does, with the head
        read here. ``Gradebook`` reads it by running the ``alembic heads`` command (a new Python, a second or
        more for every new course); finding a table, it only creates its own, as it always does."""
        from alembic.script import ScriptDirectory
        from nbgrader.dbutil import ALEMBIC_DIR

        from .queries.gradebook import create_nbgrader_version

        if inspect(self.engine).get_table_names():
            return
        head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
        if head is None:  # no single head: nbgrader's own way decides
            return
        with self.transaction() as s:
            create_nbgrader_version(s, head)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()

    def head_revision(self) -> str | None:
        """The newest revision of exam-builder's migrations (what ``upgrade`` reaches)."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def require_current(self) -> None:
        """Refuse to work on a database that is missing tables or is at an older revision."""
        try:
            current = self.current_revision()
        except Exception as exc:  # an unreachable server, a bad URL
            raise ExamBuilderError(f"cannot open the database at {self.safe_url}: {exc}") from exc
        head = self.head_revision()
        if current != head:
            state = "has no exam-builder tables" if current is None else f"is at revision {current}, not {head}"
            raise ExamBuilderError(
                f"the database at {self.safe_url} {state}. Run `exam-builder db upgrade` first."
            )

    def has_table(self, name: str) -> bool:
        return inspect(self.engine).has_table(name)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def gradebook(self):
        """nbgrader's own Gradebook API on this database."""
        from nbgrader.api import Gradebook

        return Gradebook(self.url)

    def dispose(self) -> None:
        self.engine.dispose()
        with self._writers_local:
            if self._writers_fd is not None:
                os.close(self._writers_fd)
                self._writers_fd = None
