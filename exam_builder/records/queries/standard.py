"""The SQL of the standard-setting study's tables (``eb_study``, ``eb_study_item``, ``eb_panelist``,
``eb_study_round``, ``eb_study_rating``, ``eb_standard_decision``) and of ``eb_form_cut``.

Every function takes the caller's session; the caller owns the transaction and writes the audit
entry in it. Ratings, decisions and re-cuts are never updated or deleted: a change is a new row.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import FormCut, Panelist, StandardDecision, Study, StudyItem, StudyRating, StudyRound


def select_studies(session: Session, exam_id: str | None = None) -> list[Study]:
    """Every study (of one exam), oldest first."""
    stmt = select(Study).order_by(Study.id)
    if exam_id is not None:
        stmt = stmt.where(Study.exam_id == exam_id)
    return list(session.execute(stmt).scalars())


def select_study_items(session: Session, study_id: int) -> list[StudyItem]:
    """The items in a study's scope, in the order they are shown."""
    return list(session.execute(select(StudyItem).where(StudyItem.study_id == study_id)
                                .order_by(StudyItem.position)).scalars())


def select_panelists(session: Session, study_id: int) -> list[Panelist]:
    return list(session.execute(select(Panelist).where(Panelist.study_id == study_id).order_by(Panelist.id)).scalars())


def select_rounds(session: Session, study_id: int) -> list[StudyRound]:
    return list(session.execute(select(StudyRound).where(StudyRound.study_id == study_id)
                                .order_by(StudyRound.number)).scalars())


def select_ratings(session: Session, study_id: int, round_no: int | None = None,
                   panelist_id: int | None = None) -> list[StudyRating]:
    """Every rating row (every change kept), oldest first: the newest per (round, panelist, item) counts."""
    stmt = select(StudyRating).where(StudyRating.study_id == study_id).order_by(StudyRating.id)
    if round_no is not None:
        stmt = stmt.where(StudyRating.round_no == round_no)
    if panelist_id is not None:
        stmt = stmt.where(StudyRating.panelist_id == panelist_id)
    return list(session.execute(stmt).scalars())


def select_decisions(session: Session, *, study_id: int | None = None, exam_id: str | None = None
                     ) -> list[StandardDecision]:
    """The board's decisions (of a study or of an exam), oldest first: the newest is in force."""
    stmt = select(StandardDecision).order_by(StandardDecision.id)
    if study_id is not None:
        stmt = stmt.where(StandardDecision.study_id == study_id)
    if exam_id is not None:
        stmt = stmt.where(StandardDecision.exam_id == exam_id)
    return list(session.execute(stmt).scalars())


def select_form_cuts(session: Session, form_ids: Iterable[int]) -> dict[int, FormCut]:
    """The newest re-cut of each form that has one."""
    ids = sorted(set(form_ids))
    if not ids:
        return {}
    out: dict[int, FormCut] = {}
    for row in session.execute(select(FormCut).where(FormCut.form_id.in_(ids)).order_by(FormCut.id)).scalars():
        out[row.form_id] = row
    return out


def select_form_cut_history(session: Session, form_ids: Iterable[int]) -> list[FormCut]:
    """Every re-cut of the forms, oldest first (the program report traces each form's cut)."""
    ids = sorted(set(form_ids))
    if not ids:
        return []
    return list(session.execute(select(FormCut).where(FormCut.form_id.in_(ids)).order_by(FormCut.id)).scalars())
