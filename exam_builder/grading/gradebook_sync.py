"""Write scores into nbgrader's own gradebook tables, in bulk, the way nbgrader does.

Points live in nbgrader's ``grade`` table (one truth per fact), so the formgrader, ``nbgrader
export`` and ``generate_feedback`` see exam-builder's scores. ``nbgrader autograde`` writes one
row at a time through its ORM; here the same rows (submission, submitted notebook, a grade per
grade cell, a comment per solution cell, with nbgrader's defaults and rules) are written with
SQLAlchemy core on nbgrader's tables, many per statement, in the caller's transaction. Every
write is sealed (``seal.seal``) in the same transaction, so ``results`` can tell a score that
exam-builder wrote from one changed by another route.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from ..errors import ExamBuilderError
from ..records.queries import gradebook as q
from ..records.queries.dialect import large_cache
from ..records.queries.gradebook import (  # noqa: F401  (nbgrader's tables, where callers find them)
    ASSIGNMENT,
    BASE_CELL,
    COMMENT,
    GRADE,
    GRADE_CELL,
    NOTEBOOK,
    SOLUTION_CELL,
    SOURCE_CELL,
    STUDENT,
    SUBMISSION,
    SUBMITTED_NB,
    TASK_CELL,
)
from .seal import AUTO, MANUAL, seal


def new_ids(n: int) -> Iterator[str]:
    """``n`` ids of nbgrader's format (32 hex digits): a time-ordered half and a random half.

    nbgrader's own ids are random (uuid4); ordered ones keep SQLite's index inserts at the
    end of the B-tree instead of all over it, which halves the cost of a bulk insert, and
    the random half keeps ids from different processes apart.
    """
    base = time.time_ns()
    rand = os.urandom(8 * n).hex()
    return (f"{base + i:016x}{rand[16 * i:16 * i + 16]}" for i in range(n))


@dataclass
class NotebookCells:
    """The master cells of one assignment notebook, as nbgrader's gradebook stores them."""

    assignment_id: str
    notebook_id: str
    grade_cells: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # name -> (cell id, max, type)
    solution_cells: dict[str, str] = field(default_factory=dict)  # name -> cell id
    task_cells: dict[str, str] = field(default_factory=dict)  # name -> cell id
    # name -> (type, locked, checksum, source)
    source_cells: dict[str, tuple[str, bool, str | None, str | None]] = field(default_factory=dict)


def notebook_cells(conn: Connection, assignment: str, notebook: str) -> NotebookCells:
    """The gradebook's cells of ``assignment``/``notebook``; an error if it was never released."""
    row = q.select_notebook_ids(conn, assignment, notebook)
    if row is None:
        raise ExamBuilderError(
            f"the gradebook has no notebook {notebook!r} in assignment {assignment!r}: the form was not "
            "released with nbgrader. Release it first (exam-builder build / nbgrader generate_assignment)."
        )
    cells = NotebookCells(row[0], row[1])
    for cid, name, mx, ctype in q.select_grade_cells(conn, cells.notebook_id):
        cells.grade_cells[name] = (cid, float(mx), ctype)
    for cid, name in q.select_solution_cells(conn, cells.notebook_id):
        cells.solution_cells[name] = cid
    for cid, name in q.select_task_cells(conn, cells.notebook_id):
        cells.task_cells[name] = cid
    for name, ctype, locked, checksum, source in q.select_source_cells(conn, cells.notebook_id):
        cells.source_cells[name] = (ctype, bool(locked), checksum, source)
    return cells


@dataclass
class SubmissionScores:
    """What to write for one student's submission of the assignment."""

    student: str
    timestamp: dt.datetime | None
    auto: dict[str, float | None]  # grade cell name -> auto_score (only these are set)
    comments: dict[str, str | None]  # solution cell name -> auto_comment (only these are set)
    missing: bool = False  # no notebook: nbgrader marks every grade as not needing manual grading


@dataclass
class WriteReport:
    created: int = 0
    updated: int = 0
    changed: dict[str, tuple[float, float]] = field(default_factory=dict)  # student -> (old, new) auto points


class GradebookWriter:
    """Creates or updates nbgrader submissions of one assignment notebook, many at a time."""

    def __init__(self, conn: Connection, assignment: str, notebook: str, key: bytes):
        self.conn = conn
        self.key = key  # the seals' key (``seal.seal_key``): what this writer writes, it seals
        self.assignment = assignment
        self.cells = notebook_cells(conn, assignment, notebook)

    # -- reads ---------------------------------------------------------------------------
    def _existing(self, students: list[str]) -> tuple[dict, dict, dict, dict]:
        subs: dict[str, str] = {}
        nbs: dict[str, str] = {}
        grades: dict[tuple[str, str], tuple[str, float | None, float | None, bool, float | None]] = {}
        comments: dict[tuple[str, str], str] = {}
        for sid, student, nbid in q.select_submissions(self.conn, self.cells.assignment_id,
                                                       self.cells.notebook_id, students):
            subs[student] = sid
            if nbid:
                nbs[student] = nbid
        grade_rows, comment_rows = q.select_grades_and_comments(self.conn, list(nbs.values()))
        for gid, nbid, cid, auto, manual, needs, extra in grade_rows:
            grades[(nbid, cid)] = (gid, auto, manual, bool(needs), extra)
        for mid, nbid, cid in comment_rows:
            comments[(nbid, cid)] = mid
        return subs, nbs, grades, comments

    def ensure_students(self, students: list[str]) -> None:
        known = q.select_known_students(self.conn, students)
        q.insert_students(self.conn, [s for s in dict.fromkeys(students) if s not in known])

    # -- writes --------------------------------------------------------------------------
    def write(self, batch: list[SubmissionScores]) -> WriteReport:
        """Upsert every submission of ``batch`` (nbgrader's rows and rules) in a few statements."""
        if not batch:
            return WriteReport()
        with large_cache(self.conn):
            report, values = self._write(batch)
            seal(self.conn, self.key, self.assignment,  # sealed from what was written, not read back
                 {(b.student, name): ({AUTO} if name in b.auto else set())
                  for b in batch for name in self.cells.grade_cells}, values)
            return report

    def _write(self, batch: list[SubmissionScores]) -> tuple[WriteReport, dict]:
        """The rows written, and every grade of the batch as it now stands ((student, cell) -> values)."""
        report = WriteReport()
        values: dict[tuple[str, str], tuple[float | None, float | None, float | None]] = {}
        students = [b.student for b in batch]
        self.ensure_students(students)
        subs, nbs, grades, comments = self._existing(students)
        per = len(self.cells.grade_cells) + len(self.cells.solution_cells) + 2 * len(self.cells.task_cells) + 2
        ids = new_ids(per * len(batch))
        new_subs, new_nbs, new_grades, new_comments = [], [], [], []
        upd_subs, upd_nbs, upd_grades, upd_comments = [], [], [], []
        for b in batch:
            sid = subs.get(b.student)
            if sid is None:
                sid = next(ids)
                new_subs.append({"id": sid, "assignment_id": self.cells.assignment_id, "student_id": b.student,
                                 "timestamp": b.timestamp, "extension": None})
                report.created += 1
            else:
                report.updated += 1
                if b.timestamp is not None:
                    upd_subs.append({"_id": sid, "timestamp": b.timestamp})
            nbid = nbs.get(b.student)
            if nbid is None:
                nbid = next(ids)
                new_nbs.append({"id": nbid, "assignment_id": sid, "notebook_id": self.cells.notebook_id,
                                "flagged": False, "late_submission_penalty": None})
            else:
                upd_nbs.append({"_id": nbid, "penalty": None})
            old_total = new_total = 0.0
            for name, (cid, _mx, _t) in self.cells.grade_cells.items():
                existing = grades.get((nbid, cid))
                manual = existing[2] if existing else None
                old_auto = existing[1] if existing else None
                if name in b.auto:
                    auto = b.auto[name]
                    needs = needs_manual_grade(auto, manual, existing[3] if existing else None, b.missing)
                else:
                    auto, needs = old_auto, None
                old_total += old_auto or 0.0
                new_total += auto or 0.0
                values[(b.student, name)] = (auto, manual, existing[4] if existing else None)
                if existing is None:
                    new_grades.append({"id": next(ids), "notebook_id": nbid, "cell_id": cid, "auto_score": auto,
                                       "manual_score": None, "extra_credit": None,
                                       "needs_manual_grade": True if needs is None else needs})
                elif needs is not None:
                    upd_grades.append({"_id": existing[0], "auto_score": auto, "needs_manual_grade": needs})
            for name, cid in {**self.cells.solution_cells, **self.cells.task_cells}.items():
                existing_c = comments.get((nbid, cid))
                if existing_c is None:
                    new_comments.append({"id": next(ids), "notebook_id": nbid, "cell_id": cid,
                                         "auto_comment": b.comments.get(name), "manual_comment": None})
                elif name in b.comments:
                    upd_comments.append({"_id": existing_c, "auto_comment": b.comments[name]})
            for name, cid in self.cells.task_cells.items():  # nbgrader grades task cells too
                task = grades.get((nbid, cid))
                values[(b.student, name)] = (task[1], task[2], task[4]) if task else (None, None, None)
                if task is None:
                    new_grades.append({"id": next(ids), "notebook_id": nbid, "cell_id": cid, "auto_score": None,
                                       "manual_score": None, "extra_credit": None, "needs_manual_grade": True})
            if existing_total_differs(old_total, new_total) and b.student in subs:
                report.changed[b.student] = (old_total, new_total)

        q.insert_submission_rows(self.conn, new_subs, new_nbs, new_grades, new_comments)
        q.update_submission_rows(self.conn, upd_subs, upd_nbs, upd_grades, upd_comments)
        return report, values

    # -- one manual score ----------------------------------------------------------------
    def set_manual(self, student: str, grade_name: str, score: float | None, comment: str | None) -> float | None:
        """Set a grader's score and comment of one cell (as the formgrader does); returns the old score.

        The submission's rows are created first if objective scoring has not run yet.
        """
        if grade_name not in self.cells.grade_cells:
            raise ExamBuilderError(f"{self.assignment}: the gradebook has no grade cell {grade_name!r}")
        subs, nbs, grades, comments = self._existing([student])
        if student not in nbs:
            self.write([SubmissionScores(student, None, {}, {})])
            subs, nbs, grades, comments = self._existing([student])
        nbid = nbs[student]
        cid = self.cells.grade_cells[grade_name][0]
        gid, _auto, old, _needs, _extra = grades[(nbid, cid)]
        q.update_manual_grade(self.conn, gid, score)
        scid = self.cells.solution_cells.get(grade_name)
        if scid is not None and (nbid, scid) in comments:
            q.update_manual_comment(self.conn, comments[(nbid, scid)], comment)
        seal(self.conn, self.key, self.assignment, {(student, grade_name): {MANUAL}})
        return old


def writer_for(session, assignment: str, notebook: str, seal_key: bytes) -> GradebookWriter:
    """The ``GradebookWriter`` of one assignment notebook, made once per session.

    Its gradebook cells are read once per transaction instead of once per decision stored
    (settling blanks or re-applying a rubric stores many decisions in one transaction).
    """
    cache = session.info.setdefault("eb_gradebook_writers", {})
    if (assignment, notebook) not in cache:
        cache[(assignment, notebook)] = GradebookWriter(session.connection(), assignment, notebook, seal_key)
    return cache[(assignment, notebook)]


def needs_manual_grade(auto: float | None, manual: float | None, before: bool | None, missing: bool) -> bool:
    """Whether the formgrader should show a grade as still to be graded by hand.

    No notebook: nothing to grade (nbgrader's rule). No score at all (an open response nobody
    has decided yet): to be graded. A manual score (a decision of the rating process, or a
    score typed in the formgrader): as it was. nbgrader's ``autograde`` sets that last case
    back to "needs manual grade" because it re-runs the notebook, which may change what the
    grader saw; objective scoring runs nothing and the submitted file never changes, so a
    decided rubric score stays decided and the formgrader does not ask for it again.
    """
    if missing:
        return False
    if manual is not None:
        return bool(before) if before is not None else False
    return auto is None


def existing_total_differs(old: float, new: float) -> bool:
    return abs(old - new) > 1e-9

