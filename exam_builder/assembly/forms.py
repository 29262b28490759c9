"""Stored forms: the ``eb_form`` rows of an exam with their manifests (staff side)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..records.models import Form, Sitting
from .manifest import Manifest


def load_forms(session: Session, exam_id: str) -> list[tuple[Form, Manifest]]:
    """Every form of an exam, by label, with its manifest."""
    rows = session.execute(select(Form).where(Form.exam_id == exam_id).order_by(Form.label)).scalars().all()
    return [(row, Manifest.model_validate(row.manifest)) for row in rows]


def require_forms(session: Session, exam_id: str) -> list[tuple[Form, Manifest]]:
    """The exam's forms; a clear error when it has none (an unknown name, or not built yet)."""
    forms = load_forms(session, exam_id)
    if not forms:
        raise ExamBuilderError(
            f"exam {exam_id!r} has no forms; check the name, or build and release them first "
            f"(exam-builder build {exam_id})"
        )
    return forms


def sitting_counts(session: Session, form_ids: list[int]) -> dict[int, int]:
    """Sittings per form, in one query; forms without a sitting are left out."""
    if not form_ids:
        return {}
    rows = session.execute(
        select(Sitting.form_id, func.count(Sitting.id)).where(Sitting.form_id.in_(form_ids)).group_by(Sitting.form_id)
    ).all()
    return {fid: n for fid, n in rows if n}


def issued_form_ids(session: Session, form_ids: list[int]) -> set[int]:
    """Forms given to at least one candidate (a sitting exists): they are frozen."""
    return set(sitting_counts(session, form_ids))


def nbgrader_submissions(session: Session, assignments: list[str]) -> dict[str, int]:
    """Submissions nbgrader's gradebook holds per assignment (a form with any is frozen too)."""
    from nbgrader.api import Assignment, SubmittedAssignment

    if not assignments:
        return {}
    rows = session.execute(
        select(Assignment.name, func.count(SubmittedAssignment.id))
        .join(SubmittedAssignment, SubmittedAssignment.assignment_id == Assignment.id)
        .where(Assignment.name.in_(assignments))
        .group_by(Assignment.name)
    ).all()
    return {name: n for name, n in rows if n}
