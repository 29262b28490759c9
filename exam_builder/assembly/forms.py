"""Stored forms: the ``eb_form`` rows of an exam with their manifests (staff side)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..errors import ExamBuilderError
from ..model.manifest import Manifest
from ..records.models import Form
from ..records.queries import forms as forms_q, sittings as sittings_q


def load_forms(session: Session, exam_id: str) -> list[tuple[Form, Manifest]]:
    """Every form of an exam, by label, with its manifest."""
    rows = forms_q.select_forms(session, exam_id)
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
    rows = sittings_q.select_sittings_per_form(session, form_ids)
    return {fid: n for fid, n in rows if n}


def issued_form_ids(session: Session, form_ids: list[int]) -> set[int]:
    """Forms given to at least one candidate (a sitting exists): they are frozen."""
    return set(sitting_counts(session, form_ids))


def nbgrader_submissions(session: Session, assignments: list[str]) -> dict[str, int]:
    """Submissions nbgrader's gradebook holds per assignment (a form with any is frozen too)."""
    if not assignments:
        return {}
    from ..records.queries.gradebook import select_submission_counts  # imports nbgrader: only when needed

    return select_submission_counts(session, assignments)
