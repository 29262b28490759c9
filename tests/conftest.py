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

#: The longest modules, longest first (measured with ``--durations``): ``make test`` hands out whole modules
#: (``--dist loadfile``, so a module's servers, browsers and built courses start once, on one worker) in
#: collection order, and a long module handed out last would leave one worker running it alone. The two longest
#: (test_server.py's page loads, 285 s in one test; test_demo.py's built demo, 252 s + 84 s) start at once, one
#: on each worker; the rest in falling order, and the short modules (not listed: collection order) fill in at the
#: end, where a worker that finishes first takes the next one. A worker asks for its next module while the last
#: two tests of its current one run (xdist's loadscope), so a module queued behind a long last test waits: one
#: more reason for the long ones to go first, while the queue still holds plenty for the other worker.
SLOW_FIRST = (
    "tests/delivery/test_server.py", "tests/test_demo.py", "tests/grading/test_grading_browser.py",
    "tests/delivery/test_practice_browser.py", "tests/test_benchmarks.py", "tests/delivery/test_candidate_day.py",
    "tests/hub/test_hub.py", "tests/delivery/test_noshow_browser.py", "tests/delivery/test_browser.py",
    "tests/delivery/test_rehearse.py", "tests/delivery/test_multiserver.py", "tests/delivery/test_pause_browser.py",
    "tests/lab/test_lab_browser.py", "tests/delivery/test_candidate_screens.py", "tests/assembly/test_course_lock.py",
    "tests/grading/test_grading_bad_submissions.py", "tests/delivery/test_proctor_browser.py",
    "tests/delivery/test_multiple_select_browser.py", "tests/grading/test_formgrader_browser.py",
    "tests/grading/test_grading_hostile_folders.py", "tests/delivery/test_pageclient.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """The modules of ``SLOW_FIRST`` first, in its order; the others after them, as collected."""
    rank = {path: n for n, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(SLOW_FIRST)))


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
