"""The standard-setting tests run on the grading tests' course: two released forms, six submitted sittings."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "grading"))

import gradingkit as kit  # noqa: E402
from coursekit import cloned, shared_template  # noqa: E402


@pytest.fixture(scope="session")
def graded_template(tmp_path_factory) -> Path:
    """The grading tests' course (same template name: built once per run when both run)."""
    def build(root: Path) -> None:
        course = kit.empty_course(root)
        kit.populate(course, kit.build_forms(course))
        course.db.dispose()

    return shared_template(tmp_path_factory, "grading-template", build)


@pytest.fixture
def gcourse(graded_template: Path, tmp_path: Path):
    with cloned(graded_template, tmp_path / "course") as c:
        yield c
