"""Throw-away courses for tests: a folder with the repo's nbgrader_config.py, and clones of
a course built once per run (nbgrader's Gradebook and generate_assignment take seconds)."""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from exam_builder.course import Course

REPO = Path(__file__).resolve().parents[1]


def new_course_dir(target: Path, with_bank: bool = False) -> Path:
    """A course folder: the repo's config, and the sample bank or empty source/ and rubrics/."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", target / "nbgrader_config.py")
    for name in ("source", "rubrics"):
        if with_bank and (REPO / name).exists():
            shutil.copytree(REPO / name, target / name, ignore=shutil.ignore_patterns("*-[A-Z]", ".ipynb_checkpoints"))
        else:
            (target / name).mkdir(exist_ok=True)
    return target


#: The made-up reviewer the kits record approvals by (never an author of the sample or synthetic banks).
KIT_REVIEWER = "Kit Reviewer"


def approve_offered_items(course: Course, *folders: Path) -> list[str]:
    """Record an approval of every item whose header says live, as forms are drawn only from
    approved items (``bank.review``): the one place the test kits that build forms do it."""
    from exam_builder.bank import load_bank
    from exam_builder.bank.review import approve_offered

    bank = load_bank(list(folders) or [course.source_dir])
    return approve_offered(course, bank, KIT_REVIEWER, "approved by the test kit")


@contextlib.contextmanager
def cloned(template: Path, target: Path) -> Iterator[Course]:
    """A private copy of a template course (database included), disposed of afterwards."""
    shutil.copytree(template, target)
    course = Course(target)
    try:
        yield course
    finally:
        course.db.dispose()


def shared_template(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """``build(root)`` once per test run, for every xdist worker: the first worker to ask builds the course
    (nbgrader takes seconds) under a lock, the others wait for it and read it. Tests copy it, never change it.

    The folder is the run's own (the workers' base folder's parent is the run's), so two runs never share one."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.mktemp(name) / "course"
        build(root)
        return root
    base = tmp_path_factory.getbasetemp().parent / "shared"
    base.mkdir(exist_ok=True)
    root, done = base / name / "course", base / f"{name}.done"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when a worker dies
        if not done.exists():
            shutil.rmtree(root.parent, ignore_errors=True)  # what a worker that failed to build left
            root.parent.mkdir()
            build(root)
            done.touch()
    return root


#: SQLite's files: compared row by row (``rows_of``), as reading may checkpoint the WAL into the file.
DB_FILES = ("gradebook.db", "gradebook.db-wal", "gradebook.db-shm")


def tree_of(top: Path) -> dict[str, tuple]:
    """Every entry under ``top``, never following a link: its type, mode and bytes (a link: its target).

    What "a refused command changes nothing" compares, with ``rows_of`` for the database."""
    import hashlib
    import os
    import stat

    out: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(top, followlinks=False):
        for name in sorted(dirs + files):
            p = Path(folder) / name
            if name in DB_FILES:
                continue
            st = os.lstat(p)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                entry: tuple = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                entry = ("folder", mode)
            elif stat.S_ISREG(st.st_mode):
                entry = ("file", mode, st.st_nlink, hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                entry = (stat.S_IFMT(st.st_mode), mode)
            out[str(p.relative_to(top))] = entry
    return out


def rows_of(url: str) -> dict[str, list[str]]:
    """Every row of every table of a database (nbgrader's and exam-builder's), sorted."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')).all()))
                    for t in sorted(inspect(engine).get_table_names())}
    finally:
        engine.dispose()


NO_PG = "no PostgreSQL server (EXAM_BUILDER_PG_URL unset; `make test` starts one)"


def pg_server() -> str | None:
    """The URL of the PostgreSQL server `make test` starts (scripts/with-postgres.sh), if any."""
    import os

    return os.environ.get("EXAM_BUILDER_PG_URL")


@contextlib.contextmanager
def pg_database(prefix: str = "eb_", template: str | None = None) -> Iterator[str]:
    """A throw-away PostgreSQL database (optionally a copy of ``template``): its URL, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    base = pg_server()
    assert base, NO_PG
    name = prefix + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        yield base.rsplit("/", 1)[0] + "/" + name
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
