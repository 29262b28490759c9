"""Throw-away courses for tests: a folder with the repo's nbgrader_config.py, and clones of
a course built once per run (nbgrader's Gradebook and generate_assignment take seconds)."""
from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
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


@contextlib.contextmanager
def cloned(template: Path, target: Path) -> Iterator[Course]:
    """A private copy of a template course (database included), disposed of afterwards."""
    shutil.copytree(template, target)
    course = Course(target)
    try:
        yield course
    finally:
        course.db.dispose()
