"""Sittings (``eb_sitting``) and their events (``eb_sitting_event``): one attempt of one candidate.

Reads that a decision depends on take ``lock=True`` (row locks, see ``dialect.for_update``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session

from ...model.states import SITTING_OPEN, EventKind, SittingStatus, SubmitReason
from ..models import Candidate, Form, Sitting, SittingEvent
from .dialect import for_update, get_for_update


# -- one sitting -------------------------------------------------------------------------------
def select_sitting(s: Session, sitting_id: int, lock: bool = True) -> Sitting | None:
    """One sitting by id, row-locked by default (the ledger decides on it)."""
    stmt = select(Sitting).where(Sitting.id == sitting_id)
    if lock:
        stmt = for_update(stmt)
    return s.execute(stmt).scalar_one_or_none()


def select_sitting_fresh(s: Session, sitting_id: int, lock: bool = False) -> Sitting | None:
    """One sitting re-read from the database (not the session's copy), row-locked when ``lock``."""
    return get_for_update(s, Sitting, sitting_id, lock, fresh=True)


def select_sitting_by_code(s: Session, code_hash: str) -> Sitting | None:
    """The sitting whose access code hashes to ``code_hash``, row-locked (sign-in decides on it)."""
    return s.execute(for_update(select(Sitting).where(Sitting.access_code_hash == code_hash))).scalar_one_or_none()


# -- no-shows (records.absence) -----------------------------------------------------------------
def select_not_started(s: Session, exam_id: str | None = None,
                       candidate_ids: Collection[str] | None = None) -> list[Sitting]:
    """Scheduled sittings never started (the ones a closed window may make absent), by id."""
    stmt = select(Sitting).where(Sitting.status == SittingStatus.scheduled, Sitting.started_at.is_(None))
    if exam_id is not None:
        stmt = stmt.where(Sitting.exam_id == exam_id)
    if candidate_ids is not None:
        stmt = stmt.where(Sitting.candidate_id.in_(list(candidate_ids)))
    return list(s.execute(stmt.order_by(Sitting.id)).scalars())


def select_absent(s: Session, exam_id: str) -> list[Sitting]:
    """The absent sittings (no-shows) of an exam, by id."""
    return list(s.execute(select(Sitting).where(Sitting.exam_id == exam_id, Sitting.status == SittingStatus.absent)
                          .order_by(Sitting.id)).scalars())


# -- a candidate's sittings ---------------------------------------------------------------------
def select_sittings_of(s: Session, candidate_id: str, exam_id: str) -> list[Sitting]:
    """A candidate's sittings of an exam, in order (the ledger counts attempts on them)."""
    return list(s.execute(
        select(Sitting).where(Sitting.candidate_id == candidate_id, Sitting.exam_id == exam_id).order_by(Sitting.seq)
    ).scalars())


def select_sittings_of_candidates(s: Session, exam_id: str, candidate_ids: Collection[str],
                                  counted_only: bool = False) -> list[Sitting]:
    """Many candidates' sittings of an exam in one query, in order (``counted_only``: not voided)."""
    conds = [Sitting.exam_id == exam_id, Sitting.candidate_id.in_(candidate_ids)]
    if counted_only:
        conds.append(Sitting.attempt_no.is_not(None))
    return list(s.execute(select(Sitting).where(*conds).order_by(Sitting.seq)).scalars())


def select_history(s: Session, candidate_id: str, exam_id: str | None = None) -> list[Row]:
    """(sitting, form label) of every sitting of a candidate, voided ones included, oldest first."""
    stmt = select(Sitting, Form.label).join(Form, Form.id == Sitting.form_id).where(
        Sitting.candidate_id == candidate_id).order_by(Sitting.exam_id, Sitting.seq)
    if exam_id:
        stmt = stmt.where(Sitting.exam_id == exam_id)
    return list(s.execute(stmt).all())


# -- an exam's sittings ------------------------------------------------------------------------
def select_form_usage(s: Session, exam_id: str) -> dict[int, int]:
    """Sittings per form of an exam (the ledger gives the least used form)."""
    return dict(s.execute(
        select(Sitting.form_id, func.count(Sitting.id)).where(Sitting.exam_id == exam_id).group_by(Sitting.form_id)
    ).all())


def select_sittings_per_form(s: Session, form_ids: list[int]) -> list[Row]:
    """(form id, sittings) of these forms, one query (an issued form is frozen)."""
    return list(s.execute(
        select(Sitting.form_id, func.count(Sitting.id)).where(Sitting.form_id.in_(form_ids)).group_by(Sitting.form_id)
    ).all())


def select_form_sitting_count(s: Session, form_id: int) -> int:
    """How many sittings a form has (a rebuild refuses a form issued meanwhile)."""
    return s.query(Sitting).filter(Sitting.form_id == form_id).count()


def _submitted(exam_id: str) -> list[Any]:
    """The sittings that count and were handed in: what collection and grading work on."""
    return [Sitting.exam_id == exam_id, Sitting.status == SittingStatus.submitted, Sitting.attempt_no.is_not(None)]


def select_submitted(s: Session, exam_id: str) -> list[Row]:
    """(id, candidate, form, submitted at) of the submitted sittings, in the order they came in."""
    return list(s.execute(
        select(Sitting.id, Sitting.candidate_id, Sitting.form_id, Sitting.submitted_at)
        .where(*_submitted(exam_id))
        .order_by(Sitting.submitted_at, Sitting.id)))


def _forms_of(s: Session, sittings: list[Sitting]) -> dict[int, Form]:
    """The forms of these sittings, each read once. A join would bring the form's row, and decode its
    manifest (every key of the form, tens of KB of JSON), once for every sitting of a cohort."""
    ids = {sit.form_id for sit in sittings}
    return {f.id: f for f in s.execute(select(Form).where(Form.id.in_(ids))).scalars()} if ids else {}


def select_submitted_with_forms(s: Session, exam_id: str) -> list[tuple[Sitting, Form]]:
    """(sitting, form) of the submitted sittings (the rating queue's responses)."""
    sittings = list(s.execute(select(Sitting).where(*_submitted(exam_id)).order_by(Sitting.id)).scalars())
    forms = _forms_of(s, sittings)
    return [(sit, forms[sit.form_id]) for sit in sittings]


def select_submitted_form_ids(s: Session, exam_id: str) -> list[tuple[int, int]]:
    """(sitting, form) ids of the submitted sittings, by sitting: a few bytes a row, no object built (the rating
    queue's check that the responses it read still stand)."""
    rows = s.execute(select(Sitting.id, Sitting.form_id).where(*_submitted(exam_id)).order_by(Sitting.id))
    return [(sid, fid) for sid, fid in rows]


def select_submitted_with_candidates(s: Session, exam_id: str) -> list[Any]:
    """(sitting, form, candidate) of the submitted sittings, by candidate then attempt (results)."""
    rows = list(s.execute(
        select(Sitting, Candidate).join(Candidate, Candidate.id == Sitting.candidate_id)
        .where(*_submitted(exam_id))
        .order_by(Sitting.candidate_id, Sitting.attempt_no)
    ).all())
    forms = _forms_of(s, [sit for sit, _c in rows])
    return [(sit, forms[sit.form_id], cand) for sit, cand in rows]


def select_decided_of_candidate(s: Session, candidate_id: str, exam_id: str | None = None) -> list[Row]:
    """(sitting, form) of a candidate's sittings with an outcome recorded (checked against the seals)."""
    q = (select(Sitting, Form).join(Form, Form.id == Sitting.form_id)
         .where(Sitting.candidate_id == candidate_id, Sitting.outcome.is_not(None)).order_by(Sitting.id))
    return list(s.execute(q if exam_id is None else q.where(Sitting.exam_id == exam_id)).all())


def select_submitted_candidates_of_form(s: Session, form_id: int) -> list[str]:
    """The candidates with a submitted sitting of one form (item analysis rows)."""
    return list(s.execute(select(Sitting.candidate_id).join(Form, Form.id == Sitting.form_id).where(
        Form.id == form_id, Sitting.status == SittingStatus.submitted, Sitting.attempt_no.is_not(None)))
        .scalars().all())


def select_any_submitted(s: Session, exam_id: str) -> bool:
    """Whether any sitting of the exam was submitted (past item statistics exist)."""
    return s.execute(select(Sitting.id).where(Sitting.exam_id == exam_id,
                                              Sitting.status == SittingStatus.submitted).limit(1)).first() is not None


def select_sittings_with_candidates(s: Session, exam_id: str) -> list[Row]:
    """(sitting, candidate) of every sitting of an exam, by id (the program's report)."""
    return list(s.execute(select(Sitting, Candidate).join(Candidate, Candidate.id == Sitting.candidate_id)
                          .where(Sitting.exam_id == exam_id).order_by(Sitting.id)).all())


def select_all_sittings(s: Session) -> list[Sitting]:
    """Every sitting (a rehearsal's scratch course)."""
    return list(s.execute(select(Sitting)).scalars())


def select_submit_reasons(s: Session) -> dict[int, SubmitReason | None]:
    """Why each sitting was submitted (the demo's summary)."""
    return dict(s.execute(select(Sitting.id, Sitting.submit_reason)).all())


def select_open_count(s: Session) -> int:
    """Sittings that may still be signed into (the seats a server keeps warm)."""
    return int(s.execute(select(func.count()).select_from(Sitting)
                         .where(Sitting.status.in_(SITTING_OPEN))).scalar_one())


# -- a room's sittings -------------------------------------------------------------------------
def _room_open(exam_id: str, room: str, on: dt.date) -> list[Any]:
    return [Sitting.exam_id == exam_id, Sitting.room == room, Sitting.scheduled_on == on,
            Sitting.status.in_(SITTING_OPEN)]


def select_room_sittings(s: Session, exam_id: str, room: str, on: dt.date) -> list[Sitting]:
    """A room's open sittings of a date, by id, row-locked (their window is moved)."""
    return list(s.execute(for_update(select(Sitting).where(*_room_open(exam_id, room, on))
                                     .order_by(Sitting.id))).scalars())


def select_room_absent(s: Session, exam_id: str, room: str, on: dt.date) -> list[Sitting]:
    """A room's absent sittings of a date, by id, row-locked (reopening the sign-in may bring them back)."""
    return list(s.execute(for_update(select(Sitting).where(
        Sitting.exam_id == exam_id, Sitting.room == room, Sitting.scheduled_on == on,
        Sitting.status == SittingStatus.absent).order_by(Sitting.id))).scalars())


def select_last_event_details(s: Session, sitting_id: int, kind: EventKind) -> dict | None:
    """The details of a sitting's latest event of ``kind``, or None."""
    row = s.execute(select(SittingEvent.details).where(SittingEvent.sitting_id == sitting_id, SittingEvent.kind == kind)
                    .order_by(SittingEvent.id.desc()).limit(1)).first()
    return None if row is None else dict(row[0] or {})


def select_room_closing_times(s: Session, exam_id: str, room: str, on: dt.date) -> list[dt.datetime | None]:
    """When a room's open sittings of a date close (opening now keeps the latest)."""
    return list(s.execute(select(Sitting.closes_at).where(*_room_open(exam_id, room, on))).scalars().all())


def select_room_opening_times(s: Session, exam_id: str, room: str, on: dt.date) -> list[dt.datetime | None]:
    """When a room's open sittings of a date open (closing now keeps the earliest)."""
    return list(s.execute(select(Sitting.opens_at).where(*_room_open(exam_id, room, on))).scalars().all())


def select_waiting_with_candidates(s: Session, exam_id: str, room: str, on: dt.date | None) -> list[Row]:
    """(sitting, candidate) of a room's sittings not yet started (of ``on`` or undated), sittings row-locked."""
    q = select(Sitting, Candidate).join(Candidate, Candidate.id == Sitting.candidate_id).where(
        Sitting.exam_id == exam_id, Sitting.room == room, Sitting.status == SittingStatus.scheduled)
    if on is not None:
        q = q.where((Sitting.scheduled_on == on) | Sitting.scheduled_on.is_(None))
    return list(s.execute(for_update(q.order_by(Candidate.id), of=Sitting)).all())


# -- the proctor's room ------------------------------------------------------------------------
def room_filter(exam_id: str, on: dt.date | None, room: str | None, live: bool) -> list[Any]:
    """The proctor's choice of sittings: an exam's, of a date (and in progress when ``live``), of a room."""
    conds = [Sitting.exam_id == exam_id]
    if on is not None:
        conds.append(or_(Sitting.scheduled_on == on, Sitting.status == SittingStatus.in_progress) if live
                     else Sitting.scheduled_on == on)
    if room is not None:
        conds.append(Sitting.room == room)
    return conds


def select_room_ids(conds: list[Any]) -> Select:
    """The ids of the sittings ``conds`` choose, as a subquery (one query for the whole room)."""
    return select(Sitting.id).where(*conds)


def select_room_overview(s: Session, conds: list[Any]) -> list[Row]:
    """(sitting, candidate, form assignment) of the chosen sittings, by room then name."""
    return list(s.execute(select(Sitting, Candidate, Form.assignment)
                          .join(Candidate, Candidate.id == Sitting.candidate_id)
                          .outerjoin(Form, Form.id == Sitting.form_id)
                          .where(*conds)
                          .order_by(Sitting.room, Candidate.last_name, Candidate.first_name, Sitting.id)).all())


def select_rooms(s: Session, conds: list[Any]) -> list[str]:
    """The distinct rooms of the chosen sittings."""
    return list(s.execute(select(Sitting.room).where(*conds).distinct()).scalars())


def select_open_room_windows(s: Session, exam_id: str, on: dt.date) -> list[Row]:
    """(room, opens, closes) of an exam's sittings of a date not finished, or absent (a reopened sign-in brings
    back the sittings its close made absent)."""
    return list(s.execute(select(Sitting.room, Sitting.opens_at, Sitting.closes_at).where(
        Sitting.exam_id == exam_id, Sitting.scheduled_on == on,
        Sitting.status.in_((*SITTING_OPEN, SittingStatus.absent)))).all())


# -- events ------------------------------------------------------------------------------------
def select_recent_event(s: Session, sitting_id: int, kind: EventKind, since: dt.datetime) -> int | None:
    """The id of an event of ``kind`` after ``since`` (a flood of limits stays one line)."""
    row = s.execute(select(SittingEvent.id).where(
        SittingEvent.sitting_id == sitting_id, SittingEvent.kind == kind,
        SittingEvent.at > since).limit(1)).first()
    return None if row is None else row[0]


def select_alerts(s: Session, exam_id: str, kinds: Collection[EventKind], limit: int) -> list[Row]:
    """(event, candidate id, candidate) of an exam's newest alert events, newest first."""
    return list(s.execute(select(SittingEvent, Sitting.candidate_id, Candidate)
                          .join(Sitting, Sitting.id == SittingEvent.sitting_id)
                          .join(Candidate, Candidate.id == Sitting.candidate_id)
                          .where(Sitting.exam_id == exam_id, SittingEvent.kind.in_(kinds))
                          .order_by(SittingEvent.id.desc()).limit(limit)).all())


def select_count(s: Session) -> int:
    """How many sittings exist, of every exam (the demo shows practice adds none)."""
    return s.execute(select(func.count(Sitting.id))).scalar_one()


def select_by_receipt_prefix(s: Session, prefix: str) -> list[Row]:
    """(sitting, candidate) of the submitted sittings whose receipt hash starts with ``prefix``
    (a confirmation number's 10 hex digits), oldest first."""
    return list(s.execute(select(Sitting, Candidate).join(Candidate, Candidate.id == Sitting.candidate_id)
                          .where(Sitting.status == SittingStatus.submitted,
                                 Sitting.receipt_hash.like(prefix.lower() + "%"))
                          .order_by(Sitting.id)).all())
