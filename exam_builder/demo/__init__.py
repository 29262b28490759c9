"""`make demo`: the whole exam cycle on a made-up sample cohort.

The demo copies the course's authored files (source/, rubrics/, nbgrader_config.py) into a
fresh folder and runs each stage there, in order: check the bank, import the cohort, build
forms, run a sitting, practice, rehearse exam day, grade, follow up and report.

Contract: ``STAGES`` lists every stage, in order; each is a module ``demo/stages/<name>.py`` with
a ``run(ctx)`` function, and every module there is a stage. ``run`` checks that (``check_stages``)
before it touches anything: a listed stage without its module, a module not listed, or a module
without ``run`` is an ``ExamBuilderError`` (exit 1) naming them, never a stage quietly left out.
"demo complete" is printed only after every stage asked for ran; a stage that fails stops the
demo with its error.
"""
from __future__ import annotations

import importlib
import pkgutil
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from rich.console import Console
from rich.rule import Rule

from ..course import Course
from ..errors import ExamBuilderError, rel
from ..files import copy_tree, replace_file
from ..safeload import read_text

STAGES = [
    ("bank", "Check the item bank"),
    ("records", "Import the cohort: roster, accommodations, attendance, eligibility"),
    ("standard", "Set the cut score: a Modified Angoff study by a panel of 8, and the board's decision"),
    ("assembly", "Build and release parallel forms"),
    ("paper", "A paper room: print, sit, scan, verify"),
    ("delivery", "Run a proctored sitting"),
    ("practice", "Practice for study groups: a practice set taken by a scripted candidate"),
    ("rehearsal", "Rehearse exam day: a small room against the real exam server"),
    ("grading", "Grade: objective scoring, rubric ratings, adjudication, results"),
    ("recourse", "Recourse: comments read blind, key validation before results are final, an appeal"),
    ("followup", "After the results: item analysis, a retake's rules, the audit trail"),
    ("report", "The program's report for the oversight board"),
    ("study_report", "The standard-setting study's report, with impact data on the cohort that sat"),
]

EXAM = "cps"
STAGE_NAMES = tuple(name for name, _title in STAGES)


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


#: Added to the demo course's nbgrader_config.py: a small program's staffing, where the coordinator
#: finishes the adjudications (the grading stage shows it).
DEMO_COORDINATOR = "Carla Coordinator"
DEMO_SETTINGS = f"""

# exam-builder demo: the coordinator adjudicates (a program with two graders can finish).
c.GradingSettings.adjudicator = "coordinator"
c.GradingSettings.coordinators = [{DEMO_COORDINATOR!r}]
"""


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
    for name in ("source", "rubrics"):  # read through safeload: no link loop, no link out, no pipe or device read
        copy_tree(origin / name, target / name, None, label, skip=(".ipynb_checkpoints", "*-[A-Z]"), public=True)
    config = origin / "nbgrader_config.py"
    replace_file(target / "nbgrader_config.py", read_text(config, label(config), max_bytes=1024 * 1024) + DEMO_SETTINGS,
                 None, public=True)
    course = Course(target)
    course.db.upgrade()
    return course


def check_stages() -> dict[str, ModuleType]:
    """Every stage's module, by name, once ``STAGES`` and ``demo/stages/`` agree (see the contract)."""
    from . import stages as package

    listed = [name for name, _title in STAGES]
    found = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))
    folder = "exam_builder/demo/stages"
    problems = [f"stage '{name}' is in the demo's stage list but {folder}/{name}.py does not exist"
                for name in listed if name not in found]
    problems += [f"{folder}/{name}.py is not in the demo's stage list (STAGES in exam_builder/demo/__init__.py)"
                 for name in found if name not in listed]
    problems += [f"stage '{name}' is listed {listed.count(name)} times" for name in sorted(set(listed))
                 if listed.count(name) > 1]
    modules = {}
    for name in listed:
        if name not in found:
            continue
        module = importlib.import_module(f"{__name__}.stages.{name}")
        if not callable(getattr(module, "run", None)):
            problems.append(f"{folder}/{name}.py has no run(ctx) function")
        modules[name] = module
    if problems:
        raise ExamBuilderError("the demo is incomplete: " + "; ".join(problems) + ". Nothing was run.")
    return modules


def run(target: Path, origin: Path, console: Console, only: list[str] | None = None) -> DemoContext:
    """Every stage (or those in ``only``) in order, on a fresh copy of ``origin`` at ``target``."""
    modules = check_stages()
    unknown = [name for name in only or () if name not in modules]
    if unknown:
        raise ExamBuilderError(f"no demo stage {', '.join(map(repr, unknown))}; the stages are "
                               + ", ".join(modules))
    course = prepare(target, origin)
    ctx = DemoContext(course=course, console=console)
    chosen = [(name, title) for name, title in STAGES if not only or name in only]
    began = time.perf_counter()
    for name, title in chosen:
        console.print(Rule(f"[bold]{title}"))
        started = time.perf_counter()
        modules[name].run(ctx)
        console.print(f"[dim]{name}: {time.perf_counter() - started:.1f} s[/]")
    console.print(Rule(f"[bold green]demo complete: {len(chosen)} of {len(STAGES)} stages "
                       f"in {time.perf_counter() - began:.0f} s"))
    console.print(f"The demo course is in {target}/ (database: {course.db.safe_url}).")
    return ctx
