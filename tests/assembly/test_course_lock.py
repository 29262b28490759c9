"""Commands that change a course run one at a time, and a killed one leaves nothing behind.

Real processes of the real console script: two ``build`` runs started together, a command that
finds the course locked (by this process, through the same lock) and gives up naming the holder,
the same across two course folders on one PostgreSQL database, and ``build`` killed with SIGKILL
once in each phase of its work (found by the state it reached, never by a time), then run again:
the database and the files end up exactly as after one uninterrupted run, and no backup is left in
the system's temporary folder or the scratch folder.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_build import run_cli, snapshot, stored

from exam_builder.cli import CHANGES_COURSE, cli
from exam_builder.course import Course
from exam_builder.lock import course_lock
from exam_builder.records.models import AuditEntry, Form

EXE = Path(sys.executable).parent / "exam-builder"


def command_paths(group, path=()) -> set[str]:
    out = set()
    for name, cmd in group.commands.items():
        out |= command_paths(cmd, (*path, name)) if hasattr(cmd, "commands") else {" ".join((*path, name))}
    return out


def start(course: Course, *args: str, wait: float | None = None, db_url: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "EXAM_BUILDER_COURSE": str(course.root)}
    env.pop("EXAM_BUILDER_DB_URL", None)
    if db_url:
        env["EXAM_BUILDER_DB_URL"] = db_url
    if wait is not None:
        env["EXAM_BUILDER_LOCK_WAIT"] = str(wait)
    return subprocess.Popen([str(EXE), *args], env=env, cwd=course.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def build_audits(course: Course) -> int:
    with course.db.read() as s:
        return s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.entity.in_(("exam", "form")))).scalar()


def test_every_serialized_command_exists():
    assert CHANGES_COURSE <= command_paths(cli)


@pytest.fixture(scope="module")
def one_run(tmp_path_factory, course_template):
    """The synthetic course after one uninterrupted ``build syn`` (click's runner, in this process): what the
    tests below compare with. Built once for the module; read, never changed."""
    course = Course(shutil.copytree(course_template, tmp_path_factory.mktemp("one-run") / "course"))
    done = run_cli(course, "build", "syn")
    assert done.returncode == 0, done.stdout + done.stderr
    yield course
    course.db.dispose()


def test_two_builds_at_once_build_once(course_factory, one_run):
    alone, both = one_run, course_factory("both")
    a, b = start(both, "build", "syn"), start(both, "build", "syn")
    (rc_a, out_a), (rc_b, out_b) = finish(a), finish(b)
    assert (rc_a, rc_b) == (0, 0), out_a + out_b
    assert "Traceback" not in out_a + out_b
    assert "waiting for `exam-builder build syn` (process" in out_a + out_b  # the second said what it waited for
    with both.db.read() as s:
        assert s.execute(select(func.count()).select_from(Form)).scalar() == 2
    # the second found nothing to change: the same forms, files and audit entries as one build alone
    assert stored(both) == stored(alone)
    assert build_audits(both) == build_audits(alone) > 0


def test_a_locked_course_names_who_holds_it_and_changes_nothing(syn_course):
    before_files, before_db = snapshot(syn_course), stored(syn_course)
    with course_lock(syn_course, "exam-builder grade syn"):
        rc, out = finish(start(syn_course, "build", "syn", wait=0.5))
    assert rc == 1, out
    text = " ".join(out.split())
    assert re.search(r"the course is busy: `exam-builder grade syn` \(process \d+ on \S+, since \d{4}-\d\d-\d\d",
                     text), text
    assert "Nothing was changed" in text and "Traceback" not in text
    assert snapshot(syn_course) == before_files and stored(syn_course) == before_db
    rc, out = finish(start(syn_course, "build", "syn", wait=0))  # free again once the holder is done
    assert rc == 0, out


@pytest.mark.postgres
def test_two_machines_on_one_database_are_serialized(course_factory, pg_url):
    one, two = course_factory("one"), course_factory("two")  # two folders: two machines' copies of a course
    first = Course(one.root, db_url=pg_url)
    first.db.upgrade()
    with course_lock(first, "exam-builder build syn"):
        rc, out = finish(start(two, "build", "syn", wait=0.5, db_url=pg_url))
    assert rc == 1, out
    text = " ".join(out.split())
    assert "the course is busy: `exam-builder build syn (process" in text and "through the same database" in text, text
    first.db.dispose()


def backups() -> list[str]:
    return [p for p in os.listdir(tempfile.gettempdir()) if p.startswith("eb-release-backup-")]


def _forms_stored(course: Course) -> bool:
    """Whether the build's one transaction has committed (read straight from SQLite: a poll costs no engine)."""
    db = course.root / "gradebook.db"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)) as conn:
            return conn.execute("SELECT count(*) FROM eb_form").fetchone()[0] > 0
    except sqlite3.Error:  # locked mid-commit, or not made yet
        return False


#: Where ``build`` is killed: a state it has reached (never a time, which on a busy machine may still be start-up),
#: one in each phase of "nothing half-written": the release's backup made in the scratch folder (the backup and
#: a half-written notebook are what a run killed there leaves: nbgrader would release the latter, keys and all),
#: nbgrader releasing the first form (the second not yet: folders and nbgrader's gradebook half done) and the
#: forms stored (the keys and comparison not written, or half).
KILL_POINTS = {
    "backup made": lambda c: any((c.private_dir / "scratch").glob("release-backup-*")),
    "first form released": lambda c: (c.release_dir / "syn-A").exists(),
    "forms stored": _forms_stored,
}


def kill_when(proc: subprocess.Popen, course: Course, reached, what: str) -> None:
    """SIGKILL the command's process group as soon as ``reached(course)`` holds; fails if it ends first."""
    deadline = time.monotonic() + 300
    while not reached(course):
        assert proc.poll() is None, f"build ended before '{what}' was seen"
        assert time.monotonic() < deadline, f"build never reached '{what}'"
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL, f"build finished before it was killed at '{what}'"


def half_written(course: Course, reference: Course) -> None:
    """The first form's notebook as a build killed between writing and renaming it leaves it: a temporary file
    beside it (``files.private_temp``) holding the whole form, keys included."""
    nb = reference.root / "source" / "syn-A" / "syn-A.ipynb"
    folder = course.root / "source" / "syn-A"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".syn-A.ipynb.k1ll3d00.tmp").write_bytes(nb.read_bytes())


@pytest.mark.slow
def test_build_killed_at_any_moment_then_run_again_ends_as_one_run(course_factory, one_run):
    """Killed once in each phase (``KILL_POINTS``, found by the state the build reached), then run again: as one
    uninterrupted run each time. The killed build is a real process (a kill -9 is the point); the reference build
    (``one_run``) and the runs again are the same command in this process (click's runner: their start-up is not
    the point)."""
    reference = one_run
    want_files = {k: v for k, v in snapshot(reference).items()}
    want_db = stored(reference)
    before = set(backups())
    for n, (point, reached) in enumerate(KILL_POINTS.items()):
        course = course_factory(f"killed-{n}")
        kill_when(start(course, "build", "syn"), course, reached, point)
        if point == "backup made":  # killed while writing the first form: what that leaves (a window of ms)
            half_written(course, reference)
        again = run_cli(course, "build", "syn")
        assert again.returncode == 0, f"after a kill at '{point}': {again.stdout + again.stderr}"
        assert stored(course) == want_db, point
        got = snapshot(course)
        assert set(got) == set(want_files), (point, set(got) ^ set(want_files))
        different = [k for k in got if got[k] != want_files[k] and not k.startswith("exports/")]
        assert different == [], (point, different)
        scratch = course.private_dir / "scratch"
        assert not scratch.exists() or list(scratch.iterdir()) == [], point
    assert set(backups()) <= before  # nothing new in the system's temporary folder
