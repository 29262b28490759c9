"""The roster: candidates from the coordinator's CSV, mirrored as nbgrader students.

A candidate is an nbgrader student with the same id, so nbgrader's formgrader, feedback and
exports work on our data. Both rows are written in one transaction, through nbgrader's own
``Student`` model on our session; a file with any bad row writes nothing. Importing the same
file twice changes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ..errors import ExamBuilderError, Problem
from ..model.states import AuditAction
from . import audit
from .csvfile import EMAIL, Change, Column, CsvFile, DryRun, read_csv
from .models import Candidate
from .queries import candidates as candidates_q
from .text import shown

if TYPE_CHECKING:
    from ..course import Course
    from .db import Database

NBGRADER_EMAIL_MAX = 128  # nbgrader's student.email column

# max_chars: the database columns' widths (read_csv refuses longer cells, located)
COLUMNS = (
    Column("candidate id", ("candidate_id", "candidate", "id", "student id", "student_id", "student", "cps id")),
    Column("first name", ("first_name", "first", "firstname", "given name", "given_name", "forename"), max_chars=128),
    Column("last name", ("last_name", "last", "lastname", "surname", "family name", "family_name"), max_chars=128),
    Column("email", ("e-mail", "email address", "e-mail address", "mail"), required=False,
           max_chars=NBGRADER_EMAIL_MAX),
    Column("cohort", ("class", "group", "section", "cohort id", "training"), required=False),
    # The day the candidate's training ended (the last class): the report measures time to certification from it.
    Column("training ended", ("training end", "training_ended", "training ended on", "last class", "last class on",
                              "class ended", "completed training"), required=False),
)


@dataclass
class RosterRow:
    row: int
    id: str
    first_name: str
    last_name: str
    email: str | None
    cohort: str
    training_ended_on: dt.date | None = None


@dataclass
class RosterReport:
    """What an import did, for the command's summary."""

    file: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # optional columns the sheet lacks: stored values kept
    dry_run: bool = False

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


def parse_roster(path: Path | str, root: Path | None = None) -> tuple[CsvFile, list[RosterRow]]:
    """Read and check a roster file; every problem is located by row and column."""
    sheet = read_csv(path, COLUMNS, root, candidate_data=True)
    rows: list[RosterRow] = []
    first_seen: dict[str, int] = {}
    emails: dict[str, int] = {}
    for row in sheet.rows:
        cid = sheet.candidate_id(row)
        if cid is not None:
            key = cid.lower()
            if key in first_seen:
                sheet.error(row.number, "candidate id",
                            f"candidate id {cid!r} is also on row {first_seen[key]}; each candidate once")
                cid = None
            else:
                first_seen[key] = row.number
        first = sheet.required(row, "first name", "the first name")
        last = sheet.required(row, "last name", "the last name")
        email = row.get("email") or None
        if email is not None:
            if not EMAIL.match(email):
                sheet.error(row.number, "email", f"{shown(email)} is not an email address (name@example.org)")
            elif email.lower() in emails:
                sheet.warn(row.number, "email", f"the same email as row {emails[email.lower()]}")
            else:
                emails[email.lower()] = row.number
        cohort = row.get("cohort")
        ended = sheet.date(row, "training ended", "the day training ended")
        if cid and first and last:
            rows.append(RosterRow(row.number, cid, first, last, email, cohort, ended))
    return sheet, rows


#: The candidate's stored fields, by the roster column that sets them.
FIELDS = {"first_name": "first name", "last_name": "last name", "email": "email", "cohort": "cohort",
          "training_ended_on": "training ended"}


def import_roster(course: Course, path: Path | str, actor: str, dry_run: bool = False) -> RosterReport:
    """Create or update the candidates of a roster file and their nbgrader students.

    All or nothing: the file is checked first, then written in one transaction. Only the columns
    the sheet has are written; ``dry_run``: the report of what would change, nothing written.
    """
    sheet, rows = parse_roster(path, course.root)
    sheet.raise_if_errors()
    report = RosterReport(file=sheet.label, warnings=sheet.warnings, dry_run=dry_run,
                          kept=[col for col in FIELDS.values() if col not in sheet.headers])
    try:
        _import(course.db, sheet, rows, actor, report)
    except DryRun:
        pass
    return report


def _import(db: Database, sheet: CsvFile, rows: list[RosterRow], actor: str, report: RosterReport) -> None:
    with db.transaction() as s:
        # An id that differs from an existing one only by case would share its folders.
        lower = {r.id.lower(): r for r in rows}
        clash = candidates_q.select_ids_case_insensitive(s, lower)
        for existing in clash:
            r = lower[existing.lower()]
            if existing != r.id:
                sheet.error(r.row, "candidate id",
                            f"candidate {existing!r} already exists; {r.id!r} differs only by case")
        sheet.raise_if_errors()

        from .queries import gradebook as gradebook_q  # importing nbgrader takes seconds; only the roster needs it

        ids = [r.id for r in rows]  # two queries for the whole file, not two per row
        candidates = {c.id: c for c in candidates_q.select_candidates(s, ids)}
        students = {st.id: st for st in gradebook_q.select_students(s, ids)}
        present = {k for k, col in FIELDS.items() if col in sheet.headers}
        for r in rows:
            fields = {"first_name": r.first_name, "last_name": r.last_name, "email": r.email or None,
                      "cohort": r.cohort or "", "training_ended_on": r.training_ended_on}
            cand = candidates.get(r.id)
            if cand is None:
                s.add(Candidate(id=r.id, **fields))
                report.created.append(r.id)
            else:
                changed = [k for k, v in fields.items() if k in present and (getattr(cand, k) or None) != (v or None)]
                for k in changed:
                    report.changes.append(Change(r.id, FIELDS[k], getattr(cand, k), fields[k]))
                    setattr(cand, k, fields[k])
                (report.updated if changed else report.unchanged).append(r.id)
                fields = {k: getattr(cand, k) for k in fields}
            _sync_student(s, students.get(r.id), fields, r.id)
        if report.dry_run:
            raise DryRun  # rolls the transaction back: nothing written, nothing audited
        if report.created or report.updated:
            audit.record(s, actor, AuditAction.roster_import, "roster", sheet.label,
                         created=report.created, updated=report.updated,
                         changed=[[c.who, c.field, _plain(c.old), _plain(c.new)] for c in report.changes])


def _plain(value):
    """A value as the audit trail's JSON holds it."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _sync_student(s, student, fields: dict, cid: str) -> None:
    """Create or update the nbgrader student of a candidate (nbgrader's model, our transaction), as stored."""
    from nbgrader.api import Student

    if student is None:
        s.add(Student(id=cid, first_name=fields["first_name"], last_name=fields["last_name"], email=fields["email"]))
        return
    student.first_name, student.last_name, student.email = fields["first_name"], fields["last_name"], fields["email"]


def get_candidate(session: Session, candidate_id: str, lock: bool = False) -> Candidate:
    """A candidate by id, or a clear error; ``lock`` takes the row lock (PostgreSQL)."""
    cand = candidates_q.select_candidate(session, candidate_id, lock)
    if cand is None:
        raise ExamBuilderError(f"no candidate {candidate_id!r}; import the roster first (exam-builder roster import)")
    return cand


def list_candidates(session: Session) -> list[Candidate]:
    """Every candidate on the roster, by id."""
    return candidates_q.select_candidates(session)
