"""Shared fixtures: a throw-away course (authored files copied from the repo) and databases."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Commands print rich tables; tests read them whole, so give them room not to wrap cells.
os.environ["COLUMNS"] = "250"

from coursekit import new_course_dir  # noqa: E402
from exam_builder.course import Course  # noqa: E402


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A course folder with the sample bank, its own SQLite database, nothing else."""
    return new_course_dir(tmp_path / "course", with_bank=True)


@pytest.fixture
def empty_course_dir(tmp_path: Path) -> Path:
    return new_course_dir(tmp_path / "course")


@pytest.fixture
def course(course_dir: Path) -> Course:
    c = Course(course_dir)
    c.db.upgrade()
    yield c
    c.db.dispose()


@pytest.fixture
def pg_url() -> str:
    """A fresh PostgreSQL database on the server that `make test` starts (skips without one)."""
    base = os.environ.get("EXAM_BUILDER_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL server (EXAM_BUILDER_PG_URL unset; `make test` starts one)")
    import uuid

    from sqlalchemy import create_engine, text

    name = "eb_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# In CI every real part is installed by `make test`; a test that would skip for want of one
# (chromium, PostgreSQL, the console script) fails there instead, so a green CI means it ran.
_REQUIRED_IN_CI = ("not installed", "no PostgreSQL server")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if any(marker in reason for marker in _REQUIRED_IN_CI):
            report.outcome = "failed"
            report.longrepr = f"CI must run this test, but it was skipped: {reason}"
