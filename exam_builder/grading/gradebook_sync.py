"""Write scores into nbgrader's own gradebook tables, in bulk, the way nbgrader does.

Points live in nbgrader's ``grade`` table (one truth per fact), so the formgrader, ``nbgrader
export`` and ``generate_feedback`` see exam-builder's scores. ``nbgrader autograde`` writes one
row at a time through its ORM; here the same rows (submission, submitted notebook, a grade per
grade cell, a comment per solution cell, with nbgrader's defaults and rules) are written with
SQLAlchemy core on nbgrader's tables, many per statement, in the caller's transaction.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from nbgrader import api as nb
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from ..errors import ExamBuilderError

ASSIGNMENT = nb.Assignment.__table__
NOTEBOOK = nb.Notebook.__table__
BASE_CELL = nb.BaseCell.__table__
GRADE_CELL = nb.GradeCell.__table__
SOLUTION_CELL = nb.SolutionCell.__table__
TASK_CELL = nb.TaskCell.__table__
SOURCE_CELL = nb.SourceCell.__table__
STUDENT = nb.Student.__table__
SUBMISSION = nb.SubmittedAssignment.__table__
SUBMITTED_NB = nb.SubmittedNotebook.__table__
GRADE = nb.Grade.__table__
COMMENT = nb.Comment.__table__


def new_ids(n: int) -> Iterator[str]:
    """``n`` ids of nbgrader's format (32 hex digits): a time-ordered half and a random half.

    nbgrader's own ids are random (uuid4); ordered ones keep SQLite's index inserts at the
    end of the B-tree instead of all over it, which halves the cost of a bulk insert, and
    the random half keeps ids from different processes apart.
    """
    base = time.time_ns()
    rand = os.urandom(8 * n).hex()
    return (f"{base + i:016x}{rand[16 * i:16 * i + 16]}" for i in range(n))


def executemany(conn: Connection, stmt, rows: list[dict]) -> None:
    """Run ``stmt`` for many rows, handing the rows to the database driver directly.

    SQLAlchemy's per-row parameter processing costs several times the insert itself on SQLite
    (80 against 13 microseconds a row here). The statement is still SQLAlchemy's, compiled for
    the connection's dialect; the values are plain str, float, bool and None, which every
    driver takes as they are (datetimes go through SQLAlchemy, see ``write``).
    """
    if not rows:
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    if compiled.positional:
        order = compiled.positiontup
        conn.exec_driver_sql(str(compiled), [tuple(r[k] for k in order) for r in rows])
    else:
        conn.exec_driver_sql(str(compiled), rows)


@dataclass
class NotebookCells:
    """The master cells of one assignment notebook, as nbgrader's gradebook stores them."""

    assignment_id: str
    notebook_id: str
    grade_cells: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # name -> (cell id, max, type)
    solution_cells: dict[str, str] = field(default_factory=dict)  # name -> cell id
    task_cells: dict[str, str] = field(default_factory=dict)  # name -> cell id
    source_cells: dict[str, tuple[str, bool, str | None, str | None]] = field(default_factory=dict)  # name -> (type, locked, checksum, source)


def notebook_cells(conn: Connection, assignment: str, notebook: str) -> NotebookCells:
    """The gradebook's cells of ``assignment``/``notebook``; an error if it was never released."""
    row = conn.execute(
        select(ASSIGNMENT.c.id, NOTEBOOK.c.id)
        .join(NOTEBOOK, NOTEBOOK.c.assignment_id == ASSIGNMENT.c.id)
        .where(ASSIGNMENT.c.name == assignment, NOTEBOOK.c.name == notebook)
    ).first()
    if row is None:
        raise ExamBuilderError(
            f"the gradebook has no notebook {notebook!r} in assignment {assignment!r}: the form was not "
            "released with nbgrader. Release it first (exam-builder build / nbgrader generate_assignment)."
        )
    cells = NotebookCells(row[0], row[1])
    for cid, name, mx, ctype in conn.execute(
        select(BASE_CELL.c.id, BASE_CELL.c.name, GRADE_CELL.c.max_score, GRADE_CELL.c.cell_type)
        .join(GRADE_CELL, GRADE_CELL.c.id == BASE_CELL.c.id)
        .where(BASE_CELL.c.notebook_id == cells.notebook_id)
    ):
        cells.grade_cells[name] = (cid, float(mx), ctype)
    for cid, name in conn.execute(
        select(BASE_CELL.c.id, BASE_CELL.c.name)
        .join(SOLUTION_CELL, SOLUTION_CELL.c.id == BASE_CELL.c.id)
        .where(BASE_CELL.c.notebook_id == cells.notebook_id)
    ):
        cells.solution_cells[name] = cid
    for cid, name in conn.execute(
        select(BASE_CELL.c.id, BASE_CELL.c.name)
        .join(TASK_CELL, TASK_CELL.c.id == BASE_CELL.c.id)
        .where(BASE_CELL.c.notebook_id == cells.notebook_id)
    ):
        cells.task_cells[name] = cid
    for name, ctype, locked, checksum, source in conn.execute(
        select(SOURCE_CELL.c.name, SOURCE_CELL.c.cell_type, SOURCE_CELL.c.locked, SOURCE_CELL.c.checksum, SOURCE_CELL.c.source)
        .where(SOURCE_CELL.c.notebook_id == cells.notebook_id)
    ):
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

    def __init__(self, conn: Connection, assignment: str, notebook: str):
        self.conn = conn
        self.assignment = assignment
        self.cells = notebook_cells(conn, assignment, notebook)

    # -- reads ---------------------------------------------------------------------------
    def _existing(self, students: list[str]) -> tuple[dict, dict, dict, dict]:
        subs: dict[str, str] = {}
        nbs: dict[str, str] = {}
        grades: dict[tuple[str, str], tuple[str, float | None, float | None, bool]] = {}
        comments: dict[tuple[str, str], str] = {}
        for chunk in _chunks(students, 500):
            for sid, student, nbid in self.conn.execute(
                select(SUBMISSION.c.id, SUBMISSION.c.student_id, SUBMITTED_NB.c.id)
                .outerjoin(SUBMITTED_NB, (SUBMITTED_NB.c.assignment_id == SUBMISSION.c.id)
                           & (SUBMITTED_NB.c.notebook_id == self.cells.notebook_id))
                .where(SUBMISSION.c.assignment_id == self.cells.assignment_id, SUBMISSION.c.student_id.in_(chunk))
            ):
                subs[student] = sid
                if nbid:
                    nbs[student] = nbid
        nb_ids = list(nbs.values())
        for chunk in _chunks(nb_ids, 500):
            for gid, nbid, cid, auto, manual, needs in self.conn.execute(
                select(GRADE.c.id, GRADE.c.notebook_id, GRADE.c.cell_id, GRADE.c.auto_score, GRADE.c.manual_score,
                       GRADE.c.needs_manual_grade)
                .where(GRADE.c.notebook_id.in_(chunk))
            ):
                grades[(nbid, cid)] = (gid, auto, manual, bool(needs))
            for mid, nbid, cid in self.conn.execute(
                select(COMMENT.c.id, COMMENT.c.notebook_id, COMMENT.c.cell_id).where(COMMENT.c.notebook_id.in_(chunk))
            ):
                comments[(nbid, cid)] = mid
        return subs, nbs, grades, comments

    def ensure_students(self, students: list[str]) -> None:
        known: set[str] = set()
        for chunk in _chunks(students, 500):
            known |= set(self.conn.execute(select(STUDENT.c.id).where(STUDENT.c.id.in_(chunk))).scalars())
        executemany(self.conn, insert(STUDENT), [{"id": s} for s in dict.fromkeys(students) if s not in known])

    # -- writes --------------------------------------------------------------------------
    def write(self, batch: list[SubmissionScores]) -> WriteReport:
        """Upsert every submission of ``batch`` (nbgrader's rows and rules) in a few statements."""
        if not batch:
            return WriteReport()
        with _large_cache(self.conn):
            return self._write(batch)

    def _write(self, batch: list[SubmissionScores]) -> WriteReport:
        report = WriteReport()
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
            for name, (cid, _mx, _t) in self.cells.task_cells.items():  # nbgrader grades task cells too
                if (nbid, cid) not in grades:
                    new_grades.append({"id": next(ids), "notebook_id": nbid, "cell_id": cid, "auto_score": None,
                                       "manual_score": None, "extra_credit": None, "needs_manual_grade": True})
            if existing_total_differs(old_total, new_total) and b.student in subs:
                report.changed[b.student] = (old_total, new_total)

        c = self.conn
        if new_subs:
            c.execute(insert(SUBMISSION), new_subs)
        executemany(c, insert(SUBMITTED_NB), new_nbs)
        executemany(c, insert(GRADE), new_grades)
        executemany(c, insert(COMMENT), new_comments)
        if upd_subs:
            c.execute(update(SUBMISSION).where(SUBMISSION.c.id == bindparam("_id")).values(timestamp=bindparam("timestamp")), upd_subs)
        # nbgrader's AssignLatePenalties resets the penalty on every run
        executemany(c, update(SUBMITTED_NB).where(SUBMITTED_NB.c.id == bindparam("_id"))
                    .values(late_submission_penalty=bindparam("penalty")), upd_nbs)
        executemany(c, update(GRADE).where(GRADE.c.id == bindparam("_id"))
                    .values(auto_score=bindparam("auto_score"), needs_manual_grade=bindparam("needs_manual_grade")), upd_grades)
        executemany(c, update(COMMENT).where(COMMENT.c.id == bindparam("_id"))
                    .values(auto_comment=bindparam("auto_comment")), upd_comments)
        return report

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
        gid, _auto, old, _needs = grades[(nbid, cid)]
        self.conn.execute(update(GRADE).where(GRADE.c.id == gid)
                          .values(manual_score=score, needs_manual_grade=score is None))
        scid = self.cells.solution_cells.get(grade_name)
        if scid is not None and (nbid, scid) in comments:
            self.conn.execute(update(COMMENT).where(COMMENT.c.id == comments[(nbid, scid)]).values(manual_comment=comment))
        return old


def writer_for(session, assignment: str, notebook: str) -> GradebookWriter:
    """The ``GradebookWriter`` of one assignment notebook, made once per session.

    Its gradebook cells are read once per transaction instead of once per decision stored
    (settling blanks or re-applying a rubric stores many decisions in one transaction).
    """
    cache = session.info.setdefault("eb_gradebook_writers", {})
    key = (assignment, notebook)
    if key not in cache:
        cache[key] = GradebookWriter(session.connection(), assignment, notebook)
    return cache[key]


@contextlib.contextmanager
def _large_cache(conn: Connection, kib: int = 262_144):
    """A bigger SQLite page cache while bulk-writing (the gradebook's indexes outgrow the default)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{kib}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


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


def _chunks(seq: list, n: int):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]
