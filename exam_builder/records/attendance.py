"""Attendance at each module of each class, and homework for the participation grade.

Attendance decides eligibility (late for or missing ``ProgramPolicy.disqualify_late_or_absent``
modules disqualifies), so imports are all or nothing, located by row, and every change of a
recorded status is audited. Homework comes from a CSV or from the nbgrader homework
assignments in the same gradebook; it counts toward participation, not eligibility.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ..errors import Problem
from ..model.states import AttendanceStatus, AuditAction
from . import audit
from .csvfile import CellError, Change, Column, CsvFile, DryRun, read_csv, whole_number
from .models import Attendance, Homework
from .queries import attendance as attendance_q, candidates as candidates_q, forms as forms_q
from .text import shown

if TYPE_CHECKING:
    from ..course import Course
    from .db import Database

_PRESENT, _LATE, _ABSENT = AttendanceStatus.present, AttendanceStatus.late, AttendanceStatus.absent
#: What a sheet may write in its status column (lowercased), and the state it stands for.
STATUS = {
    "present": _PRESENT, "p": _PRESENT, "yes": _PRESENT, "attended": _PRESENT,
    "late": _LATE, "l": _LATE, "tardy": _LATE,
    "absent": _ABSENT, "a": _ABSENT, "no": _ABSENT, "missed": _ABSENT, "missing": _ABSENT,
}
_CLASS_MODULE = re.compile(r"([0-9]+)\s*[.:/-]\s*([0-9]+)")
#: A program has a handful of classes; a class number above this is a typo, not a class.
MAX_CLASS_NO = 999
#: The most points a homework can be worth; a score above it (or above its max score) is a typo.
MAX_HOMEWORK_POINTS = 1000.0

ATTENDANCE_COLUMNS = (
    Column("candidate id", ("candidate_id", "candidate", "id", "student id", "student")),
    Column("class", ("class no", "class_no", "class number", "session", "day"), required=False),
    Column("module", ("module no", "module_no", "module number")),
    Column("status", ("attendance", "present/late/absent")),
)

HOMEWORK_COLUMNS = (
    Column("candidate id", ("candidate_id", "candidate", "id", "student id", "student")),
    Column("assignment", ("homework", "assignment name", "task"), max_chars=128),
    Column("class", ("class no", "class_no", "class number"), required=False),
    Column("turned in", ("turned_in", "submitted", "done", "handed in"), required=False),
    Column("score", ("points",), required=False),
    Column("max score", ("max_score", "max points", "out of"), required=False),
)

YES = {"yes", "y", "true", "1", "x", "turned in", "submitted"}
NO = {"no", "n", "false", "0", "", "missing"}


def module_label(class_no: int, module_no: int) -> str:
    """How the program names a module of a class: ``2.1`` is module 1 of class 2."""
    return f"{class_no}.{module_no}"


@dataclass
class ImportReport:
    file: str
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    warnings: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # every stored value changed, listed
    dry_run: bool = False


def _check_candidates(session: Session, sheet: CsvFile, ids: dict[str, int]) -> None:
    """Every candidate of the file must be on the roster (reported at its first row)."""
    known = set(candidates_q.select_candidate_ids(session, ids, ordered=False))
    for cid, row in sorted(ids.items(), key=lambda kv: kv[1]):
        if cid not in known:
            sheet.error(row, "candidate id",
                        f"no candidate {cid!r} on the roster; import the roster first or fix the id")


def _dry(report: ImportReport, write) -> ImportReport:
    """Run ``write`` (a transaction); under ``dry_run`` it raises ``DryRun`` at its end and is rolled back."""
    try:
        write()
    except DryRun:
        pass
    return report


def import_attendance(course: Course, path: Path | str, actor: str, dry_run: bool = False) -> ImportReport:
    """Record present/late/absent per candidate, class and module from a CSV file (``dry_run``: write nothing)."""
    sheet = read_csv(path, ATTENDANCE_COLUMNS, course.root, candidate_data=True)
    per_class = course.policy.modules_per_class
    records: dict[tuple[str, int, int], tuple[int, str]] = {}
    first_row: dict[str, int] = {}
    for row in sheet.rows:
        cid = sheet.candidate_id(row)
        class_no = module_no = None
        if "class" in sheet.headers and row.get("class"):
            class_no = sheet.integer(row, "class", "the class number", low=1, high=MAX_CLASS_NO)
            module_no = sheet.integer(row, "module", "the module number", low=1, high=per_class)
        elif "class" not in row.bad and sheet.required(row, "module", "the module"):
            both = _CLASS_MODULE.fullmatch(row.get("module"))
            if both is None:
                sheet.error(row.number, "module", f"{shown(row.get('module'))}: give the class in the class column "
                                                  "or write the module as class.module (e.g. 2.1)")
            else:
                try:  # the same ranges as in two columns
                    class_no = whole_number(both.group(1), "the class number", 1, MAX_CLASS_NO)
                    module_no = whole_number(both.group(2), "the module number", 1, per_class)
                except CellError as exc:
                    sheet.error(row.number, "module", f"module {shown(row.get('module'))}: {exc}")
                    class_no = module_no = None
        raw_status = sheet.required(row, "status", "the attendance status")
        status = STATUS.get(raw_status.lower()) if raw_status else None
        if raw_status and status is None:
            sheet.error(row.number, "status", f"{shown(raw_status)} is not present, late or absent")
        if cid and class_no is not None and module_no is not None and status:
            key = (cid, class_no, module_no)
            if key in records:
                earlier, earlier_status = records[key]
                if earlier_status != status:
                    sheet.error(row.number, "status",
                                f"{cid} module {module_label(class_no, module_no)} is {earlier_status} on row "
                                f"{earlier} and {status} here; keep one")
            else:
                records[key] = (row.number, status)
                first_row.setdefault(cid, row.number)
    sheet.raise_if_errors()

    report = ImportReport(file=sheet.label, warnings=sheet.warnings, dry_run=dry_run)
    return _dry(report, lambda: _write_attendance(course.db, sheet, records, first_row, actor, report))


def _write_attendance(db: Database, sheet: CsvFile, records: dict, first_row: dict, actor: str,
                      report: ImportReport) -> None:
    with db.transaction() as s:
        _check_candidates(s, sheet, first_row)
        sheet.raise_if_errors()
        existing = {
            (a.candidate_id, a.class_no, a.module_no): a
            for a in attendance_q.select_attendance_of(s, first_row)
        }
        changes = []
        for (cid, class_no, module_no), (_row, status) in records.items():
            current = existing.get((cid, class_no, module_no))
            if current is None:
                s.add(Attendance(candidate_id=cid, class_no=class_no, module_no=module_no, status=status))
                report.created += 1
            elif current.status != status:
                changes.append([cid, module_label(class_no, module_no), current.status, status])
                report.changes.append(Change(f"{cid} module {module_label(class_no, module_no)}", "status",
                                             str(current.status), str(status)))
                current.status = status
                report.changed += 1
            else:
                report.unchanged += 1
        if report.dry_run:
            raise DryRun
        if report.created or report.changed:
            audit.record(s, actor, AuditAction.attendance_import, "attendance", sheet.label,
                         created=report.created, changed=changes)


def import_homework(course: Course, path: Path | str, actor: str, dry_run: bool = False) -> ImportReport:
    """Record homework turned in (and its score, if given) from a CSV file (``dry_run``: write nothing).

    A column the sheet lacks (class, score, max score) leaves the stored value alone; without a
    turned-in column a score given means turned in, and no score column keeps what is stored."""
    sheet = read_csv(path, HOMEWORK_COLUMNS, course.root, candidate_data=True)
    records: dict[tuple[str, str], dict] = {}
    first_row: dict[str, int] = {}
    for row in sheet.rows:
        cid = sheet.candidate_id(row)
        name = sheet.required(row, "assignment", "the assignment")
        class_no = sheet.integer(row, "class", "the class number", 1, MAX_CLASS_NO, required=False)
        max_score = sheet.number(row, "max score", "the max score", 0.0, MAX_HOMEWORK_POINTS, required=False)
        score = sheet.number(row, "score", "the score", 0.0, MAX_HOMEWORK_POINTS, required=False)
        if score is not None and max_score is not None and score > max_score:
            sheet.error(row.number, "score", f"score {score:g} is above the max score {max_score:g}")
        raw = row.get("turned in").lower()
        if "turned in" in sheet.headers and raw not in YES | NO:
            sheet.error(row.number, "turned in", f"{shown(row.get('turned in'))}: write yes or no")
        turned_in = raw in YES if "turned in" in sheet.headers and raw else score is not None
        if cid and name:
            if (cid, name) in records:
                sheet.error(row.number, "assignment", f"{cid} / {name} is also on row {records[(cid, name)]['row']}")
                continue
            records[(cid, name)] = {"row": row.number, "class_no": class_no, "turned_in": turned_in,
                                    "score": score, "max_score": max_score}
            first_row.setdefault(cid, row.number)
    sheet.raise_if_errors()

    report = ImportReport(file=sheet.label, warnings=sheet.warnings, dry_run=dry_run)
    # the stored fields this sheet speaks for; turned in follows the score when there is no turned-in column
    present = {k for k, col in HOMEWORK_FIELDS.items() if col in sheet.headers}
    if "score" in sheet.headers:
        present.add("turned_in")
    return _dry(report, lambda: _write_homework(course.db, sheet, records, first_row, present, actor, report))


#: The stored homework fields, by the column that sets them.
HOMEWORK_FIELDS = {"class_no": "class", "turned_in": "turned in", "score": "score", "max_score": "max score"}


def _write_homework(db: Database, sheet: CsvFile, records: dict, first_row: dict, present: set, actor: str,
                    report: ImportReport) -> None:
    with db.transaction() as s:
        _check_candidates(s, sheet, first_row)
        sheet.raise_if_errors()
        existing = _existing_homework(s, first_row)
        for (cid, name), values in records.items():
            values = {k: v for k, v in values.items() if k != "row"}
            _upsert_homework(s, existing, cid, name, values, report, present)
        if report.dry_run:
            raise DryRun
        if report.created or report.changed:
            audit.record(s, actor, AuditAction.homework_import, "homework", sheet.label,
                         created=report.created, changed=report.changed,
                         changes=[[c.who, c.field, c.old, c.new] for c in report.changes])


def _existing_homework(s: Session, candidate_ids) -> dict[tuple[str, str], Homework]:
    """The homework rows of these candidates, by (candidate, assignment), in one query."""
    rows = attendance_q.select_homework_of(s, candidate_ids)
    return {(h.candidate_id, h.assignment): h for h in rows}


def _upsert_homework(
    s: Session, existing: dict[tuple[str, str], Homework], cid: str, name: str, values: dict, report: ImportReport,
    present: set[str] | None = None,
) -> None:
    """Create the row, or change the fields in ``present`` (default: all), each change listed."""
    hw = existing.get((cid, name))
    if hw is None:
        s.add(Homework(candidate_id=cid, assignment=name, **values))
        report.created += 1
        return
    changed = [k for k, v in values.items() if (present is None or k in present) and getattr(hw, k) != v]
    for k in changed:
        report.changes.append(Change(f"{cid} / {name}", HOMEWORK_FIELDS[k], getattr(hw, k), values[k]))
        setattr(hw, k, values[k])
    if changed:
        report.changed += 1
    else:
        report.unchanged += 1


def sync_homework_from_gradebook(course: Course, actor: str) -> ImportReport:
    """Read homework scores from nbgrader's gradebook: every assignment that is not an exam form.

    A candidate without a submission of an assignment has not turned it in.
    """
    with course.db.read() as s:
        forms = set(forms_q.select_assignments(s))
        candidates = candidates_q.select_candidate_ids(s)
    found: dict[tuple[str, str], dict] = {}
    gb = course.db.gradebook()
    try:
        for assignment in gb.assignments:
            if assignment.name in forms:
                continue
            max_score = assignment.max_score
            submitted = {sub.student_id: sub for sub in assignment.submissions}  # one query, not one per candidate
            for cid in candidates:
                sub = submitted.get(cid)
                found[(cid, assignment.name)] = {"turned_in": sub is not None,
                                                 "score": sub.score if sub is not None else None,
                                                 "max_score": max_score}
    finally:
        gb.close()
    report = ImportReport(file="nbgrader gradebook")
    if not found:
        return report
    with course.db.transaction() as s:
        existing = _existing_homework(s, candidates)
        for (cid, name), values in found.items():
            _upsert_homework(s, existing, cid, name, values, report)
        if report.created or report.changed:
            audit.record(s, actor, AuditAction.homework_sync, "homework", "gradebook",
                         created=report.created, changed=report.changed)
    return report


@dataclass(frozen=True)
class Participation:
    turned_in: int
    assigned: int

    @property
    def share(self) -> float | None:
        return self.turned_in / self.assigned if self.assigned else None

    def __str__(self) -> str:
        return f"{self.turned_in}/{self.assigned}" if self.assigned else "-"


def participation(session: Session, candidate_ids: list[str]) -> dict[str, Participation]:
    """Homework turned in out of every homework assignment known (missing rows count as not).

    Two aggregate queries, not the whole table: the ledger asks this for one candidate each
    time it opens a sitting.
    """
    assigned = attendance_q.select_homework_assigned(session)
    done = attendance_q.select_homework_done(session, candidate_ids)
    return {cid: Participation(done.get(cid, 0), assigned) for cid in candidate_ids}


def late_or_absent(
    session: Session, candidate_ids: list[str] | None = None
) -> dict[str, list[tuple[int, int, AttendanceStatus]]]:
    """Per candidate, the modules they were late for or missed, in class order."""
    result: dict[str, list[tuple[int, int, AttendanceStatus]]] = {}
    for a in attendance_q.select_missed(session, candidate_ids):
        result.setdefault(a.candidate_id, []).append((a.class_no, a.module_no, a.status))
    return result
