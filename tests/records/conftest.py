"""Fixtures of the records tests: a migrated course database, copied per test (fast)."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from coursekit import cloned, new_course_dir
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
def pg_template() -> tuple[str, str]:
    """A PostgreSQL database migrated to head once per run, cloned per test (skips without a server)."""
    base = os.environ.get("EXAM_BUILDER_PG_URL")
    if not base:
        pytest.skip("no PostgreSQL server (EXAM_BUILDER_PG_URL unset; `make test` starts one)")
    name = "eb_records_tmpl_" + uuid.uuid4().hex[:8]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(base.rsplit("/", 1)[0] + "/" + name)
    db.upgrade()
    db.dispose()
    yield base, name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_course(tmp_path: Path, pg_template: tuple[str, str]) -> Course:
    """A course on a fresh PostgreSQL database (a clone of the migrated template)."""
    base, template = pg_template
    name = "eb_records_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    c = Course(new_course_dir(tmp_path / "pgcourse"), db_url=base.rsplit("/", 1)[0] + "/" + name)
    yield c
    c.db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_course(request) -> Course:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("rcourse")
    return request.getfixturevalue("pg_course")
