"""`make demo`: the whole exam cycle on a made-up sample cohort.

The demo copies the course's authored files (source/, rubrics/, nbgrader_config.py) into a
fresh folder and runs each stage there, in order: check the bank, import the cohort, build
forms, run a sitting, grade and report. Each stage is a module in ``demo/stages`` with a
``run(ctx)`` function; a stage not built yet is skipped and said so.
"""
from __future__ import annotations

import importlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from ..course import Course
from ..errors import ExamBuilderError, rel
from ..safeload import copy_tree, read_text

STAGES = [
    ("bank", "Check the item bank"),
    ("records", "Import the cohort: roster, accommodations, attendance, eligibility"),
    ("assembly", "Build and release parallel forms"),
    ("delivery", "Run a proctored sitting"),
    ("practice", "Practice for study groups: a practice set taken by a scripted candidate"),
    ("rehearsal", "Rehearse exam day: a small room against the real exam server"),
    ("grading", "Grade: objective scoring, rubric ratings, adjudication, results"),
    ("followup", "After the results: item analysis, a retake's rules, the audit trail"),
    ("report", "The program's report for the oversight board"),
]

EXAM = "cps"


@dataclass
class DemoContext:
    """What the stages share: the course, the console and what earlier stages produced."""

    course: Course
    console: Console
    exam: str = EXAM
    state: dict = field(default_factory=dict)
    actor: str = "demo-coordinator"


AUTHORED = ("source", "rubrics", "nbgrader_config.py")
#: The checkout this package runs from (an editable install), whose sample course the demo uses
#: when it is run from a folder that is not a course.
CHECKOUT = Path(__file__).resolve().parents[2]


def find_origin(origin: Path) -> Path:
    """The course whose authored files the demo copies: ``origin``, or else the checkout's."""
    for candidate in (origin, CHECKOUT):
        if all((candidate / name).exists() for name in AUTHORED):
            return candidate
    missing = ", ".join(name for name in AUTHORED if not (origin / name).exists())
    raise ExamBuilderError(
        f"{origin.resolve()}: not a course folder (no {missing}). The demo copies a course's authored files: run it "
        "in the exam-builder checkout, or give one with --course DIR")


def prepare(target: Path, origin: Path) -> Course:
    """A fresh course folder with the authored files of ``origin`` (see ``find_origin``)."""
    origin = find_origin(origin)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    label = lambda p: rel(p, origin)  # noqa: E731
    for name in ("source", "rubrics"):  # through safeload: no link loop, no link out, no pipe or device read
        copy_tree(origin / name, target / name, label, skip=(".ipynb_checkpoints", "*-[A-Z]"))
    config = origin / "nbgrader_config.py"
    (target / "nbgrader_config.py").write_text(read_text(config, label(config), max_bytes=1024 * 1024), encoding="utf-8")
    course = Course(target)
    course.db.upgrade()
    return course


def run(target: Path, origin: Path, console: Console, only: list[str] | None = None) -> DemoContext:
    course = prepare(target, origin)
    ctx = DemoContext(course=course, console=console)
    for name, title in STAGES:
        if only and name not in only:
            continue
        console.print(Rule(f"[bold]{title}"))
        try:
            stage = importlib.import_module(f"{__name__}.stages.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.stages.{name}":
                raise
            console.print(f"[yellow]stage '{name}' is not built yet; skipped[/]")
            continue
        started = time.perf_counter()
        stage.run(ctx)
        console.print(f"[dim]{name}: {time.perf_counter() - started:.1f} s[/]")
    console.print(Rule("[bold green]demo complete"))
    console.print(f"The demo course is in {target}/ (database: {course.db.safe_url}).")
    return ctx
