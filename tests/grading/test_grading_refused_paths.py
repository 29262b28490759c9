"""The folders grading writes are the program's own: `collect`, `grade` and `feedback` refuse, before
any change, a path in ``submitted/``, ``autograded/`` or ``feedback/`` that is a link or of the
wrong type, name it, and leave every file and every row of the database as they were (issue 23).

The course has two released forms and six submitted sittings (``gradingkit``); each case plants one
thing, runs the real command, and compares the whole folder (and one outside it) and the database
before and after. The control runs the same commands on the clean course and sees them succeed.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import gradingkit as kit
import pytest
from click.testing import CliRunner
from coursekit import rows_of, tree_of

from exam_builder.cli import cli


def run(course, *args: str):
    return CliRunner(env={"COLUMNS": "250", "EXAM_BUILDER_LOCK_WAIT": "0"}).invoke(
        cli, ["--course", str(course.root), *args], catch_exceptions=False)


def a_rubric(course) -> Path:
    return sorted((course.root / "rubrics").glob("*.yaml"))[0]


def first_submission(course) -> Path:
    """``submitted/<candidate>/<form>`` of the first candidate."""
    return sorted(p for p in (course.root / "submitted").glob("*/*") if p.is_dir())[0]


def link(path: Path, target: Path | str) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def autograded_of(course, sub: Path) -> Path:
    return course.root / "autograded" / sub.parent.name / sub.name


def plant_autograded_links_to_rubrics(course, outside: Path) -> str:
    dest = autograded_of(course, first_submission(course))
    link(dest, course.root / "rubrics")
    return str(dest.relative_to(course.root))


def plant_autograded_copy_links_to_a_rubric(course, outside: Path) -> str:
    dest = autograded_of(course, first_submission(course)) / "timestamp.txt"
    link(dest, a_rubric(course))
    return str(dest.relative_to(course.root))


def plant_autograded_is_a_file(course, outside: Path) -> str:
    (course.root / "autograded").write_text("not a folder\n", encoding="utf-8")
    return "autograded"


def plant_submission_stamp_links_to_a_rubric(course, outside: Path) -> str:
    stamp = first_submission(course) / "timestamp.txt"
    link(stamp, a_rubric(course))
    return str(stamp.relative_to(course.root))


def plant_submitted_links_out(course, outside: Path) -> str:
    shutil.copytree(course.root / "submitted", outside / "submitted")
    link(course.root / "submitted", outside / "submitted")
    return "submitted"


def plant_feedback_links_to_rubrics(course, outside: Path) -> str:
    link(course.root / "feedback", course.root / "rubrics")
    return "feedback"


def plant_feedback_report_is_a_folder(course, outside: Path) -> str:
    sub = first_submission(course)
    page = course.root / "feedback" / sub.parent.name / sub.name / f"{sub.name}.html"
    page.mkdir(parents=True)
    return str(page.relative_to(course.root))


CASES = [
    ("grade", plant_autograded_links_to_rubrics),
    ("grade", plant_autograded_copy_links_to_a_rubric),
    ("grade", plant_autograded_is_a_file),
    ("collect", plant_submission_stamp_links_to_a_rubric),
    ("collect", plant_submitted_links_out),
    ("feedback", plant_feedback_links_to_rubrics),
    ("feedback", plant_feedback_report_is_a_folder),
]


def used(course) -> None:
    """The course's private folder as any course has it once a command ran: its lock and its secret.

    (The first command on a course makes them, refused or not: a lock needs its file, and the
    secret keys the seals that ``feedback`` and ``results`` check. Their content never changes.)"""
    from exam_builder.lock import course_lock

    with course_lock(course, "exam-builder test"):
        assert course.secret


def snapshot(site: Path, course) -> tuple[dict, dict]:
    return tree_of(site), rows_of(course.db_url)


@pytest.mark.parametrize("command, plant", CASES, ids=[p.__name__.removeprefix("plant_") for _c, p in CASES])
def test_grading_refuses_a_path_it_would_write_through(gcourse, tmp_path, command, plant):
    used(gcourse)
    outside = tmp_path / "outside"
    outside.mkdir()
    named = plant(gcourse, outside)
    before = snapshot(tmp_path, gcourse)
    out = run(gcourse, command, kit.EXAM)
    assert out.exit_code != 0, out.output
    assert "Traceback" not in out.output
    assert re.search(rf"(^|\s){re.escape(named)}:", out.output, re.M), out.output
    after = snapshot(tmp_path, gcourse)
    assert after[1] == before[1], "the database changed"
    changed = sorted(k for k in set(before[0]) | set(after[0]) if before[0].get(k) != after[0].get(k))
    assert changed == [], changed


def test_the_same_commands_succeed_on_the_clean_course(gcourse):
    for command in ("grade", "collect", "feedback"):
        out = run(gcourse, command, kit.EXAM)
        assert out.exit_code == 0, (command, out.output)
    sub = first_submission(gcourse)
    assert (autograded_of(gcourse, sub) / "timestamp.txt").is_file()
    assert (gcourse.root / "feedback" / sub.parent.name / sub.name / f"{sub.name}.html").is_file()
