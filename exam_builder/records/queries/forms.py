"""Forms (``eb_form``): an exam's built forms with their manifests (which hold the keys)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Form


def select_forms(s: Session, exam_id: str | None = None) -> list[Form]:
    """An exam's forms by label (every form of every exam when ``exam_id`` is None, unordered)."""
    if exam_id is None:
        return list(s.execute(select(Form)).scalars())
    return list(s.execute(select(Form).where(Form.exam_id == exam_id).order_by(Form.label)).scalars().all())


def select_form(s: Session, exam_id: str, label: str) -> Form | None:
    """An exam's form by its label (a rebuild updates it in place)."""
    return s.execute(select(Form).where(Form.exam_id == exam_id, Form.label == label)).scalar_one_or_none()


def select_first_form(s: Session, exam_id: str) -> Form | None:
    """Any one form of an exam (its manifest names the exam's title)."""
    return s.execute(select(Form).where(Form.exam_id == exam_id)).scalars().first()


def select_exam_has_forms(s: Session, exam_id: str) -> bool:
    """Whether an exam has any form (an exam row may be missing in older databases)."""
    return s.execute(select(Form.id).where(Form.exam_id == exam_id)).first() is not None


def select_assignment(s: Session, form_id: int) -> str:
    """The nbgrader assignment of a form (the candidate's notebook)."""
    return s.execute(select(Form.assignment).where(Form.id == form_id)).scalar_one()


def select_assignments(s: Session, other_than_exam: str | None = None) -> list[str]:
    """Every form's assignment name (of exams other than ``other_than_exam`` when given)."""
    stmt = select(Form.assignment)
    if other_than_exam is not None:
        stmt = stmt.where(Form.exam_id != other_than_exam)
    return list(s.execute(stmt).scalars())
