"""exam-builder's own tables, beside nbgrader's gradebook tables in the same database.

Table names start with ``eb_`` so they never collide with nbgrader's. Points of graded cells
live in nbgrader's ``grade`` table; these tables hold everything else that happens. Times are
naive UTC (SQLite has no time zones). No table has a place for a diagnosis.

Lifecycle states (a sitting's status, a rating's role, ...) are typed with the enums of
``model.states`` (``state_type``): stored as their string value, refused by a CHECK
constraint ``ck_<table>_<column>`` when they are not one of the enum's values.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..clock import utcnow  # the one clock every table and the delivery app use (re-exported here)
from ..model.states import (
    AccommodationKind,
    AccommodationStatus,
    AppealCategory,
    AppealDecision,
    AttendanceStatus,
    AuditAction,
    EventKind,
    ItemScoreStatus,
    KeyAction,
    Outcome,
    RatingRole,
    ReviewDecision,
    ScoreFlagKind,
    SittingStatus,
    State,
    SubmitReason,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def state_type(enum: type[State], length: int, column: str) -> Enum:
    """A column of ``enum``'s states: a VARCHAR of ``length`` (the width it always had) with a CHECK
    constraint named ``ck_<table>_<column>`` by ``NAMING``, as migration 0006 creates it."""
    return Enum(
        enum, native_enum=False, create_constraint=True, length=length, validate_strings=True,
        values_callable=lambda e: [m.value for m in e], name=column,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Candidate(Base):
    """A person taking the exam; mirrored as an nbgrader student with the same id."""

    __tablename__ = "eb_candidate"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str | None] = mapped_column(String(256))
    cohort: Mapped[str] = mapped_column(String(64), default="")
    training_ended_on: Mapped[dt.date | None] = mapped_column(Date)  # the last class (roster's "training ended")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    accommodations: Mapped[list["Accommodation"]] = relationship(back_populates="candidate")

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Accommodation(Base):
    """An approved change to how a candidate sits the exam. Only ``approved`` ones take effect.

    A provider's letter is on file (its date); what it says is not stored here.
    """

    __tablename__ = "eb_accommodation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("eb_candidate.id"), index=True)
    kind: Mapped[AccommodationKind] = mapped_column(state_type(AccommodationKind, 32, "kind"))
    multiplier: Mapped[float | None] = mapped_column(Float)  # extended_time only
    break_count: Mapped[int | None] = mapped_column(Integer)  # breaks only: how many per sitting
    break_minutes: Mapped[int | None] = mapped_column(Integer)  # breaks only: the longest each may last
    details: Mapped[str] = mapped_column(Text, default="")  # free text for "other" (no diagnosis)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    letter_on_file: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[AccommodationStatus] = mapped_column(
        state_type(AccommodationStatus, 16, "status"), default=AccommodationStatus.requested)
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    candidate: Mapped[Candidate] = relationship(back_populates="accommodations")


class Attendance(Base):
    """Attendance at one module of one class: present, late or absent."""

    __tablename__ = "eb_attendance"
    candidate_id: Mapped[str] = mapped_column(ForeignKey("eb_candidate.id"), primary_key=True)
    class_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    module_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[AttendanceStatus] = mapped_column(state_type(AttendanceStatus, 16, "status"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Homework(Base):
    """Homework turned in, for the participation grade (from a CSV or nbgrader assignments)."""

    __tablename__ = "eb_homework"
    candidate_id: Mapped[str] = mapped_column(ForeignKey("eb_candidate.id"), primary_key=True)
    assignment: Mapped[str] = mapped_column(String(128), primary_key=True)
    class_no: Mapped[int | None] = mapped_column(Integer)
    turned_in: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)


class Exam(Base):
    """An exam of the program (its items and blueprint are in ``source/<id>/``)."""

    __tablename__ = "eb_exam"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(256), default="")
    last_class_on: Mapped[dt.date | None] = mapped_column(Date)
    exam_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Form(Base):
    """One assembled version of an exam, frozen as a manifest; an nbgrader assignment.

    The manifest holds keys: it is staff-side data and never leaves the server.
    """

    __tablename__ = "eb_form"
    __table_args__ = (UniqueConstraint("exam_id", "label"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("eb_exam.id"), index=True)
    label: Mapped[str] = mapped_column(String(8))  # "A", "B", ...
    assignment: Mapped[str] = mapped_column(String(128), unique=True)  # nbgrader assignment name
    seed: Mapped[int] = mapped_column(Integer)
    manifest: Mapped[dict] = mapped_column(JSON)
    manifest_hash: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    built_by: Mapped[str] = mapped_column(String(128), default="")
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Sitting(Base):
    """One attempt of one candidate at one exam, on one form, with its clock.

    ``attempt_no`` counts attempts; a voided sitting keeps ``seq`` but its ``attempt_no`` is
    cleared, so it does not count. The unique constraint makes the attempt cap race-proof.
    """

    __tablename__ = "eb_sitting"
    __table_args__ = (
        UniqueConstraint("candidate_id", "exam_id", "attempt_no", name="uq_eb_sitting_attempt"),
        UniqueConstraint("candidate_id", "exam_id", "seq", name="uq_eb_sitting_seq"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("eb_candidate.id"), index=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("eb_exam.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # every sitting of this candidate at this exam, 1, 2, ...
    attempt_no: Mapped[int | None] = mapped_column(Integer)  # None once voided
    form_id: Mapped[int] = mapped_column(ForeignKey("eb_form.id"))
    room: Mapped[str] = mapped_column(String(64), default="")
    access_code_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[SittingStatus] = mapped_column(state_type(SittingStatus, 16, "status"),
                                                  default=SittingStatus.scheduled)
    time_limit_minutes: Mapped[int] = mapped_column(Integer)  # personal limit, with accommodation
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0)  # added by a proctor, audited
    scribe_name: Mapped[str | None] = mapped_column(String(128))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    submit_reason: Mapped[SubmitReason | None] = mapped_column(state_type(SubmitReason, 32, "submit_reason"))
    receipt_hash: Mapped[str | None] = mapped_column(String(64))
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    voided_by: Mapped[str | None] = mapped_column(String(128))
    void_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[Outcome | None] = mapped_column(state_type(Outcome, 8, "outcome"))  # None: not graded yet
    outcome_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # the date it is for (the room's calendar) and the window in which it may be started (naive
    # UTC; the proctor moves it, audited); None on sittings opened before revision 0004
    scheduled_on: Mapped[dt.date | None] = mapped_column(Date)
    opens_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # the page that may act on the sitting: each sign-in replaces it (delivery.session: take over)
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lease_source: Mapped[str | None] = mapped_column(String(64))
    # a stopped clock (revision 0010): a proctor's pause (of the sitting or its whole room) runs from
    # ``paused_at`` until resumed; a break from ``break_started_at`` until ended, at ``break_ends_at``
    # at the latest. Stopped time already over is summed in ``paused_seconds`` and moves the deadline.
    paused_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    paused_by: Mapped[str | None] = mapped_column(String(128))
    pause_reason: Mapped[str | None] = mapped_column(Text)
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    break_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    break_ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    breaks_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the question the candidate was on (revision 0015): a takeover comes back to it, as a reload does
    at_question: Mapped[int | None] = mapped_column(Integer)

    form: Mapped[Form] = relationship()
    candidate: Mapped[Candidate] = relationship()

    @property
    def deadline(self) -> dt.datetime | None:
        """The deadline as stored: start + personal limit + added time + stopped time already over.

        While the clock is stopped the deadline moves with the time: use ``deadline_at(now)``."""
        if self.started_at is None:
            return None
        return (self.started_at + dt.timedelta(minutes=self.time_limit_minutes + self.extra_minutes)
                + dt.timedelta(seconds=self.paused_seconds or 0.0))

    def stopped_now(self, now: dt.datetime) -> dt.timedelta:
        """The clock's current stop so far (a pause, or a break up to its end), not yet in ``paused_seconds``."""
        if self.paused_at is not None:
            return max(now - self.paused_at, dt.timedelta(0))
        if self.break_started_at is not None and self.break_ends_at is not None:
            return max(min(now, self.break_ends_at) - self.break_started_at, dt.timedelta(0))
        return dt.timedelta(0)

    def deadline_at(self, now: dt.datetime) -> dt.datetime | None:
        """The deadline as of ``now``: the stored one, moved on by the stop running now (every server agrees)."""
        base = self.deadline
        return None if base is None else base + self.stopped_now(now)

    def clock_stopped(self, now: dt.datetime) -> str | None:
        """``pause`` or ``break`` while the clock is stopped at ``now``, else None (a break past its end is over)."""
        if self.paused_at is not None:
            return "pause"
        if self.break_started_at is not None and self.break_ends_at is not None and now < self.break_ends_at:
            return "break"
        return None


class Tutoring(Base):
    """Tutoring offered (and attended) after a failed attempt."""

    __tablename__ = "eb_tutoring"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("eb_candidate.id"), index=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("eb_exam.id"))
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"))
    offered_on: Mapped[dt.date] = mapped_column(Date)
    attended_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(128), default="")


class Response(Base):
    """One change of one answer, as the server received it. Append-only: the latest wins."""

    __tablename__ = "eb_response"
    __table_args__ = (
        Index("ix_eb_response_sitting_item", "sitting_id", "item_id", "id"),
        # the journal limits count a sitting's rows, and its rows of the last minute, from this index alone
        Index("ix_eb_response_sitting_recorded", "sitting_id", "recorded_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"))
    item_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)  # a choice label ("A") or open-response text
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    entered_by: Mapped[str] = mapped_column(String(128), default="candidate")  # or the scribe's name


class SittingEvent(Base):
    """What happened in a sitting: sign-in, start, reload, warning, refused change, submit.

    Its kind is an ``EventKind`` (``records.states``); kinds the proctor is shown are
    ``states.ALERT_KINDS``. Written only by ``records.events.record_event``.
    """

    __tablename__ = "eb_sitting_event"
    __table_args__ = (Index("ix_eb_sitting_event_kind_at", "kind", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[EventKind] = mapped_column(state_type(EventKind, 32, "kind"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class WrongCode(Base):
    """One wrong access code typed at sign-in: when and from which source (never the code itself).

    Kept in the database so that every server process counts the same wrong codes.
    """

    __tablename__ = "eb_wrong_code"
    __table_args__ = (Index("ix_eb_wrong_code_source_at", "source", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(64))


class Lockout(Base):
    """A source locked out after too many wrong codes, until ``until`` or until a proctor lifts it."""

    __tablename__ = "eb_lockout"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    locked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    until: Mapped[dt.datetime] = mapped_column(DateTime)
    wrong_codes: Mapped[int] = mapped_column(Integer, default=0)
    lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(128))
    lift_reason: Mapped[str | None] = mapped_column(Text)


class Rating(Base):
    """One grader's rubric scoring of one open response: first, second or adjudication."""

    __tablename__ = "eb_rating"
    __table_args__ = (UniqueConstraint("sitting_id", "item_id", "role", name="uq_eb_rating_role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[RatingRole] = mapped_column(state_type(RatingRole, 16, "role"))
    rater: Mapped[str] = mapped_column(String(128))
    levels: Mapped[dict] = mapped_column(JSON)  # criterion id -> chosen level's points
    score: Mapped[float | None] = mapped_column(Float)  # None while only claimed
    comment: Mapped[str] = mapped_column(Text, default="")
    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_hash: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    scored_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ScoreFlag(Base):
    """Something odd found while scoring a submission (edited locked cell, junk answer...)."""

    __tablename__ = "eb_score_flag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment: Mapped[str] = mapped_column(String(128), index=True)
    candidate_id: Mapped[str] = mapped_column(String(64), index=True)
    grade_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[ScoreFlagKind] = mapped_column(state_type(ScoreFlagKind, 64, "kind"))
    details: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ItemScore(Base):
    """The decided score of one open response, with its provenance: which ratings, which rule.

    ``status``: pending (ratings missing), adjudication (two ratings too far apart), rerate (a
    rubric edit removed a chosen level), final. Written by grading; mirrored into nbgrader's
    ``grade.manual_score``.
    """

    __tablename__ = "eb_item_score"
    __table_args__ = (UniqueConstraint("sitting_id", "item_id", name="uq_eb_item_score_response"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[ItemScoreStatus] = mapped_column(state_type(ItemScoreStatus, 16, "status"),
                                                    default=ItemScoreStatus.pending)
    score: Mapped[float | None] = mapped_column(Float)
    rule: Mapped[str | None] = mapped_column(String(16))  # single|mean|lower|higher|adjudicated|no_response
    rating_ids: Mapped[list] = mapped_column(JSON, default=list)
    rubric_hash: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class GradeSeal(Base):
    """What exam-builder last wrote into one grade of nbgrader's gradebook, sealed (HMAC under the
    course's secret, which the database never holds). ``results`` compares the gradebook with its
    seals: a score changed by any other route (the formgrader, SQL) is named, never used."""

    __tablename__ = "eb_grade_seal"
    assignment: Mapped[str] = mapped_column(String(128), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    grade_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    auto_score: Mapped[float | None] = mapped_column(Float)
    manual_score: Mapped[float | None] = mapped_column(Float)
    extra_credit: Mapped[float | None] = mapped_column(Float)
    mac: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ItemReview(Base):
    """One reviewer's decision on one version of an authored item. Append-only: the newest row on
    the item's current content decides (``bank.review``); a retire decision holds for good.

    ``content_hash`` is ``bank.review.reviewed_hash`` of the item as reviewed, so any later edit
    of what the item says or scores sends it back to review. ``author`` is the item's author at
    the time (the reviewer was someone else). Written with an audit entry in the same transaction.
    """

    __tablename__ = "eb_item_review"
    __table_args__ = (Index("ix_eb_item_review_item", "item_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[ReviewDecision] = mapped_column(state_type(ReviewDecision, 16, "decision"))
    reviewer: Mapped[str] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(128), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    file: Mapped[str] = mapped_column(String(512), default="")  # where the item was read (for people, not identity)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Secret(Base):
    """A server-side secret, e.g. the key of graders' anonymous response ids. Never displayed."""

    __tablename__ = "eb_secret"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only, hash-chained record of who changed what, when and why."""

    __tablename__ = "eb_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[AuditAction] = mapped_column(state_type(AuditAction, 64, "action"))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PaperPage(Base):
    """One page of a paper sitting's answer sheet, as it was scanned (``exam_builder.paper``).

    A page is read once: scanning it again is skipped, never overwritten. A written page (an open
    response) keeps its cropped writing area, without the candidate's name or code, for blind rating.
    """

    __tablename__ = "eb_paper_page"
    __table_args__ = (UniqueConstraint("sitting_id", "page"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"), index=True)
    page: Mapped[int] = mapped_column(Integer)  # 1, 2, ... of the sheet as printed
    source: Mapped[str] = mapped_column(String(512), default="")  # the scan's file and page, for people
    item_id: Mapped[str | None] = mapped_column(String(64))  # a written page: its question's item
    image: Mapped[bytes | None] = mapped_column(LargeBinary)  # a written page: the writing area (PNG)
    scanned_by: Mapped[str] = mapped_column(String(128), default="")
    scanned_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PaperCheck(Base):
    """An answer read from paper that a person must confirm or correct before it counts.

    ``why``: faint, erased, double or written (a short answer written by hand); ``read`` is what the
    scanner saw (marked labels, may be empty); ``value`` what the staff member decided (the journal's row).
    """

    __tablename__ = "eb_paper_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    why: Mapped[str] = mapped_column(String(16))
    read: Mapped[str] = mapped_column(String(64), default="")
    image: Mapped[bytes] = mapped_column(LargeBinary)  # the cropped row or box (PNG), no name or code
    source: Mapped[str] = mapped_column(String(512), default="")
    decided: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Study(Base):
    """A standard-setting study of an exam (``standard``): its method, the items in scope, the
    definition of the minimally competent candidate and the flag threshold for discussion.

    ``method`` is ``modified_angoff`` (a probability per item in steps of 5%) or ``yes_no`` (would
    the minimally competent candidate earn the point: 0 or 100). ``scope`` is what was rated:
    ``{"forms": ["cps-A", ...]}`` or ``{"bank": true}``; the items themselves are ``StudyItem`` rows.
    """

    __tablename__ = "eb_study"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(256), default="")
    method: Mapped[str] = mapped_column(String(16))
    scope: Mapped[dict] = mapped_column(JSON, default=dict)
    mcc: Mapped[str] = mapped_column(Text, default="")  # the minimally competent candidate, as the panel wrote it
    sd_flag: Mapped[float] = mapped_column(Float, default=0.15)  # item SD (share of its points) flagged for discussion
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")


class StudyItem(Base):
    """An item in a study's scope, as it was when the study began (its points and content hash)."""

    __tablename__ = "eb_study_item"
    study_id: Mapped[int] = mapped_column(ForeignKey("eb_study.id"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    points: Mapped[float] = mapped_column(Float)
    rated: Mapped[bool] = mapped_column(Boolean, default=False)  # an open response: rated in expected points
    content_hash: Mapped[str] = mapped_column(String(64))


class Panelist(Base):
    """A member of a study's panel: a subject-matter expert, their role and conflict-of-interest declaration."""

    __tablename__ = "eb_panelist"
    __table_args__ = (UniqueConstraint("study_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("eb_study.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(128))
    conflict: Mapped[str] = mapped_column(Text, default="")  # the declaration as given ("none" is a declaration)
    declared_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class StudyRound(Base):
    """A round of a study: round 1 independent, later rounds after discussion (and impact data)."""

    __tablename__ = "eb_study_round"
    __table_args__ = (UniqueConstraint("study_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("eb_study.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(128), default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(128))


class StudyRating(Base):
    """One panelist's rating of one item in one round. Append-only: the newest row per (round,
    panelist, item) counts, the older ones are the changes kept. ``value`` is as entered: a
    probability in percent (0..100, steps of 5) or, for an open response, the expected points.
    ``carried``: copied from the panelist's previous round when the round opened (not yet changed)."""

    __tablename__ = "eb_study_rating"
    __table_args__ = (Index("ix_eb_study_rating_round", "study_id", "round_no", "panelist_id", "item_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("eb_study.id"))
    round_no: Mapped[int] = mapped_column(Integer)
    panelist_id: Mapped[int] = mapped_column(ForeignKey("eb_panelist.id"))
    item_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    carried: Mapped[bool] = mapped_column(Boolean, default=False)
    rated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    rated_by: Mapped[str] = mapped_column(String(128), default="")


class StandardDecision(Base):
    """The oversight board's decision on a study: the cut it adopted (a share of the points of the
    items in scope) beside the panel's recommendation, why, who decided and who recorded it. The
    newest decision of an exam is the standard ``build`` gives new forms."""

    __tablename__ = "eb_standard_decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("eb_study.id"), index=True)
    exam_id: Mapped[str] = mapped_column(String(64), index=True)
    round_no: Mapped[int] = mapped_column(Integer)  # the round whose ratings the decision rests on
    recommended: Mapped[float] = mapped_column(Float)  # share of the scope's points (0..1)
    adopted: Mapped[float] = mapped_column(Float)  # share of the scope's points (0..1)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(128))  # the board (or its chair)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FormCut(Base):
    """A frozen form's cut score changed by a recorded decision (``standard recut``). Append-only:
    the newest row of a form is its effective cut (``records.cuts``); without one, the manifest's."""

    __tablename__ = "eb_form_cut"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("eb_form.id"), index=True)
    cut_score: Mapped[float] = mapped_column(Float)
    previous: Mapped[float] = mapped_column(Float)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("eb_standard_decision.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ItemComment(Base):
    """A candidate's comment on one question, written during the exam (revision 0013).

    Append-only like the answers' journal: the latest row per (sitting, item) is the comment; it
    counts against the same journal limits and is kept after the submit. Staff read comments
    only of submitted sittings, by item and form, never beside a name (``grading.keys``).
    """

    __tablename__ = "eb_item_comment"
    __table_args__ = (Index("ix_eb_item_comment_sitting_recorded", "sitting_id", "recorded_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"))
    item_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    entered_by: Mapped[str] = mapped_column(String(128), default="candidate")  # or the scribe's name


class KeyDecision(Base):
    """A key-validation decision on one objective item of an exam (revision 0013).

    Issued forms stay frozen: scoring reads the latest decision per (exam, item) as an adjustment
    of the manifest's key (``grading.keys``). ``accepted`` holds the other accepted answer as the
    item's own choice indexes (0-based, as authored), so each form's labels follow from its
    option order. ``applied_at`` is set when the affected sittings were re-scored.
    """

    __tablename__ = "eb_key_decision"
    __table_args__ = (Index("ix_eb_key_decision_item", "exam_id", "item_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("eb_exam.id"))
    item_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[KeyAction] = mapped_column(state_type(KeyAction, 16, "action"))
    accepted: Mapped[list] = mapped_column(JSON, default=list)  # accept: [[original choice index, ...], ...]
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    applied_by: Mapped[str | None] = mapped_column(String(128))


class KeyValidation(Base):
    """Key validation of an exam closed (at ``closed_at``, by ``closed_by``): the results of sittings submitted
    until ``covers`` are final."""

    __tablename__ = "eb_key_validation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("eb_exam.id"), index=True)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # the latest submission it covers (revision 0016), when later than closed_at (a sitting stamped ahead of the
    # clock, as the demo's are); NULL: closed_at
    covers_through: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def covers(self) -> dt.datetime:
        """The latest submission time whose result this closure makes final."""
        return self.covers_through if self.covers_through is not None else self.closed_at


class Appeal(Base):
    """A candidate's appeal, recorded by the coordinator (revision 0013); ``decision`` NULL while open."""

    __tablename__ = "eb_appeal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("eb_sitting.id"), index=True)
    category: Mapped[AppealCategory] = mapped_column(state_type(AppealCategory, 16, "category"))
    words: Mapped[str] = mapped_column(Text)  # the candidate's own words
    received_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    rater: Mapped[str | None] = mapped_column(String(128))  # a score appeal's re-rater
    decision: Mapped[AppealDecision | None] = mapped_column(state_type(AppealDecision, 16, "decision"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)  # the decision voided the sitting
    # a score appeal's re-rated answers' decided points just before its decision (revision 0016), so the
    # re-rating still reads against them once the re-ratings are the scores; NULL: not a re-rated score appeal
    points_before: Mapped[float | None] = mapped_column(Float, nullable=True)


class AppealRating(Base):
    """A score appeal's rating of one written answer by a rater who had not rated it, blind."""

    __tablename__ = "eb_appeal_rating"
    __table_args__ = (UniqueConstraint("appeal_id", "item_id", name="uq_eb_appeal_rating_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("eb_appeal.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    rater: Mapped[str] = mapped_column(String(128))
    levels: Mapped[dict] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    rubric_hash: Mapped[str] = mapped_column(String(64))
    rated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
