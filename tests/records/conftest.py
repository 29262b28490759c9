"""Fixtures of the records tests: a migrated course database, copied per test (fast)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from coursekit import NO_PG, cloned, new_course_dir, pg_database, pg_server

from exam_builder.course import Course
from exam_builder.records.db import Database

sys.path.insert(0, str(Path(__file__).parent))  # records_kit, records_race_worker (spawned processes too)


@pytest.fixture(scope="session")
def records_template(tmp_path_factory) -> Path:
    """A course folder whose SQLite database is migrated to head, built once per run."""
    root = new_course_dir(tmp_path_factory.mktemp("records-template") / "course")
    c = Course(root)
    c.db.upgrade()
    c.db.dispose()
    return root


@pytest.fixture
def rcourse(records_template: Path, tmp_path: Path) -> Course:
    """A fresh course with an empty, migrated SQLite database."""
    with cloned(records_template, tmp_path / "course") as c:
        yield c


@pytest.fixture(scope="session")
def pg_template() -> str:
    """A PostgreSQL database migrated to head once per run, cloned per test (skips without a server)."""
    if not pg_server():
        pytest.skip(NO_PG)
    with pg_database("eb_records_tmpl_") as url:
        db = Database(url)
        db.upgrade()
        db.dispose()
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def pg_course(tmp_path: Path, pg_template: str) -> Course:
    """A course on a fresh PostgreSQL database (a clone of the migrated template)."""
    with pg_database("eb_records_", template=pg_template) as url:
        c = Course(new_course_dir(tmp_path / "pgcourse"), db_url=url)
        yield c
        c.db.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_course(request) -> Course:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("rcourse")
    return request.getfixturevalue("pg_course")
