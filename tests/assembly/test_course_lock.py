"""Commands that change a course run one at a time, and a killed one leaves nothing behind.

Real processes of the real console script: two ``build`` runs started together, a command that
finds the course locked (by this process, through the same lock) and gives up naming the holder,
the same across two course folders on one PostgreSQL database, and ``build`` killed with SIGKILL
at several moments, then run again: the database and the files end up exactly as after one
uninterrupted run, and no backup is left in the system's temporary folder or the scratch folder.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_build import snapshot, stored

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


def test_two_builds_at_once_build_once(course_factory):
    alone, both = course_factory("alone"), course_factory("both")
    rc, out = finish(start(alone, "build", "syn"))
    assert rc == 0, out
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


@pytest.mark.slow
def test_build_killed_at_any_moment_then_run_again_ends_as_one_run(course_factory):
    reference = course_factory("reference")
    rc, out = finish(start(reference, "build", "syn"))
    assert rc == 0, out
    want_files = {k: v for k, v in snapshot(reference).items()}
    want_db = stored(reference)
    before = set(backups())
    for delay in (0.5, 1.5, 3.0, 5.0):
        course = course_factory(f"killed-{delay}")
        proc = start(course, "build", "syn")
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        rc, out = finish(start(course, "build", "syn", wait=30))
        assert rc == 0, f"after a kill at {delay} s: {out}"
        assert stored(course) == want_db, delay
        got = snapshot(course)
        assert set(got) == set(want_files), (delay, set(got) ^ set(want_files))
        different = [k for k in got if got[k] != want_files[k] and not k.startswith("exports/")]
        assert different == [], (delay, different)
        scratch = course.private_dir / "scratch"
        assert not scratch.exists() or list(scratch.iterdir()) == [], delay
    assert set(backups()) <= before  # nothing new in the system's temporary folder
