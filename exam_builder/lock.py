"""One command at a time changes a course: the course lock.

Two ``build`` runs at once used to leave nbgrader rows and ``release/`` folders behind, or crash,
or both "succeed" and write every audit entry twice. Every command that changes a course runs
under ``course_lock``:

* on one machine, an exclusive ``flock`` on ``<course>/.exam-builder/lock``; the file says who
  holds it (command, process, host, since when), so a second command can say so plainly;
* with PostgreSQL, also a session advisory lock on the database, held on its own connection for
  the whole command: courses on several machines that share one database are serialized too,
  and the holder is named from ``pg_stat_activity.application_name``.

The second command waits (``EXAM_BUILDER_LOCK_WAIT`` seconds, 120 by default, saying once what
it waits for), then gives up with a message naming the holder and changes nothing. A lock dies
with its process (the kernel releases a ``flock`` and PostgreSQL a session's locks), so a
killed command never leaves the course locked. Whoever holds the lock may clear the course's
scratch folder (``scratch_dir``): anything left there belongs to a command that died.

The course's private folder is the program's own, and nothing in it is trusted blindly
(``files``): before the lock is taken, ``.exam-builder/`` must be a folder, nothing at its top
level and nothing in ``scratch/`` may be a symbolic link, the lock must be a regular file with one
name and ``scratch`` a folder. Anything else is refused with its path before anything is opened
for writing, so a lock or scratch folder that links to ``rubrics/`` is named, never truncated or
emptied, and the command changes nothing.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from . import clock
from .errors import ExamBuilderError
from .files import check_owned, check_tree, clear_dir, open_in_place, private_dir
from .records.queries import dialect
from .safeload import read_bytes

if TYPE_CHECKING:
    from .course import Course

#: The advisory lock's key: one lock per database (a database is one course's gradebook).
PG_LOCK_KEY = 0x6578616D  # "exam"
DEFAULT_WAIT = 120.0
POLL = 0.2


def lock_path(course: Course) -> Path:
    return course.private_dir / "lock"


def scratch_dir(course: Course) -> Path:
    """``<course>/.exam-builder/scratch``: backups and temporary folders of a running command (checked, made
    ``0700``)."""
    return private_dir(course.private_dir / "scratch", course.root)


def wait_seconds() -> float:
    raw = os.environ.get("EXAM_BUILDER_LOCK_WAIT", "")
    try:
        return max(float(raw), 0.0) if raw else DEFAULT_WAIT
    except ValueError:
        raise ExamBuilderError(f"EXAM_BUILDER_LOCK_WAIT={raw!r} is not a number of seconds") from None


def _holder_text(info: dict) -> str:
    since = info.get("since", "")
    return (f"`{info.get('command', 'exam-builder')}` (process {info.get('pid', '?')} on {info.get('host', '?')}"
            + (f", since {since}" if since else "") + ")")


def _read_holder(course: Course) -> dict:
    """Who holds the lock, from its record: the program's own file (``files.check_owned``), read by ``safeload``."""
    path = lock_path(course)
    try:
        if not check_owned(path, course.root):
            return {}
        data = json.loads(read_bytes(path, str(path), max_bytes=4096).decode("utf-8") or "{}")
    except (OSError, ValueError, ExamBuilderError):
        return {}
    return data if isinstance(data, dict) else {}


def check_private_folder(course: Course) -> None:
    """Refuse a course whose private folder holds what the program would write or clear through.

    ``.exam-builder`` a folder (not a link, not a file), no link at its top level, the lock a
    regular file, ``scratch`` a folder holding no link (``files.check_tree``): ``UnsafePath``
    naming the path otherwise. Nothing is changed.
    """
    folder = course.private_dir
    if not check_owned(folder, course.root, "dir"):
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise ExamBuilderError(f"{folder}: cannot read the course's private folder ({exc.strerror}); "
                               "check its permissions") from None
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():  # refused, named with where it points
            check_owned(path, course.root, "dir" if entry.name == "scratch" else "file")
    check_owned(lock_path(course), course.root, "file")
    check_tree(course.private_dir / "scratch", course.root)


def _pg_holder(conn) -> str:
    name = dialect.select_advisory_holder(conn, PG_LOCK_KEY)
    if name is None:
        return "another command on another machine"
    return f"`{name}`"


@contextlib.contextmanager
def course_lock(course: Course, command: str, *, wait: float | None = None,
                say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the course lock for ``command`` (e.g. ``"exam-builder build cps"``); see the module."""
    wait = wait_seconds() if wait is None else wait
    check_private_folder(course)
    fd = open_in_place(lock_path(course), course.root)
    told = False
    deadline = time.monotonic() + wait
    me = {"command": command, "pid": os.getpid(), "host": socket.gethostname(),
          "since": clock.now_shown(course.zone, seconds=True)}  # the room's clock, named, as every time shown
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder_text(_read_holder(course))
                if time.monotonic() >= deadline:
                    raise ExamBuilderError(
                        f"the course is busy: {holder} is changing it. Nothing was changed; run this again "
                        "when that command has finished.") from None
                if not told and say is not None:
                    say(f"waiting for {holder} to finish (up to {wait:g} s)…")
                    told = True
                time.sleep(POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        with _pg_lock(course, command, deadline, wait, say, told):
            _clear_scratch(course)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


@contextlib.contextmanager
def _pg_lock(course: Course, command: str, deadline: float, wait: float, say, told: bool) -> Iterator[None]:
    """The advisory lock on a PostgreSQL database (nothing to do on SQLite: one machine)."""
    engine = course.db.engine
    if not dialect.is_postgresql(engine):
        yield
        return
    with engine.connect() as conn:
        dialect.set_application_name(conn, f"{command} (process {os.getpid()} on {socket.gethostname()})"[:63])
        conn.commit()
        while not dialect.lock_try_advisory(conn, PG_LOCK_KEY):
            conn.commit()
            holder = _pg_holder(conn)
            conn.commit()
            if time.monotonic() >= deadline:
                raise ExamBuilderError(f"the course is busy: {holder} is changing it through the same database. "
                                       "Nothing was changed; run this again when that command has finished.")
            if not told and say is not None:
                say(f"waiting for {holder} to finish (up to {wait:g} s)…")
                told = True
            time.sleep(POLL)
        conn.commit()
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a broken connection has let go of its locks already
                dialect.unlock_advisory(conn, PG_LOCK_KEY)
                conn.commit()


def _clear_scratch(course: Course) -> None:
    """Leftovers of a command that died (the lock is ours, so nothing else is using them); no link is followed."""
    clear_dir(course.private_dir / "scratch", course.root)
