"""Fixtures of the grading tests: a course with two released forms and six submitted sittings.

The course is built once per test run (the builder releases through nbgrader, which takes a
few seconds) and copied for each test.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import gradingkit as kit  # noqa: E402
from coursekit import cloned, shared_template  # noqa: E402

from exam_builder.course import Course  # noqa: E402


@pytest.fixture(scope="session")
def graded_template(tmp_path_factory) -> Path:
    def build(root: Path) -> None:
        course = kit.empty_course(root)
        manifests = kit.build_forms(course)
        kit.populate(course, manifests)
        course.db.dispose()

    return shared_template(tmp_path_factory, "grading-template", build)


@pytest.fixture
def gcourse(graded_template: Path, tmp_path: Path) -> Course:
    with cloned(graded_template, tmp_path / "course") as c:
        yield c


@pytest.fixture
def manifests(gcourse) -> dict:
    from exam_builder.assembly.forms import load_forms

    with gcourse.db.read() as s:
        return {f.assignment: m for f, m in load_forms(s, kit.EXAM)}
