"""Attendance (``eb_attendance``) and homework (``eb_homework``): what eligibility reads."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ...model.states import ATTENDANCE_MISSED
from ..models import Attendance, Homework


def select_attendance_of(s: Session, candidate_ids: Collection[str]) -> list[Attendance]:
    """The attendance rows of these candidates, one query for a whole sheet."""
    return list(s.execute(select(Attendance).where(Attendance.candidate_id.in_(list(candidate_ids)))).scalars())


def select_missed(s: Session, candidate_ids: list[str] | None = None) -> list[Attendance]:
    """Modules missed or attended late (of these candidates), in class order."""
    stmt = select(Attendance).where(Attendance.status.in_(ATTENDANCE_MISSED)).order_by(
        Attendance.candidate_id, Attendance.class_no, Attendance.module_no)
    if candidate_ids is not None:
        stmt = stmt.where(Attendance.candidate_id.in_(candidate_ids))
    return list(s.execute(stmt).scalars())


def select_homework_of(s: Session, candidate_ids: Collection[str]) -> list[Homework]:
    """The homework rows of these candidates, one query."""
    return list(s.execute(select(Homework).where(Homework.candidate_id.in_(list(candidate_ids)))).scalars())


def select_homework_assigned(s: Session) -> int:
    """How many homework assignments are known (an aggregate, not the table)."""
    return s.execute(select(func.count(distinct(Homework.assignment)))).scalar_one()


def select_homework_done(s: Session, candidate_ids: list[str]) -> dict[str, int]:
    """Homework turned in per candidate (an aggregate, not the table)."""
    return dict(s.execute(
        select(Homework.candidate_id, func.count())
        .where(Homework.turned_in.is_(True), Homework.candidate_id.in_(list(candidate_ids)))
        .group_by(Homework.candidate_id)
    ).all())
