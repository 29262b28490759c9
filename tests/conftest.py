"""Shared fixtures: a throw-away course (authored files copied from the repo) and databases."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Commands print rich tables; tests read them whole, so give them room not to wrap cells.
os.environ["COLUMNS"] = "250"

from browserkit import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from ci_skips import pytest_make_collect_report, pytest_runtest_makereport  # noqa: E402,F401 (in CI a skip fails)
from coursekit import NO_PG, new_course_dir, pg_database, pg_server  # noqa: E402
from exam_builder.course import Course  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Under ``--dist loadgroup`` (``make test``), the tests of a module that shares anything per
    module (a server, a browser, a built course) run on one worker, so that setup runs once, not
    once per worker; every other test goes alone to whichever worker is free. A module is grouped
    by what its tests use, so a new module-scoped fixture groups its module with no mark to add."""
    def module(item) -> str:
        return item.nodeid.split("::", 1)[0]

    shared = {module(item) for item in items if any(
        defs[-1].scope == "module" for defs in getattr(item, "_fixtureinfo").name2fixturedefs.values())}
    for item in items:
        if module(item) in shared:
            item.add_marker(pytest.mark.xdist_group(module(item)))


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
    if not pg_server():
        pytest.skip(NO_PG)
    with pg_database() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
