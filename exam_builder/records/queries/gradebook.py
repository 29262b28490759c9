"""nbgrader's own gradebook tables, as exam-builder reads and writes them (Core, bulk).

Points live in nbgrader's ``grade`` table; ``grading/gradebook_sync.py`` keeps nbgrader's rules
(which rows, which defaults) and calls these for the statements. Reads of many students or
notebooks go 500 ids per statement; writes go many rows per statement (``dialect.executemany``).
Importing this module imports nbgrader (seconds): import it where it is needed.

The score matrix (candidates x grade cells, points by nbgrader's rule) comes from one query,
``select_score_matrix``: results, item analysis and the program's report all read it there.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from nbgrader import api as nb
from sqlalchemy import Row, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .dialect import executemany

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


def _chunks(seq: list, n: int) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


# -- students ----------------------------------------------------------------------------------
def select_students(s: Session, ids: list[str]) -> list[nb.Student]:
    """nbgrader's students of these ids (ORM: the roster keeps them in step with candidates)."""
    return list(s.execute(select(nb.Student).where(nb.Student.id.in_(ids))).scalars())


def select_known_students(conn: Connection, students: list[str]) -> set[str]:
    """Which of ``students`` nbgrader already has, 500 per statement."""
    known: set[str] = set()
    for chunk in _chunks(students, 500):
        known |= set(conn.execute(select(STUDENT.c.id).where(STUDENT.c.id.in_(chunk))).scalars())
    return known


def insert_students(conn: Connection, ids: list[str]) -> None:
    """Add nbgrader students, many per statement."""
    executemany(conn, insert(STUDENT), [{"id": s} for s in ids])


# -- an assignment's notebook and its cells ----------------------------------------------------
def select_notebook_ids(conn: Connection, assignment: str, notebook: str) -> Row | None:
    """(assignment id, notebook id) of a released notebook; None if nbgrader never saw it."""
    return conn.execute(
        select(ASSIGNMENT.c.id, NOTEBOOK.c.id)
        .join(NOTEBOOK, NOTEBOOK.c.assignment_id == ASSIGNMENT.c.id)
        .where(ASSIGNMENT.c.name == assignment, NOTEBOOK.c.name == notebook)
    ).first()


def select_grade_cells(conn: Connection, notebook_id: str) -> list[Row]:
    """(cell id, name, max score, cell type) of a notebook's grade cells."""
    return list(conn.execute(
        select(BASE_CELL.c.id, BASE_CELL.c.name, GRADE_CELL.c.max_score, GRADE_CELL.c.cell_type)
        .join(GRADE_CELL, GRADE_CELL.c.id == BASE_CELL.c.id)
        .where(BASE_CELL.c.notebook_id == notebook_id)
    ))


def select_solution_cells(conn: Connection, notebook_id: str) -> list[Row]:
    """(cell id, name) of a notebook's solution cells."""
    return list(conn.execute(
        select(BASE_CELL.c.id, BASE_CELL.c.name)
        .join(SOLUTION_CELL, SOLUTION_CELL.c.id == BASE_CELL.c.id)
        .where(BASE_CELL.c.notebook_id == notebook_id)
    ))


def select_task_cells(conn: Connection, notebook_id: str) -> list[Row]:
    """(cell id, name) of a notebook's task cells."""
    return list(conn.execute(
        select(BASE_CELL.c.id, BASE_CELL.c.name)
        .join(TASK_CELL, TASK_CELL.c.id == BASE_CELL.c.id)
        .where(BASE_CELL.c.notebook_id == notebook_id)
    ))


def select_source_cells(conn: Connection, notebook_id: str) -> list[Row]:
    """(name, cell type, locked, checksum, source) of a notebook's source cells."""
    return list(conn.execute(
        select(SOURCE_CELL.c.name, SOURCE_CELL.c.cell_type, SOURCE_CELL.c.locked, SOURCE_CELL.c.checksum,
               SOURCE_CELL.c.source)
        .where(SOURCE_CELL.c.notebook_id == notebook_id)
    ))


# -- submissions and their grades --------------------------------------------------------------
def select_submissions(conn: Connection, assignment_id: str, notebook_id: str, students: list[str]) -> list[Row]:
    """(submission id, student, submitted notebook id or None) of these students, 500 per statement."""
    rows: list[Row] = []
    for chunk in _chunks(students, 500):
        rows.extend(conn.execute(
            select(SUBMISSION.c.id, SUBMISSION.c.student_id, SUBMITTED_NB.c.id)
            .outerjoin(SUBMITTED_NB, (SUBMITTED_NB.c.assignment_id == SUBMISSION.c.id)
                       & (SUBMITTED_NB.c.notebook_id == notebook_id))
            .where(SUBMISSION.c.assignment_id == assignment_id, SUBMISSION.c.student_id.in_(chunk))
        ))
    return rows


def select_grades_and_comments(conn: Connection, notebook_ids: list[str]) -> tuple[list[Row], list[Row]]:
    """The grade rows (id, notebook, cell, auto, manual, needs manual, extra credit) and comment rows
    (id, notebook, cell) of these submitted notebooks, 500 notebooks per statement."""
    grades: list[Row] = []
    comments: list[Row] = []
    for chunk in _chunks(notebook_ids, 500):
        grades.extend(conn.execute(
            select(GRADE.c.id, GRADE.c.notebook_id, GRADE.c.cell_id, GRADE.c.auto_score, GRADE.c.manual_score,
                   GRADE.c.needs_manual_grade, GRADE.c.extra_credit)
            .where(GRADE.c.notebook_id.in_(chunk))
        ))
        comments.extend(conn.execute(
            select(COMMENT.c.id, COMMENT.c.notebook_id, COMMENT.c.cell_id).where(COMMENT.c.notebook_id.in_(chunk))
        ))
    return grades, comments


def insert_submission_rows(conn: Connection, subs: list[dict], nbs: list[dict], grades: list[dict],
                           comments: list[dict]) -> None:
    """Insert new submissions, submitted notebooks, grades and comments, many rows per statement."""
    if subs:
        conn.execute(insert(SUBMISSION), subs)
    executemany(conn, insert(SUBMITTED_NB), nbs)
    executemany(conn, insert(GRADE), grades)
    executemany(conn, insert(COMMENT), comments)


def update_submission_rows(conn: Connection, subs: list[dict], nbs: list[dict], grades: list[dict],
                           comments: list[dict]) -> None:
    """Update timestamps, late penalties, automatic scores and comments of existing rows (by ``_id``)."""
    if subs:
        conn.execute(update(SUBMISSION).where(SUBMISSION.c.id == bindparam("_id"))
                     .values(timestamp=bindparam("timestamp")), subs)
    # nbgrader's AssignLatePenalties resets the penalty on every run
    executemany(conn, update(SUBMITTED_NB).where(SUBMITTED_NB.c.id == bindparam("_id"))
                .values(late_submission_penalty=bindparam("penalty")), nbs)
    executemany(conn, update(GRADE).where(GRADE.c.id == bindparam("_id"))
                .values(auto_score=bindparam("auto_score"), needs_manual_grade=bindparam("needs_manual_grade")), grades)
    executemany(conn, update(COMMENT).where(COMMENT.c.id == bindparam("_id"))
                .values(auto_comment=bindparam("auto_comment")), comments)


def update_manual_grade(conn: Connection, grade_id: str, score: float | None) -> None:
    """A grader's score of one cell (None: to be graded by hand again)."""
    conn.execute(update(GRADE).where(GRADE.c.id == grade_id)
                 .values(manual_score=score, needs_manual_grade=score is None))


def update_manual_comment(conn: Connection, comment_id: str, comment: str | None) -> None:
    """A grader's comment of one cell."""
    conn.execute(update(COMMENT).where(COMMENT.c.id == comment_id).values(manual_comment=comment))


def select_cell_scores(conn: Connection, assignment: str, students: Collection[str] | None = None) -> list[Row]:
    """(student, grade cell name, auto, manual, extra credit) of every grade of an assignment (of
    these students only, 500 per statement, when given)."""
    query = (
        select(SUBMISSION.c.student_id, BASE_CELL.c.name, GRADE.c.auto_score, GRADE.c.manual_score,
               GRADE.c.extra_credit)
        .select_from(GRADE)
        .join(SUBMITTED_NB, SUBMITTED_NB.c.id == GRADE.c.notebook_id)
        .join(SUBMISSION, SUBMISSION.c.id == SUBMITTED_NB.c.assignment_id)
        .join(ASSIGNMENT, ASSIGNMENT.c.id == SUBMISSION.c.assignment_id)
        .join(BASE_CELL, BASE_CELL.c.id == GRADE.c.cell_id)
        .where(ASSIGNMENT.c.name == assignment)
    )
    if students is None:
        return list(conn.execute(query))
    out: list[Row] = []
    for chunk in _chunks(sorted(set(students)), 500):
        out += conn.execute(query.where(SUBMISSION.c.student_id.in_(chunk))).all()
    return out


def cell_points(auto: float | None, manual: float | None, extra: float | None) -> float | None:
    """A cell's points by nbgrader's rule: the manual score over the automatic one, plus extra credit;
    None when neither is given (pending, never 0)."""
    base = manual if manual is not None else auto
    return None if base is None else base + (extra or 0.0)


@dataclass(frozen=True)
class ScoreMatrix:
    """The points of an assignment's grade cells: (candidate, grade cell name) -> points, None when not given.

    ``rows`` keeps the gradebook rows it was made from (``select_cell_scores``'s), so a caller that
    also checks the seals (``grading.seal.check(rows=...)``) reads the gradebook once."""

    assignment: str
    points: dict[tuple[str, str], float | None]
    rows: list[Row]

    def get(self, candidate: str, cell: str) -> float | None:
        """The points of one candidate's cell (None: not given, or no such cell)."""
        return self.points.get((candidate, cell))

    def matrix(self, candidates: Sequence[str], cells: Sequence[str]) -> list[list[float | None]]:
        """Candidates x cells, in the order given (None where a cell has no score)."""
        return [[self.points.get((c, cell)) for cell in cells] for c in candidates]


def select_score_matrix(conn: Connection, assignment: str, students: Collection[str] | None = None) -> ScoreMatrix:
    """The gradebook's score matrix of ``assignment`` (of these students only, when given), by nbgrader's rule."""
    rows = select_cell_scores(conn, assignment, students)
    return ScoreMatrix(assignment, {(st, name): cell_points(auto, manual, extra)
                                    for st, name, auto, manual, extra in rows}, rows)


def select_submitted_students(conn: Connection, assignment: str, students: list[str]) -> set[str]:
    """Which of ``students`` have a submission of ``assignment`` in the gradebook, 500 per statement."""
    found: set[str] = set()
    query = (select(SUBMISSION.c.student_id).join(ASSIGNMENT, ASSIGNMENT.c.id == SUBMISSION.c.assignment_id)
             .where(ASSIGNMENT.c.name == assignment))
    for chunk in _chunks(students, 500):
        found |= set(conn.execute(query.where(SUBMISSION.c.student_id.in_(chunk))).scalars())
    return found


def select_submission_counts(s: Session, assignments: Collection[str]) -> dict[str, int]:
    """Submissions nbgrader holds per assignment (a form with any is frozen)."""
    rows = s.execute(
        select(nb.Assignment.name, func.count(nb.SubmittedAssignment.id))
        .join(nb.SubmittedAssignment, nb.SubmittedAssignment.assignment_id == nb.Assignment.id)
        .where(nb.Assignment.name.in_(assignments))
        .group_by(nb.Assignment.name)
    ).all()
    return {name: n for name, n in rows if n}


def create_nbgrader_version(s: Session, head: str) -> None:
    """nbgrader's ``alembic_version`` table with its one row, as nbgrader's ``Gradebook`` writes it on an empty
    database (``Database.upgrade`` writes it first, with the head read in process)."""
    s.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    s.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head})
