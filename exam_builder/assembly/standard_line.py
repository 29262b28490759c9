"""The blueprint's ``standard:`` line: which decision of the oversight board sets the exam's cut.

The blueprint is the file the program keeps and reviews, so the board's decision enters it as a
reviewed change: ``exam-builder standard decide`` shows the change (``plan_edit``: the old lines and
the new ones, like a diff) and writes it only with ``--apply``, atomically through ``files``, in the
transaction that records the decision (``standard.study.record_decision``, whose audit entry holds
the file's SHA-256 before and after). A decision is named by its study and its number within the
study (1 the first: ``decision_number``), which is known before it is recorded, so the line shown
is the line written::

    # The cut: CPS oversight board adopted 67.0% of the points on 2026-12-01 (the panel recommended ...)
    standard: {study: 1, decision: 1}

With a standard named, a flat ``cut_score`` sets nothing (each form's raw cut comes from the
study's item ratings), so the blueprint parser refuses one beside it. ``reference_problems`` holds
the line to the records: ``exam-builder check`` (``course_check``) reports, at the YAML line, a
blueprint naming a study or decision that is not recorded or not the one in force, or not naming
the one in force; ``build`` (``check_for_build``) refuses such a blueprint before anything is
assembled or written. ``check`` also warns, at the ``standard:`` line, when the named study did not
rate every item the blueprint can draw (``uncovered``): a form drawing an unrated item cannot take its
cut from the standard, so its build is refused.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..bank import Bank
from ..course import Course
from ..errors import ExamBuilderError, Location, Problem, ValidationFailed, rel
from ..files import check_owned, replace_file
from ..model.rubric import Rubric, line_of
from ..records.models import StandardDecision, Study
from ..records.queries import standard as q
from ..safeload import MAX_YAML_BYTES, LoadError, holds, load_yaml, read_text
from ..settings.policy import ProgramPolicy
from .blueprint import (
    Blueprint,
    StandardRef,
    check_blueprint,
    eligible_items,
    exam_bank,
    parse_blueprint,
    validate_blueprint,
)

#: The comment line written above ``standard:`` (found again and replaced by the next decision).
COMMENT = "# The cut:"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decision_number(s: Session, row: StandardDecision) -> int:
    """The decision's number within its study (1 the first), as the blueprint names it."""
    return [d.id for d in q.select_decisions(s, study_id=row.study_id)].index(row.id) + 1


def describe(row: StandardDecision, number: int) -> str:
    return (f"decision {number} of study {row.study_id} ({row.decided_by} adopted {row.adopted:.1%} of the points on "
            f"{row.decided_on.isoformat()})")


def line_for(study: int, number: int) -> str:
    return f"standard: {{study: {study}, decision: {number}}}"


def comment_for(study: int, board: str, adopted: float, recommended: float, decided_on: dt.date) -> str:
    """The comment line written above the blueprint's ``standard:``: what the coordinator reads of the decision."""
    return (f"{COMMENT} {board} adopted {adopted:.1%} of the points on {decided_on.isoformat()} (the panel "
            f"recommended {recommended:.1%}); each form's raw cut comes from study {study}'s item ratings")


def comment_problems(s: Session, bp: Blueprint, data: object, text: str, label: str) -> list[Problem]:
    """A warning when the comment above ``standard:`` (what a coordinator reads of the cut) is missing or does not
    say what the named decision recorded (edited by hand, or kept from another decision)."""
    named = bp.standard
    at = line_of(data, ("standard",)) if named is not None else None
    if named is None or at is None:
        return []
    of_study = q.select_decisions(s, study_id=named.study)
    if named.decision > len(of_study):
        return []  # reference_problems says so
    row = of_study[named.decision - 1]
    want = comment_for(row.study_id, row.decided_by, row.adopted, row.recommended, row.decided_on)
    lines = text.splitlines()
    above = lines[at - 2].strip() if at >= 2 else ""
    if above == want:
        return []
    said = (f"the comment above it says {above[len(COMMENT):].strip()!r}" if above.startswith(COMMENT)
            else "no comment above it says what the board decided")
    return [Problem(Location(label, line=at - 1 if above.startswith(COMMENT) else at, column="standard"),
                    f"the blueprint names {describe(row, named.decision)}, and {said}: the comment is what a "
                    f"coordinator reads of the cut. Write `{want}` above `{line_for(named.study, named.decision)}` "
                    "(`exam-builder standard decide --apply` writes both)", severity="warning")]


def _has_records(course: Course) -> bool:
    """Whether the course's database holds the standard-setting tables (never creates a SQLite file)."""
    from ..records.db import sqlite_path

    path = sqlite_path(course.db_url)
    return (path is None or path.exists()) and course.db.has_table("eb_standard_decision")


def reference_problems(s: Session | None, bp: Blueprint, data: object, exam: str, label: str) -> list[Problem]:
    """What is wrong between the blueprint's ``standard:`` (or its flat ``cut_score``) and the decisions
    recorded for ``exam`` (``s`` None: a course without records); each problem at its YAML line."""
    decisions = q.select_decisions(s, exam_id=exam) if s is not None else []
    in_force = decisions[-1] if decisions else None
    force_text = write_text = ""
    if in_force is not None:
        number = decision_number(s, in_force)  # type: ignore[arg-type]  # decisions imply a session
        force_text, write_text = describe(in_force, number), line_for(in_force.study_id, number)
    named = bp.standard
    if named is None:
        if in_force is None:
            return []
        return [Problem(Location(label, line=line_of(data, ("cut_score",)), column="cut_score"),
                        f"the board's {force_text} is the standard in force for {exam}, and the blueprint does not "
                        f"name it: its cut_score sets no cut while a standard is in force. Write `{write_text}` in "
                        "place of this line (`exam-builder standard decide --apply` writes it when it records a "
                        "decision)")]
    at = Location(label, line=line_of(data, ("standard",)), column="standard")
    study = s.get(Study, named.study) if s is not None else None
    if study is None:
        return [Problem(at, f"the blueprint names {named.text()}, and the course's records hold no study "
                            f"{named.study} (`exam-builder standard list {exam}` shows the studies)")]
    if study.exam_id != exam:
        return [Problem(at, f"the blueprint names {named.text()}, a study of {study.exam_id}, not of {exam}")]
    assert s is not None
    of_study = q.select_decisions(s, study_id=study.id)
    if named.decision > len(of_study):
        have = (f"its decisions are 1 to {len(of_study)}" if of_study else
                f"the board has not decided on it (`exam-builder standard decide {study.id}`)")
        return [Problem(at, f"the blueprint names {named.text()}, and study {study.id} has no decision "
                            f"{named.decision}: {have}")]
    row = of_study[named.decision - 1]
    if in_force is not None and row.id != in_force.id:
        return [Problem(at, f"the blueprint names {describe(row, named.decision)}, which is superseded: the "
                            f"standard in force for {exam} is {force_text}. Write `{write_text}` in place of this "
                            "line")]
    return []


def uncovered(rated: Mapping[str, str], items: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Of ``items`` (id, content hash), those a study's ratings (``rated``: id -> the hash it rated) do not cover:
    (not rated, rated in another version). A form holding either cannot take its cut from the study."""
    unrated, edited = [], []
    for item_id, content_hash in items:
        if item_id not in rated:
            unrated.append(item_id)
        elif rated[item_id] != content_hash:
            edited.append(item_id)
    return unrated, edited


def some(ids: list[str], limit: int = 12) -> str:
    """Item ids for a message: all of them, or the first ``limit`` and how many more."""
    return ", ".join(ids) if len(ids) <= limit else ", ".join(ids[:limit]) + f" and {len(ids) - limit} more"


def coverage_problems(s: Session, bp: Blueprint, data: object, bank: Bank, rubrics: Mapping[str, Rubric], exam: str,
                      label: str) -> list[Problem]:
    """A warning at the ``standard:`` line when the study it names did not rate every item the blueprint can
    draw (or rated an older version): a form drawing one cannot take its cut from the standard."""
    named = bp.standard
    study = s.get(Study, named.study) if named is not None else None
    if named is None or study is None or study.exam_id != exam:
        return []
    rated = {r.item_id: r.content_hash for r in q.select_study_items(s, study.id)}
    drawable = eligible_items(bp, bank, rubrics).items
    unrated, edited = uncovered(rated, [(i.id, i.content_hash()) for i in drawable])
    if not unrated and not edited:
        return []
    why = ([f"{len(unrated)} are not rated in study {study.id} ({some(unrated)})"] if unrated else []) + (
        [f"{len(edited)} were edited since it rated them ({some(edited)})"] if edited else [])
    return [Problem(Location(label, line=line_of(data, ("standard",)), column="standard"),
                    f"the standard ({named.text()}) does not cover the items this blueprint can draw: of its "
                    f"{len(drawable)} drawable items, " + " and ".join(why) + ". A form that draws one cannot take "
                    f"its cut from this standard, and `exam-builder build {exam}` refuses it. Have a study rate "
                    f"them (`exam-builder standard create {exam} --bank`) and the board decide on it",
                    severity="warning")]


BlueprintCheck = Callable[[Path, Bank, "dict[str, Rubric]", ProgramPolicy, str], Iterable[Problem]]


def course_check(course: Course) -> BlueprintCheck:
    """``check_blueprint`` and, for a course with records, ``reference_problems`` (what ``exam-builder check``
    runs on each blueprint; the exam is the blueprint's folder, ``source/<exam>/``)."""

    def run(path: Path, bank: Bank, rubrics: dict[str, Rubric], policy: ProgramPolicy, label: str) -> list[Problem]:
        problems = list(check_blueprint(path, bank, rubrics, policy, label))
        bp, data, schema = parse_blueprint(path, label)
        if bp is None or schema:
            return problems
        try:
            if not _has_records(course):
                return problems + reference_problems(None, bp, data, path.parent.name, label)
            with course.db.read() as s:
                found = reference_problems(s, bp, data, path.parent.name, label)
                if not found:
                    found = coverage_problems(s, bp, data, exam_bank(bank, path.parent), rubrics, path.parent.name,
                                              label)
                    found += comment_problems(s, bp, data, read_text(path, label, max_bytes=MAX_YAML_BYTES), label)
                return problems + found
        except (ExamBuilderError, SQLAlchemyError) as exc:  # records that cannot be read: the file's checks stand
            return problems + [Problem(Location(label), f"the blueprint's standard could not be checked against "
                                                        f"the course's records ({type(exc).__name__})",
                                       severity="warning")]

    return run


def check_for_build(course: Course, exam: str, bp: Blueprint) -> None:
    """Refuse (``ValidationFailed``, located, before anything is assembled or written) a blueprint that disagrees
    with the records: ``build`` then takes the cut from the decision the blueprint names, the one in force."""
    if bp.standard is None and not _has_records(course):
        return
    path = course.blueprint_path(exam)
    label = rel(path, course.root)
    _bp, data, problems = parse_blueprint(path, label)
    if not problems:
        if _has_records(course):
            with course.db.read() as s:
                problems = reference_problems(s, bp, data, exam, label)
        else:
            problems = reference_problems(None, bp, data, exam, label)
    if problems:
        raise ValidationFailed(problems)


@dataclass(frozen=True)
class BlueprintEdit:
    """The change the board's decision makes to the exam's blueprint, computed before anything is written."""

    path: Path
    label: str
    line: int  # the first line replaced
    removed: list[str]
    added: list[str]
    before: str
    after: str

    @property
    def before_hash(self) -> str:
        return sha256(self.before)

    @property
    def after_hash(self) -> str:
        return sha256(self.after)

    def shown(self) -> list[str]:
        """The change as a person reviews it: the file and line, then the old lines and the new ones."""
        return ([f"{self.label}, line {self.line}:"] + [f"- {x}" for x in self.removed]
                + [f"+ {x}" for x in self.added])

    def write(self, root: Path) -> None:
        """Replace the file atomically with the new text; refused if it changed since the edit was planned."""
        if not holds(self.path, self.before):
            raise ExamBuilderError(f"{self.label} changed while the decision was being recorded; nothing was "
                                   "written. Run the command again")
        replace_file(self.path, self.after, root, public=True)

    def undo(self, root: Path) -> None:
        replace_file(self.path, self.before, root, public=True)


def _block(lines: list[str], start: int) -> int:
    """The end (exclusive) of the top-level key at ``start``: its line and the indented lines under it."""
    end = start + 1
    while end < len(lines) and lines[end][:1] in (" ", "\t") and lines[end].strip():
        end += 1
    return end


def plan_edit(course: Course, exam: str, ref: StandardRef, comment: str) -> BlueprintEdit:
    """The blueprint of ``exam`` with ``standard:`` naming ``ref`` (and ``comment`` above it) in place of its
    ``cut_score`` or its previous ``standard``; the new text is checked as a blueprint before it is offered."""
    path = course.blueprint_path(exam)
    label = rel(path, course.root)
    course.require_inside(path)
    if not check_owned(path, course.root):
        raise ExamBuilderError(f"{label}: no blueprint; the board's decision is written into the exam's blueprint")
    try:
        before = read_text(path, label, max_bytes=MAX_YAML_BYTES)
    except LoadError as exc:
        raise ValidationFailed([exc.problem]) from None
    data, problems = load_yaml(path, label, text=before)
    if problems:
        raise ValidationFailed(problems)
    added = [comment, line_for(ref.study, ref.decision)]
    start, removed, after = _replace(before, data, added, label)
    data2, problems = load_yaml(path, label, text=after)
    bp, _data, problems = (None, None, problems) if problems else validate_blueprint(data2, label)
    if bp is None or bp.standard != ref:
        raise ValidationFailed(problems or [Problem(Location(label), "the blueprint could not be changed to name "
                                                                     f"{ref.text()}; edit it by hand")])
    return BlueprintEdit(path, label, start, removed, added, before, after)


def _replace(before: str, data: object, added: list[str], label: str) -> tuple[int, list[str], str]:
    """``before`` with its top-level ``standard`` (and the comment above it), else its ``cut_score``, replaced by
    ``added``: (the first line replaced, the lines replaced, the new text)."""
    key = "standard" if isinstance(data, dict) and "standard" in data else "cut_score"
    at = line_of(data, (key,)) if isinstance(data, dict) and key in data else None
    if at is None:
        raise ExamBuilderError(f"{label} has neither cut_score nor standard at its top level; fix it first "
                               "(exam-builder check)")
    lines = before.splitlines(keepends=True)
    start, end = at - 1, _block(lines, at - 1)
    while start > 0 and lines[start - 1].startswith(COMMENT):  # the previous decision's comment goes with it
        start -= 1
    newline = "\r\n" if lines[at - 1].endswith("\r\n") else "\n"
    after = "".join(lines[:start] + [x + newline for x in added] + lines[end:])
    return start + 1, [x.rstrip("\r\n") for x in lines[start:end]], after


def flat_cut_copy(origin: Course, exam: str, copy: Path, root: Path) -> str | None:
    """A scratch copy of a course's authored files without its records (``exam-builder rehearse``): the copied
    blueprint's ``standard:`` replaced by the share of the points the named decision adopted, as a flat cut, so
    the copy builds (its forms reach no candidate). The line written; None when the blueprint names no standard."""
    label = rel(copy, root)
    try:
        before = read_text(copy, label, max_bytes=MAX_YAML_BYTES)
    except LoadError as exc:
        raise ValidationFailed([exc.problem]) from None
    data, problems = load_yaml(copy, label, text=before)
    bp, _data, problems = (None, None, problems) if problems else validate_blueprint(data, label)
    if bp is None:
        raise ValidationFailed(problems)
    if bp.standard is None:
        return None
    adopted = None
    if _has_records(origin):
        with origin.db.read() as s:
            of_study = q.select_decisions(s, study_id=bp.standard.study)
            if bp.standard.decision <= len(of_study) and of_study[bp.standard.decision - 1].exam_id == exam:
                adopted = of_study[bp.standard.decision - 1].adopted
    if adopted is None:
        raise ExamBuilderError(f"source/{exam}/blueprint.yaml names {bp.standard.text()}, which the course's records "
                               "do not hold; `exam-builder check` says more")
    line = f"cut_score: {adopted * 100:.4g}%  # {bp.standard.text()}'s share, as a flat cut (a scratch copy)"
    _start, _removed, after = _replace(before, data, [line], label)
    replace_file(copy, after, root)
    return line
