"""Fixtures of the assembly tests: synthetic banks written as real course folders."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from coursekit import approve_offered_items

from exam_builder.assembly.synthetic import synthetic_bank, write_bank
from exam_builder.course import Course

REPO = Path(__file__).resolve().parents[2]

BLUEPRINT = """\
title: Synthetic certification exam
forms: 2
seed: 11
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, open_response: 6}
counts:
  peer-support: {true_false: 2, multiple_choice: 3, open_response: 1}
  in-but-not-of: {true_false: 2, multiple_choice: 3}
  change-agent: {true_false: 1, multiple_choice: 3}
anchors: [it-0001]
max_overlap: 4
"""


def make_course(root: Path, *, n_items: int = 120, seed: int = 5, blueprint: str = BLUEPRINT, exam: str = "syn",
                ms_share: float = 0.0, sa_share: float = 0.0) -> Course:
    """A course folder with a made-up bank in ``source/<exam>/``, its rubrics and a blueprint."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    bank, rubrics = synthetic_bank(n_items, seed, ms_share=ms_share, sa_share=sa_share)
    write_bank(bank, rubrics, root / "source" / exam, root / "rubrics")
    (root / "source" / exam / "blueprint.yaml").write_text(blueprint, encoding="utf-8")
    course = Course(root)
    course.db.upgrade()
    approve_offered_items(course)
    return course


@pytest.fixture
def blueprint_text() -> str:
    return BLUEPRINT


@pytest.fixture(scope="session")
def course_template(tmp_path_factory) -> Path:
    """One synthetic course with a migrated database, copied by the tests that need a fresh one."""
    course = make_course(tmp_path_factory.mktemp("template") / "course")
    course.db.dispose()
    return course.root


@pytest.fixture
def course_factory(tmp_path: Path, course_template: Path):
    """Fresh copies of the template course: ``course_factory(name)``."""
    made = []

    def factory(name: str = "course") -> Course:
        shutil.copytree(course_template, tmp_path / name)
        course = Course(tmp_path / name)
        made.append(course)
        return course

    yield factory
    for c in made:
        c.db.dispose()


@pytest.fixture
def course_factory_with(tmp_path: Path):
    """A fresh course from ``make_course``'s options (a bank or blueprint the template has not)."""
    return lambda **options: make_course(tmp_path / "course", **options)


@pytest.fixture
def syn_course(course_factory):
    return course_factory("course")


@pytest.fixture(scope="session")
def built_course(tmp_path_factory, course_template):
    """One course with its two forms built and released (shared: tests only read it or add submissions)."""
    from rich.console import Console

    from exam_builder.assembly.build import build

    root = tmp_path_factory.mktemp("built") / "course"
    shutil.copytree(course_template, root)
    course = Course(root)
    result = build(course, "syn", console=Console(quiet=True), actor="test-author")
    yield course, result
    course.db.dispose()
