"""Fixtures of the delivery tests: a course with one released form and a few candidates."""
from __future__ import annotations

from pathlib import Path

import delivery_formkit as formkit
import pytest
from coursekit import cloned, new_course_dir, shared_template

from exam_builder.course import Course


@pytest.fixture(scope="session")
def form_template(tmp_path_factory) -> Path:
    """Built once per run (nbgrader's generate_assignment takes a few seconds); copied per test."""

    def build(root: Path) -> None:
        new_course_dir(root)
        c = Course(root)
        c.db.upgrade()
        formkit.build_form(c)
        formkit.add_candidates(c)
        c.db.dispose()

    return shared_template(tmp_path_factory, "delivery-template", build)


@pytest.fixture
def dcourse(form_template: Path, tmp_path: Path) -> Course:
    with cloned(form_template, tmp_path / "course") as c:
        yield c


@pytest.fixture
def form_id(dcourse) -> int:
    from sqlalchemy import select

    from exam_builder.records.models import Form

    with dcourse.db.read() as s:
        return s.execute(select(Form.id).where(Form.assignment == formkit.ASSIGNMENT)).scalar_one()

