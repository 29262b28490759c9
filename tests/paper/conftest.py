"""Fixtures of the paper tests: the delivery tests' small released form (built once per run) and its candidates."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))  # delivery_formkit: the form by hand

import delivery_formkit as formkit  # noqa: E402
from coursekit import cloned, new_course_dir, shared_template  # noqa: E402

from exam_builder.course import Course  # noqa: E402


@pytest.fixture(scope="session")
def form_template(tmp_path_factory) -> Path:
    def build(root: Path) -> None:
        new_course_dir(root)
        c = Course(root)
        c.db.upgrade()
        formkit.build_form(c)
        formkit.add_candidates(c)
        c.db.dispose()

    return shared_template(tmp_path_factory, "delivery-template", build)


@pytest.fixture(scope="module")
def pcourse(form_template: Path, tmp_path_factory) -> Course:
    """One course per test module (printing takes seconds): tests use their own candidates."""
    with cloned(form_template, tmp_path_factory.mktemp("paper") / "course") as c:
        yield c
