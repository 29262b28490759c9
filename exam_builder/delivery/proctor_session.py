"""The proctor's room, UI-free: what the room view shows and every change a proctor makes from it.

``ProctorSession`` is to the room view (``proctor.ProctorDashboard``) what ``session.CandidateSession``
is to the candidate's app and ``grading.grader_app.GraderSession`` to the grader's: the state and
the actions, no widget. The widgets draw what it reads and call its methods, so a scripted proctor
(tests, the demo) takes exactly the page's code path. The database is at its edges: reading the
room goes through ``records.queries``; every change goes through ``delivery.sittings`` (and
``records.absence``), which records who and why in the same transaction.

The contract:

* **What is shown** is the session's state: the date (``on``; it follows the room's today, also
  past midnight, until the proctor picks another), the room (``room``; None is every room: by
  default the one room of the date, else every room), the "Show" filter (``show``, a key of
  ``SHOW``) and the chosen candidate (``selected``; kept while they are listed under some filter).
* ``refresh()`` re-reads the room and returns a ``RoomState``: rows in a steady order (room, then
  last name; "every date": the latest date first), each with its state in words (``STATE_TEXT``:
  Not arrived, Signed in, Writing, Paused, On a break, Submitted, Voided, Absent), the totals of
  the chosen date, the *late* and *idle* marks (``mark``), the rows the filter keeps, today's
  sign-in windows per room, the computers locked out and the alerts. A no-show whose sign-in
  window has closed is made absent first (``records.absence.settle_course``: stored, not only shown).
* **Who acts**: the hub user when signed in through JupyterHub (whatever is typed), else the name
  typed once (``name``); none, no change. Every change needs a reason too. A refusal for a box
  left empty is a ``BoxToFill`` in plain words naming the box (``NAME``, ``REASON``...; its label,
  in ``box``, so the page puts the cursor there), raised
  before anything is written; the checks run in the order the page asks: the candidate (or room,
  or computer), then who, then why.
* **Actions** on one candidate (the chosen one unless ``sitting_id`` is given): ``add_time``,
  ``record_scribe``, ``mark_absent``, ``pause``, ``resume``, ``void`` (only when ``confirmed``); on
  a room today: ``pause_room``, ``resume_room``, ``open_now``, ``close_now``; on a computer:
  ``unlock``. Each returns the sentence the proctor reads when it is done.
* ``find(text)`` looks a receipt's confirmation number up (typed as read aloud).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..course import Course
from ..errors import ExamBuilderError
from ..model.states import ALERT_KINDS, SITTING_OPEN, EventKind, SittingStatus, SubmitReason
from ..records import absence, identity
from ..records.access import Lockout
from ..records.models import Exam, utcnow
from ..records.queries import responses as responses_q, sittings as sittings_q
from . import sittings as ops, window
from .form_view import load_form_view, released_notebook_path
from .session import ConfirmationMatch, Stopped, find_confirmation, format_minutes, format_seconds, stopped_of

#: A sitting's state as the proctor reads it, in the order of the totals.
STATE_TEXT = {"not_arrived": "Not arrived", "signed_in": "Signed in, not started", "writing": "Writing",
              "paused": "Paused", "on_break": "On a break", "submitted": "Submitted", "voided": "Voided",
              "absent": "Absent"}

#: The "Show" filter: which cards of the room and date are listed.
SHOW = {"all": "Everyone on this date", "open": "Not finished yet", "attention": "Late or idle only",
        "every_date": "Every date (past sittings too)"}

ALL_ROOMS = ""

#: How a sitting was submitted, in the words of a found confirmation number.
SUBMITTED_BY = {SubmitReason.candidate: "by the candidate", SubmitReason.deadline: "automatically at the deadline",
                SubmitReason.proctor: "by a proctor", SubmitReason.paper: "on paper, scanned"}

#: The boxes the proctor fills, as the room view labels them: a refusal names the one to fill.
NAME = "Your name"
REASON = "Reason"
SIGNIN_REASON = "Reason for opening or closing sign-in"
UNLOCK_REASON = "Reason for unlocking"
PAUSE_REASON = "Reason for pausing the room"
SCRIBE = "Scribe's name"
#: A resume needs no reason (the pause had one): a note, if any, is kept as the resume's.
RESUME_NOTE = "Note for the resume (optional)"
#: What the audit trail keeps for a resume with no note.
NO_RESUME_NOTE = "resumed (no note)"
CONFIRM_VOID = "Yes, void this sitting"


class BoxToFill(ExamBuilderError):
    """A refusal for a box left empty (or unticked): ``box`` is its label as the room view shows it, so
    the page can put the cursor there."""

    def __init__(self, message: str, box: str):
        super().__init__(message)
        self.box = box


class Thresholds(Protocol):
    """What the room reads of ``ProctorSettings`` (``c.ProctorSettings.…``; ``course.proctor_settings``)."""

    refresh_seconds: float
    late_after_minutes: int
    idle_after_minutes: int


@dataclass(frozen=True)
class Row:
    sitting_id: int
    candidate_id: str
    name: str
    room: str
    status: SittingStatus
    answered: int
    total: int
    time_left: dt.timedelta | None
    extra_minutes: int
    scribe: str | None
    time_limit_minutes: int = 0
    scheduled_on: dt.date | None = None
    opens_at: dt.datetime | None = None
    signed_in_at: dt.datetime | None = None  # a page holds the sitting since (not started yet)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None  # submitted or voided
    last_answer_at: dt.datetime | None = None
    submit_reason: str | None = None
    stop: Stopped | None = None  # the clock stopped now: a pause (and why) or a break

    @property
    def state(self) -> str:
        """``not_arrived``, ``signed_in``, ``writing``, ``paused``, ``on_break``, ``submitted``, ``voided`` or
        ``absent`` (keys of ``STATE_TEXT``)."""
        if self.status == SittingStatus.scheduled:
            return "signed_in" if self.signed_in_at is not None else "not_arrived"
        if self.status == SittingStatus.in_progress and self.stop is not None:
            return "paused" if self.stop.kind == "pause" else "on_break"
        return {SittingStatus.in_progress: "writing"}.get(self.status, str(self.status))

    @property
    def open(self) -> bool:
        """Still changeable by the proctor (not submitted, not voided)."""
        return self.status in SITTING_OPEN


def _where(exam: str, on: dt.date | None, room: str | None, live: bool) -> list:
    return sittings_q.room_filter(exam, on, room, live)


def overview(course: Course, exam: str, now: dt.datetime | None = None, *, on: dt.date | None = None,
             room: str | None = None, live: bool = False, item_counts: dict[int, int] | None = None) -> list[Row]:
    """One row per sitting of the exam (of date ``on`` and ``room`` when given), by room then name.

    ``live`` adds the sittings in progress of any date (today's room). ``item_counts`` caches each
    form's number of questions across refreshes (its notebook is read once).
    """
    now = now or utcnow()
    conds = _where(exam, on, room, live)
    counts = item_counts if item_counts is not None else {}
    with course.db.read() as s:
        sits = sittings_q.select_room_overview(s, conds)
        ids = sittings_q.select_room_ids(conds)
        answered = responses_q.select_answered_counts(s, ids)
        last_at = responses_q.select_last_answer_times(s, ids)
        rows = []
        for sit, cand, assignment in sits:
            if sit.form_id not in counts:  # each form's notebook is read once
                try:
                    counts[sit.form_id] = len(load_form_view(released_notebook_path(course, assignment)).items)
                except ExamBuilderError:
                    counts[sit.form_id] = 0
            left, stop = None, None
            deadline = sit.deadline_at(now)  # stands still while the clock is stopped
            if sit.status == SittingStatus.in_progress and deadline is not None:
                left = max(deadline - now, dt.timedelta(0))
                stop = stopped_of(sit, now)
            elif sit.status == SittingStatus.scheduled and sit.paused_at is not None:  # a room paused before the start
                stop = stopped_of(sit, now)
            signed_in = (sit.lease_at if (sit.status == SittingStatus.scheduled and sit.lease_token is not None)
                         else None)
            rows.append(Row(sit.id, cand.id, cand.name, sit.room, sit.status, answered.get(sit.id, 0),
                            counts[sit.form_id], left, sit.extra_minutes, sit.scribe_name, sit.time_limit_minutes,
                            scheduled_on=sit.scheduled_on, opens_at=sit.opens_at, signed_in_at=signed_in,
                            started_at=sit.started_at, finished_at=sit.submitted_at or sit.voided_at,
                            last_answer_at=last_at.get(sit.id), submit_reason=sit.submit_reason, stop=stop))
    return rows


def rooms_on(course: Course, exam: str, on: dt.date | None, live: bool = False) -> list[str]:
    """The rooms with sittings of ``on`` (every date: None; and, when ``live``, sittings in progress), sorted."""
    with course.db.read() as s:
        return sorted(sittings_q.select_rooms(s, _where(exam, on, None, live)))


def totals(rows: list[Row]) -> dict[str, int]:
    """How many sittings are in each state (every key of ``STATE_TEXT``, zeros included)."""
    out = dict.fromkeys(STATE_TEXT, 0)
    for r in rows:
        out[r.state] += 1
    return out


@dataclass(frozen=True)
class Mark:
    kind: str  # late | idle
    minutes: int
    text: str


def mark(row: Row, now: dt.datetime, settings: Thresholds, zone: dt.tzinfo) -> Mark | None:
    """A row's *late* or *idle* mark, or None.

    Late: not arrived N minutes after the window opened, when it opened at a set time (a window
    that opens at midnight is the whole-day default: no start to be late for). Idle: writing,
    nothing saved (or started, if nothing was saved) for N minutes.
    """
    if row.state == "not_arrived" and row.opens_at is not None:
        if window.local(row.opens_at, zone).time() != dt.time(0):
            late = int((now - row.opens_at).total_seconds() // 60)
            if late >= settings.late_after_minutes:
                return Mark("late", late, f"Late by {_minutes(late)}")
    if row.state == "writing":
        since = row.last_answer_at or row.started_at
        if since is not None:
            idle = int((now - since).total_seconds() // 60)
            if idle >= settings.idle_after_minutes:
                return Mark("idle", idle, f"Idle for {_minutes(idle)}")
    return None


def _minutes(n: int) -> str:
    """``25 min``, ``1 h 05 min``: short enough for a badge."""
    return f"{n} min" if n < 60 else f"{n // 60} h {n % 60:02d} min"


@dataclass(frozen=True)
class Alert:
    at: dt.datetime
    sitting_id: int
    candidate_id: str
    name: str
    kind: str
    text: str


def describe(kind: EventKind, details: dict) -> str:
    """An alert in plain words for the proctor."""
    d = details or {}
    if kind == EventKind.taken_over:
        where = ("again on the same computer" if d.get("same_source")
                 else f"on another computer ({d.get('source', 'unknown')}; "
                      f"before: {d.get('previous_source', 'unknown')})")
        return f"Exam opened {where}; the earlier screen no longer accepts answers."
    if kind == EventKind.sign_in_refused:
        why = d.get("why")
        text = {"used": "Sign-in refused: the code was already used",
                "time_up": "Sign-in refused: the time was over (submitted automatically)",
                "window": "Sign-in refused: outside the sign-in window",
                "absent": "Sign-in refused: the sitting is absent (its sign-in had closed)",
                "marked_absent": "Sign-in refused: the sitting was marked absent by a proctor",
                "not_eligible": "Sign-in refused: " + "; ".join(d.get("reasons") or ["not eligible today"])}.get(
            why, f"Sign-in refused ({why})")
        return f"{text} (from {d.get('source', 'unknown')})."
    if kind == EventKind.refused_change:
        return f"A change to {d.get('item', '?')} was refused ({d.get('why', '')})."
    if kind == EventKind.limit:
        what = {"rate": "too many saves in a minute", "rows": "the most changes a sitting may save",
                "size": "an answer longer than allowed"}.get(d.get("limit"), str(d.get("limit")))
        return f"Limit reached: {what}."
    if kind == EventKind.identity_rejected:
        return (f"The candidate said the name shown was not theirs (on {d.get('source', 'unknown')}); "
                "check their seat card.")
    return kind


def alerts(course: Course, exam: str, limit: int = 20) -> list[Alert]:
    """The latest alert events of an exam's sittings, newest first."""
    with course.db.read() as s:
        rows = sittings_q.select_alerts(s, exam, ALERT_KINDS, limit)
        return [Alert(e.at, e.sitting_id, cid, cand.name, e.kind, describe(e.kind, e.details)) for e, cid, cand in rows]


def room_windows(course: Course, exam: str,
                 on: dt.date | None = None) -> dict[str, tuple[dt.datetime | None, dt.datetime | None]]:
    """Each room with sittings of ``on`` (default today in the room) not finished: its window (the widest)."""
    on = on or ops.room_today(course)
    out: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {}
    with course.db.read() as s:
        for room, opens, closes in sittings_q.select_open_room_windows(s, exam, on):
            o, c = out.get(room, (None, None))
            out[room] = (min((x for x in (o, opens) if x is not None), default=None),
                         max((x for x in (c, closes) if x is not None), default=None))
    return dict(sorted(out.items()))


def exam_title(course: Course, exam: str) -> str:
    """The exam's title for the page's heading (its id when it has none)."""
    with course.db.read() as s:
        row = s.get(Exam, exam)
        return (row.title if row is not None and row.title else exam)


@dataclass(frozen=True)
class RoomState:
    """One reading of the room (``ProctorSession.refresh``): everything the room view draws."""

    now: dt.datetime
    today: dt.date  # in the room's time zone
    on: dt.date  # the date shown
    room: str | None  # the room shown; None: every room
    rooms: list[str]  # the rooms to choose from (of that date, or of every date)
    rows: list[Row]  # every card the room and date (or every date) has, in order
    counted: list[Row]  # the rows the totals count: the date's, also under "every date"
    marks: dict[int, Mark | None]  # sitting id -> its late or idle mark
    shown: list[Row]  # the rows the "Show" filter keeps, the chosen candidate always among them
    windows: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = field(default_factory=dict)  # today's rooms
    lockouts: list[Lockout] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        """Sittings of the date in each state (every key of ``STATE_TEXT``)."""
        return totals(self.counted)

    def marked(self, kind: str) -> int:
        """How many sittings of the date are marked ``late`` or ``idle``."""
        return sum(1 for r in self.counted if (m := self.marks.get(r.sitting_id)) is not None and m.kind == kind)


@dataclass(frozen=True)
class Found:
    """A confirmation number looked up: the sittings it names and what the proctor reads."""

    matches: list[ConfirmationMatch]
    lines: list[str]  # one sentence a sitting; one saying so when none


class ProctorSession:
    """One proctor's room view of one exam, without widgets; the room view and scripted proctors call it."""

    def __init__(self, course: Course, exam: str, actor: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.course, self.exam, self.clock = course, exam, clock
        self.settings: Thresholds = course.proctor_settings
        self.zone = ops.room_zone(course, strict=False)
        hub = identity.hub_name()
        self.name: str = hub or actor or ""  # typed once; under the hub the hub user's, never typed
        self.on: dt.date | None = ops.room_today(course, clock())
        self.follows_today = True  # until the proctor picks a date: follows today (a page left open overnight)
        self.room: str | None = None
        self.room_is_auto = True  # until the proctor picks a room: the one room of the date, else every room
        self.show = "all"
        self.selected: int | None = None
        self.state: RoomState | None = None
        self._item_counts: dict[int, int] = {}

    # -- what is shown -----------------------------------------------------------------------------------
    @property
    def hub_name(self) -> str | None:
        """Signed in through JupyterHub: the hub user, the only name changes are recorded under."""
        return identity.hub_name()

    @property
    def rows(self) -> list[Row]:
        return self.state.rows if self.state is not None else []

    def title(self) -> str:
        return exam_title(self.course, self.exam)

    def set_date(self, on: dt.date | None) -> None:
        """Show the sittings of ``on`` (None: today); picking today follows today again."""
        self.on = on
        self.follows_today = on == ops.room_today(self.course, self.clock())

    def set_room(self, room: str | None) -> None:
        """Show one room (None or ``ALL_ROOMS``: every room); the proctor's choice, kept while the room is listed."""
        self.room = None if room in (ALL_ROOMS, None) else str(room)
        self.room_is_auto = False

    def set_show(self, show: str) -> None:
        if show not in SHOW:
            raise ExamBuilderError(f"“Show” is one of {', '.join(SHOW)}, not {show!r}")
        self.show = show

    def row(self, sitting_id: int) -> Row | None:
        return next((r for r in self.rows if r.sitting_id == sitting_id), None)

    def choose(self, sitting_id: int | None) -> int | None:
        """Choose a candidate to act on (the chosen one again: nobody); the one chosen now."""
        self.selected = None if sitting_id == self.selected else sitting_id
        return self.selected

    def chosen(self) -> Row:
        r = self.row(self.selected) if self.selected is not None else None
        if r is None:
            raise ExamBuilderError("Choose a candidate first: press “Actions” on their card.")
        return r

    def refresh(self) -> RoomState:
        """Re-read the room: no-shows past their window made absent, then the rows, marks, windows, alerts."""
        now = self.clock()
        today = ops.room_today(self.course, now)
        if self.follows_today and self.on != today:  # the page was left open past midnight
            self.on = today
        on = self.on or today
        live = on == today
        rooms = rooms_on(self.course, self.exam, None if self.show == "every_date" else on, live)
        if self.room_is_auto:
            self.room = rooms[0] if len(rooms) == 1 else None
        elif self.room not in rooms:
            self.room = None
        room = self.room
        absence.settle_course(self.course, now, exam_id=self.exam)  # no-shows past their window: absent, stored
        if self.show == "every_date":
            rows = overview(self.course, self.exam, now, room=room, item_counts=self._item_counts)
            rows.sort(key=lambda r: r.scheduled_on or dt.date.min, reverse=True)  # the latest date first
            counted = [r for r in rows if r.scheduled_on == on]
        else:
            rows = overview(self.course, self.exam, now, on=on, room=room, live=live, item_counts=self._item_counts)
            counted = rows
        marks = {r.sitting_id: mark(r, now, self.settings, self.zone) for r in rows}
        keep: Callable[[Row], bool] = {
            "all": lambda r: True, "every_date": lambda r: True, "open": lambda r: r.open,
            "attention": lambda r: marks[r.sitting_id] is not None}[self.show]
        shown = [r for r in rows if keep(r) or r.sitting_id == self.selected]
        if self.selected is not None and all(r.sitting_id != self.selected for r in rows):
            self.selected = None  # gone from every filter (another date chosen)
        self.state = RoomState(now, today, on, room, rooms, rows, counted, marks, shown,
                               windows=room_windows(self.course, self.exam, today),
                               lockouts=ops.lockouts(self.course, now), alerts=alerts(self.course, self.exam))
        return self.state

    # -- who and why ---------------------------------------------------------------------------------------
    def who(self) -> str:
        """Who is acting: the hub user when signed in through the hub (whatever was typed), else the name typed."""
        name = identity.actor(self.name)
        if not name:
            raise BoxToFill(f"Type your name in “{NAME}” at the top first; it is recorded with every change.", NAME)
        return name

    @staticmethod
    def _why(reason: str | None, box: str) -> str:
        reason = (reason or "").strip()
        if not reason:
            raise BoxToFill(f"Write the reason in “{box}” first; it is kept in the audit trail.", box)
        return reason

    def _target(self, sitting_id: int | None) -> Row:
        if sitting_id is None:
            return self.chosen()
        r = self.row(sitting_id)
        if r is None:
            raise ExamBuilderError(f"Sitting {sitting_id} is not in the room shown; choose its date and room first.")
        return r

    # -- actions on one candidate ---------------------------------------------------------------------------
    def add_time(self, minutes: int, reason: str | None, sitting_id: int | None = None) -> str:
        r = self._target(sitting_id)
        who, why = self.who(), self._why(reason, REASON)
        sit = ops.add_time(self.course, r.sitting_id, int(minutes), who, why)
        return (f"Added {int(minutes)} minutes for {r.name}; their time is now "
                f"{format_minutes(sit.time_limit_minutes + sit.extra_minutes)} "
                f"({format_minutes(sit.extra_minutes)} added in all).")

    def record_scribe(self, scribe: str | None, reason: str | None, sitting_id: int | None = None) -> str:
        r = self._target(sitting_id)
        who, why = self.who(), self._why(reason, REASON)
        name = (scribe or "").strip()
        if not name:
            raise BoxToFill(f"Type the scribe's name in “{SCRIBE}” first.", SCRIBE)
        ops.record_scribe(self.course, r.sitting_id, name, who, why)
        return f"{name} is recorded as the scribe for {r.name}; answers from now on say so."

    def mark_absent(self, reason: str | None, sitting_id: int | None = None) -> str:
        """A no-show the room knows of, before the window closes: their code stops working."""
        r = self._target(sitting_id)
        who, why = self.who(), self._why(reason, REASON)
        ops.mark_absent(self.course, r.sitting_id, who, why, now=self.clock())
        counts = ("it counts as an attempt" if self.course.policy.absent_counts_as_attempt
                  else "it does not count as an attempt")
        return f"{r.name} is marked absent: their code no longer works, and {counts}."

    def void(self, reason: str | None, confirmed: bool, sitting_id: int | None = None) -> str:
        r = self._target(sitting_id)
        who, why = self.who(), self._why(reason, REASON)
        if not confirmed:
            raise BoxToFill(f"Tick “{CONFIRM_VOID}” first, to void {r.name}'s sitting.", CONFIRM_VOID)
        ops.void(self.course, r.sitting_id, who, why)
        return (f"{r.name}'s sitting is voided: it no longer counts as an attempt, and their "
                "screen stops accepting answers.")

    def pause(self, reason: str | None, sitting_id: int | None = None) -> str:
        r = self._target(sitting_id)
        who, why = self.who(), self._why(reason, REASON)
        ops.pause(self.course, r.sitting_id, who, why, now=self.clock())
        return f"{r.name} is paused: their clock has stopped and their screen says why."

    @staticmethod
    def _note(note: str | None) -> str:
        """A resume's note, as the audit trail keeps it (none: ``NO_RESUME_NOTE``)."""
        return (note or "").strip() or NO_RESUME_NOTE

    def resume(self, note: str | None, sitting_id: int | None = None) -> str:
        """Run a paused candidate's clock again; ``note`` (optional) is the resume's, not the pause's reason."""
        r = self._target(sitting_id)
        who, why = self.who(), self._note(note)
        _sit, stood = ops.resume(self.course, r.sitting_id, who, why, now=self.clock())
        return f"{r.name} is back: {format_seconds(stood)} paused, added to their time."

    # -- actions on a room today, and on a computer ---------------------------------------------------------------
    @staticmethod
    def _room(room: str | None) -> str:
        if room is None:
            raise ExamBuilderError("Choose a room first.")
        return str(room)

    def pause_room(self, room: str | None, reason: str | None) -> str:
        """A fire alarm: every open sitting of the room today stops its clock."""
        room = self._room(room)
        who, why = self.who(), self._why(reason, PAUSE_REASON)
        paused = ops.pause_room(self.course, self.exam, room, who, why, now=self.clock())
        return ops.room_pause_said(room, paused)

    def resume_room(self, room: str | None, note: str | None) -> str:
        """Every candidate the room's pause stopped goes on; ``note`` (optional) is the resume's own."""
        room = self._room(room)
        who, why = self.who(), self._note(note)
        resumed = ops.resume_room(self.course, self.exam, room, who, why, now=self.clock())
        return ops.room_pause_said(room, resumed, resumed=True)

    def open_now(self, room: str | None, reason: str | None) -> str:
        room = self._room(room)
        who, why = self.who(), self._why(reason, SIGNIN_REASON)
        changed = ops.open_now(self.course, self.exam, room, who, why)
        return f"Sign-in is open now in {ops.room_said(room)} ({len(changed)} candidate(s))."

    def close_now(self, room: str | None, reason: str | None) -> str:
        room = self._room(room)
        who, why = self.who(), self._why(reason, SIGNIN_REASON)
        changed = ops.close_now(self.course, self.exam, room, who, why)
        return (f"Sign-in is closed now in {ops.room_said(room)} ({len(changed)} candidate(s)); "
                "candidates already started carry on.")

    def unlock(self, source: str | None, reason: str | None) -> str:
        """A computer locked out after wrong codes may sign in again."""
        if source is None:
            raise ExamBuilderError("Choose a locked computer first.")
        who, why = self.who(), self._why(reason, UNLOCK_REASON)
        ops.unlock_source(self.course, str(source), who, why)
        return f"Computer {source} is unlocked; its candidate can sign in again."

    # -- a receipt's confirmation number --------------------------------------------------------------------------
    def find(self, text: str) -> Found:
        """The submitted sittings a confirmation number names; refused when it is not shaped like one."""
        matches = find_confirmation(self.course.db, text)
        if not matches:
            return Found([], [f"No submitted sitting has confirmation number {text.strip().upper()}. "
                              "Check it letter by letter (it has no I, L, O or U)."])
        return Found(matches, [
            f"{m.number}: {m.candidate_name} ({m.candidate_id}), exam {m.exam_id}, room {m.room or '-'}, "
            f"submitted at {window.when_text(m.submitted_at, self.zone)} "
            f"({SUBMITTED_BY.get(m.submit_reason, m.submit_reason)})." for m in matches])
