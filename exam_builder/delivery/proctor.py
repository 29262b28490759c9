"""The proctor's room view (ipywidgets; JupyterLab or ``exam-builder proctor``, never the candidates' server).

What it promises the proctor:

* **The live room first.** The room and the date are chosen at the top (default: today in the
  room's time zone, and every room with sittings today); a sitting in progress is in today's
  room whatever its date. Earlier dates are behind the date box or the "Show" filter ("Every
  date", the latest date first), never in the way. Cards keep a steady order (room, then last
  name), so a card does not move under the proctor's hand while candidates come and go; "Not
  finished yet" and "Late or idle only" narrow the list (the chosen candidate always stays).
* **Totals at the top**: not arrived, signed in (not started), writing, submitted, voided,
  absent, and how many are late or idle. A no-show whose sign-in window has closed is absent
  (``records.absence.settle`` runs at every refresh, so the state is stored, not only shown).
* **One card per candidate**: a status in words (``STATE_TEXT``; colour only repeats it), the
  sign-in or start time, time left, answers given, the last answer's time, and a *late* mark (not
  arrived ``ProctorSettings.late_after_minutes`` after the sign-in window opened at a set time;
  a whole-day window has no start to be late for) or an *idle* mark (writing, nothing saved for
  ``idle_after_minutes``). "Signed in" is a sitting not started whose code has been used on a
  page that still holds it (``Sitting.lease_token``; "This is not me" lets go of it).
* **Actions on the row**: "Actions for <name>" opens, under that card, add time, record a scribe,
  mark absent (a no-show the room knows of, before the window closes) and void; the confirmation (or the reason it was
  refused, in plain words) appears there, the
  chosen person stays chosen after a void, and the reason stays in its box until the proctor
  changes it. A room's sign-in (open now / close now) and computers locked out after wrong codes
  have their own sections, each with its message beside its buttons.
* **Who acts is asked once**: the "Your name" box starts empty (never the computer's login name)
  and must be filled before any change; every change goes through ``delivery.sittings``, which
  records who and why in the same transaction. Signed in through JupyterHub, the proctor is the
  hub user the server put into the kernel (``records.identity``): the box shows that name, cannot
  be changed, and whatever a page sends, changes are recorded under the hub user only.
* It refreshes itself every ``ProctorSettings.refresh_seconds`` (an asyncio task on the kernel's
  loop); widgets are updated in place, so a box being typed in keeps its focus.
* It reflows: cards wrap their fields on a phone (390 px) and at 200% zoom, with nothing cut off
  and no sideways scrolling (``style_css``); every field has a visible label; text and badges
  keep WCAG AA contrast.

**Pauses** (``delivery.sittings.pause``): "Pause" / "Resume" among a candidate's actions, and
"Pause room" / "Resume room" in their own section (a fire alarm: every open sitting of the room
today). A paused candidate's card says "Paused" with the reason and since when, and their time
left stands still; one on a stop-the-clock break says "On a break" until when. Both are counted
in the totals.

**Find a confirmation number**: the sitting a candidate's receipt names (who, exam, room, when),
typed as read aloud (``session.find_confirmation``).

Alerts list what needs the proctor's eyes: a sitting opened on another screen, refused sign-ins
and changes, journal limits, a candidate who said the name shown was not theirs.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as w
from traitlets import Float, Int
from traitlets.config import Configurable

from .. import clock
from ..errors import ExamBuilderError
from ..records import absence, identity
from ..records.models import Exam, utcnow
from ..records.queries import responses as responses_q, sittings as sittings_q
from ..records.states import SITTING_OPEN, SittingStatus
from . import sittings as ops
from . import window
from ..ui.widgets import TextForm
from .candidate_app import clock_text
from .session import find_confirmation
from .form_view import load_form_view, released_notebook_path
from .session import Stopped, format_minutes, format_seconds, stopped_of

log = logging.getLogger(__name__)

#: Sitting events the proctor is shown as alerts.
ALERT_KINDS = ("taken_over", "sign_in_refused", "refused_change", "limit", "identity_rejected")

#: A sitting's state as the proctor reads it, in the order of the totals.
STATE_TEXT = {"not_arrived": "Not arrived", "signed_in": "Signed in, not started", "writing": "Writing",
              "paused": "Paused", "on_break": "On a break", "submitted": "Submitted", "voided": "Voided",
              "absent": "Absent"}

#: The "Show" filter: which cards of the room and date are listed.
SHOW = {"all": "Everyone on this date", "open": "Not finished yet", "attention": "Late or idle only",
        "every_date": "Every date (past sittings too)"}

ALL_ROOMS = ""


class ProctorSettings(Configurable):
    """When the room view marks a candidate, and how often it re-reads the room (``c.ProctorSettings.…``)."""

    refresh_seconds = Float(3.0, help="How often the proctor's room view re-reads the sittings.").tag(config=True)
    late_after_minutes = Int(
        10, help="A candidate not arrived this many minutes after the room's sign-in opened (at a set time, "
                 "not a whole-day window) is marked late.").tag(config=True)
    idle_after_minutes = Int(
        15, help="A candidate writing with no answer saved for this many minutes is marked idle.").tag(config=True)


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


def overview(course, exam: str, now: dt.datetime | None = None, *, on: dt.date | None = None,
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
            signed_in = sit.lease_at if (sit.status == SittingStatus.scheduled
                                         and sit.lease_token is not None) else None
            rows.append(Row(sit.id, cand.id, cand.name, sit.room, sit.status, answered.get(sit.id, 0),
                            counts[sit.form_id], left, sit.extra_minutes, sit.scribe_name, sit.time_limit_minutes,
                            scheduled_on=sit.scheduled_on, opens_at=sit.opens_at, signed_in_at=signed_in,
                            started_at=sit.started_at, finished_at=sit.submitted_at or sit.voided_at,
                            last_answer_at=last_at.get(sit.id), submit_reason=sit.submit_reason, stop=stop))
    return rows


def rooms_on(course, exam: str, on: dt.date | None, live: bool = False) -> list[str]:
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


def mark(row: Row, now: dt.datetime, settings: ProctorSettings, zone: dt.tzinfo) -> Mark | None:
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


def describe(kind: str, details: dict) -> str:
    """An alert in plain words for the proctor."""
    d = details or {}
    if kind == "taken_over":
        where = ("again on the same computer" if d.get("same_source")
                 else f"on another computer ({d.get('source', 'unknown')}; before: "
                      f"{d.get('previous_source', 'unknown')})")
        return f"Exam opened {where}; the earlier screen no longer accepts answers."
    if kind == "sign_in_refused":
        why = d.get("why")
        text = {"used": "Sign-in refused: the code was already used",
                "time_up": "Sign-in refused: the time was over (submitted automatically)",
                "window": "Sign-in refused: outside the sign-in window",
                "absent": "Sign-in refused: the sitting is absent (its sign-in had closed)",
                "not_eligible": "Sign-in refused: " + "; ".join(d.get("reasons") or ["not eligible today"])}.get(
            why, f"Sign-in refused ({why})")
        return f"{text} (from {d.get('source', 'unknown')})."
    if kind == "refused_change":
        return f"A change to {d.get('item', '?')} was refused ({d.get('why', '')})."
    if kind == "limit":
        what = {"rate": "too many saves in a minute", "rows": "the most changes a sitting may save",
                "size": "an answer longer than allowed"}.get(d.get("limit"), str(d.get("limit")))
        return f"Limit reached: {what}."
    if kind == "identity_rejected":
        return (f"The candidate said the name shown was not theirs (on {d.get('source', 'unknown')}); "
                "check their seat card.")
    return kind


def alerts(course, exam: str, limit: int = 20) -> list[Alert]:
    """The latest alert events of an exam's sittings, newest first."""
    with course.db.read() as s:
        rows = sittings_q.select_alerts(s, exam, ALERT_KINDS, limit)
        return [Alert(e.at, e.sitting_id, cid, cand.name, e.kind, describe(e.kind, e.details)) for e, cid, cand in rows]


def room_windows(course, exam: str, on: dt.date | None = None) -> dict[str,
                                                                       tuple[dt.datetime | None, dt.datetime | None]]:
    """Each room with sittings of ``on`` (default today in the room) not finished: its window (the widest)."""
    on = on or ops.room_today(course)
    out: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {}
    with course.db.read() as s:
        for room, opens, closes in sittings_q.select_open_room_windows(s, exam, on):
            o, c = out.get(room, (None, None))
            out[room] = (min((x for x in (o, opens) if x is not None), default=None),
                         max((x for x in (c, closes) if x is not None), default=None))
    return dict(sorted(out.items()))


def exam_title(course, exam: str) -> str:
    """The exam's title for the page's heading (its id when it has none)."""
    with course.db.read() as s:
        row = s.get(Exam, exam)
        return (row.title if row is not None and row.title else exam)


# -- the page -------------------------------------------------------------------------------------
def style_css() -> str:
    """The room view's look: dark text on white, badges in words and colour, cards that wrap when narrow."""
    return """<style>
.eb-proctor { color: #111; background: #fff; font-size: 16px; line-height: 1.5; max-width: 84em;
  box-sizing: border-box; --jp-widgets-font-size: 16px; --jp-ui-font-size1: 16px; --jp-widgets-inline-height: 32px; }
.eb-proctor * { box-sizing: border-box; }
.eb-proctor .widget-html-content, .eb-proctor .widget-label, .eb-proctor label, .eb-proctor button,
.eb-proctor input, .eb-proctor select { font-size: 16px !important; color: #111; }
.eb-proctor .widget-html, .eb-proctor .widget-html-content { height: auto; min-width: 0; max-width: 100%; }
.eb-proctor .widget-html-content { line-height: 1.5; white-space: normal; overflow-wrap: anywhere; }
.eb-proctor .widget-inline-hbox { flex-wrap: wrap; height: auto; max-width: 100%; align-items: center; }
.eb-proctor .widget-inline-hbox .widget-label { max-width: none; width: auto; min-width: 0; white-space: normal;
  overflow: visible; height: auto; line-height: 1.4; }
.eb-proctor .widget-text, .eb-proctor .widget-dropdown, .eb-proctor .widget-datepicker,
.eb-proctor .widget-inline-hbox.widget-text { width: auto; max-width: 100%; }
.eb-proctor .widget-text input, .eb-proctor select, .eb-proctor input[type=date] { min-width: 0; max-width: 100%; }
.eb-proctor .widget-text input { flex: 1 1 8em; }
.eb-proctor .widget-text input[type=number] { flex: 0 1 6em; }
.eb-proctor .widget-dropdown select { flex: 1 1 auto; width: auto; }
.eb-proctor .widget-checkbox { width: auto; max-width: 100%; }
.eb-proctor .widget-checkbox label { white-space: normal; height: auto; }
.eb-proctor .jupyter-button { width: auto; height: auto; min-height: 32px; padding: 0.2em 0.8em; white-space: normal;
  margin: 2px 6px 2px 0; border: 1px solid #555; background: #f1f1f1; color: #111; }
.eb-proctor .jupyter-button.mod-primary { background: #0b4f8a; color: #fff; border-color: #0b4f8a; }
.eb-proctor .jupyter-button.mod-danger { background: #a11d1d; color: #fff; border-color: #a11d1d; }
.eb-proctor .jupyter-button.mod-warning { background: #8a4600; color: #fff; border-color: #8a4600; }
.eb-proctor :focus-visible { outline: 3px solid #b34700 !important; outline-offset: 2px; }
.eb-proctor h1 { font-size: 1.4em; margin: 0 0 0.2em; }
.eb-proctor h2 { font-size: 1.2em; margin: 0.8em 0 0.2em; }
.eb-proctor .eb-help { color: #4a4a4a; margin: 0; }
.eb-proctor .eb-bar { display: flex; flex-wrap: wrap; gap: 0.2em 1.5em; align-items: flex-end; }
.eb-proctor .eb-totals { display: flex; flex-wrap: wrap; gap: 0.4em; list-style: none; padding: 0; margin: 0.3em 0; }
.eb-proctor .eb-totals li { border: 1px solid #767676; border-radius: 4px; padding: 0.1em 0.6em; }
.eb-proctor .eb-totals strong { font-size: 1.2em; margin-right: 0.3em; }
.eb-proctor .eb-card { border: 1px solid #767676; border-left-width: 8px; border-radius: 4px; margin: 0.3em 0;
  padding: 0.3em 0.6em; width: 100%; max-width: 100%; }
.eb-proctor .eb-line { display: flex; flex-wrap: wrap; align-items: center; gap: 0.1em 1em; width: 100%; }
.eb-proctor .eb-line > .widget-html { flex: 1 1 30em; }
.eb-proctor .eb-fields { display: flex; flex-wrap: wrap; gap: 0.1em 0.8em; align-items: baseline; }
.eb-proctor .eb-fields h3 { font-size: 1em; margin: 0; flex: 0 0 11em; }
.eb-proctor .eb-fields .eb-id { font-weight: normal; color: #4a4a4a; }
.eb-proctor .eb-f { flex: 0 0 6em; }
.eb-proctor .eb-f.eb-wide { flex-basis: 10.5em; }
.eb-proctor .eb-k { color: #4a4a4a; font-size: 0.85em; display: block; line-height: 1.2; }
.eb-proctor .eb-badge { display: inline-block; border: 1px solid currentColor; border-radius: 3px; padding: 0 0.4em;
  font-weight: 600; line-height: 1.4; }
.eb-proctor .eb-st-not_arrived { background: #f1f1f1; color: #333; }
.eb-proctor .eb-st-signed_in { background: #e3eefa; color: #0b3d6b; }
.eb-proctor .eb-st-writing { background: #e3f3e6; color: #14532d; }
.eb-proctor .eb-st-submitted { background: #ececec; color: #222; }
.eb-proctor .eb-st-voided { background: #fdecec; color: #7a1414; }
.eb-proctor .eb-st-absent { background: #f3ecfa; color: #4b2470; }
.eb-proctor .eb-st-paused, .eb-proctor .eb-st-on_break { background: #fff4c2; color: #4d3b00; }
.eb-proctor .eb-st-late, .eb-proctor .eb-st-idle { background: #fff1dc; color: #6b3600; }
.eb-proctor .eb-card.eb-c-not_arrived { border-left-color: #767676; }
.eb-proctor .eb-card.eb-c-signed_in { border-left-color: #1c64a8; }
.eb-proctor .eb-card.eb-c-writing { border-left-color: #1d7a3a; }
.eb-proctor .eb-card.eb-c-submitted { border-left-color: #444; }
.eb-proctor .eb-card.eb-c-voided { border-left-color: #a11d1d; }
.eb-proctor .eb-card.eb-c-absent { border-left-color: #6a3d9a; }
.eb-proctor .eb-card.eb-c-paused, .eb-proctor .eb-card.eb-c-on_break { border-left-color: #8a6d00; }
.eb-proctor .eb-card.eb-c-attention { border-left-color: #b35c00; background: #fffaf2; }
.eb-proctor .eb-card.eb-chosen { outline: 3px solid #0b4f8a; }
.eb-proctor .eb-panel { border-top: 1px solid #767676; margin-top: 0.3em; padding-top: 0.3em; width: 100%; }
.eb-proctor .eb-panel h4 { font-size: 1em; margin: 0; }
.eb-proctor .eb-ok { border: 2px solid #1d6b31; background: #e3f3e6; color: #0f3d1c; padding: 0.3em 0.5em;
  margin: 0.2em 0; }
.eb-proctor .eb-error { border: 2px solid #a11d1d; background: #fdecec; color: #6b1010; padding: 0.3em 0.5em;
  margin: 0.2em 0; }
.eb-proctor table { border-collapse: collapse; }
.eb-proctor th, .eb-proctor td { text-align: left; padding: 0.2em 0.6em 0.2em 0; vertical-align: top; }
@media (max-width: 44em) {
  .eb-proctor .eb-fields h3 { flex-basis: 100%; }
  .eb-proctor .eb-f, .eb-proctor .eb-f.eb-wide { flex: 1 1 9em; }
  .eb-proctor table, .eb-proctor tbody, .eb-proctor tr, .eb-proctor td { display: block; }
  .eb-proctor thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  .eb-proctor tr { border-top: 1px solid #767676; padding: 0.2em 0; }
  .eb-proctor td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
}
</style>"""


def _e(text) -> str:
    return html.escape(str(text))


class _Card:
    """One candidate's card: the fields (HTML) and the button that opens the actions under it."""

    def __init__(self, sitting_id: int, on_choose: Callable[[int], None]):
        self.info = w.HTML()
        self.button = w.Button(layout=w.Layout(width="auto"))
        self.button.on_click(lambda _b: on_choose(sitting_id))
        self.line = w.HBox([self.info, self.button])
        self.line.add_class("eb-line")
        self.box = w.VBox([self.line])
        self.box.add_class("eb-card")
        self.look = ""

    def restyle(self, look: str) -> None:
        if look != self.look:
            if self.look:
                self.box.remove_class(f"eb-c-{self.look}")
            self.box.add_class(f"eb-c-{look}")
            self.look = look


class ProctorDashboard:
    """The room view: totals and cards that refresh themselves, audited actions under the chosen card."""

    def __init__(self, course, exam: str, actor: str | None = None, refresh_seconds: float | None = None,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.course, self.exam, self.clock = course, exam, clock
        self.settings = course.proctor_settings
        self.refresh_seconds = refresh_seconds or self.settings.refresh_seconds
        self.zone = ops.room_zone(course, strict=False)
        self.selected: int | None = None
        self.rows: list[Row] = []
        self._cards: dict[int, _Card] = {}
        self._item_counts: dict[int, int] = {}
        self._quiet = False  # set while the view itself changes its selectors
        self._date_is_today = True  # until the proctor picks a date: follows today (a page left open overnight)
        self._room_is_auto = True  # until the proctor picks a room: the one room of the date, else all rooms

        label = {"description_width": "initial"}
        # who acts, asked once (never the computer's login name)
        hub_name = identity.hub_name()
        self.proctor = w.Text(value=hub_name or actor or "", description="Your name", style=label,
                              layout=w.Layout(width="28em"), placeholder="as it should appear in the audit trail",
                              disabled=hub_name is not None)
        who_help = (f"Signed in through JupyterHub as {_e(hub_name)}; recorded with every change you make."
                    if hub_name else "Type your name once; it is recorded with every change you make.")
        # what is shown
        today = ops.room_today(course, clock())
        self.date = w.DatePicker(value=today, description="Date", style=label)
        self.room = w.Dropdown(description="Room", options=[("All rooms", ALL_ROOMS)], value=ALL_ROOMS, style=label)
        self.show = w.Dropdown(description="Show", options=[(v, k) for k, v in SHOW.items()], value="all", style=label)
        refresh = w.Button(description="Refresh now", layout=w.Layout(width="auto"))
        refresh.on_click(lambda _b: self.refresh())
        for box in (self.date, self.room, self.show):
            box.observe(self._on_view, names="value")
        self.totals = w.HTML()
        self.updated = w.HTML()
        self.cards = w.VBox([], layout=w.Layout(width="100%"))

        # the actions, under the chosen card
        self.panel_title = w.HTML()
        self.reason = w.Text(description="Reason", placeholder="e.g. computer froze for 10 minutes", style=label,
                             layout=w.Layout(width="32em"))
        self.minutes = w.BoundedIntText(value=10, min=1, max=ops.MAX_ADDED_MINUTES, description="Minutes to add",
                                        style=label, layout=w.Layout(width="auto"))
        self.scribe = w.Text(description="Scribe's name", style=label, layout=w.Layout(width="24em"))
        self.confirm_void = w.Checkbox(description="Yes, void this sitting", indent=False)
        self.message = w.HTML()
        self.controls = w.VBox([
            w.HTML("<p class='eb-help'>The reason is kept in the audit trail with your name; it stays here "
                   "for your next change until you change it.</p>"), self.reason,
            self._line(self.minutes, self._button("Add time", self._add_time, self.message, "primary")),
            self._line(self.scribe, self._button("Record scribe", self._record_scribe, self.message)),
            self._pause_line(),
            self._line(self._button("Mark absent", self._mark_absent, self.message, "warning"),
                       w.HTML("<span class='eb-help'>Not arrived and not coming: their code stops working.</span>")),
            self._line(self.confirm_void, self._button("Void sitting", self._void, self.message, "danger")),
        ])
        self.panel = w.VBox([self.panel_title, self.controls, self.message])
        self.panel.add_class("eb-panel")

        # a room's sign-in today
        self.windows = w.HTML()
        self.signin_room = w.Dropdown(description="Room for sign-in", options=[], style=label)
        self.signin_reason = w.Text(description="Reason for the sign-in change", placeholder="e.g. everyone is seated",
                                    style=label, layout=w.Layout(width="32em"))
        self.signin_message = w.HTML()
        # computers locked out after wrong codes
        self.lockouts = w.HTML()
        self.locked = w.Dropdown(description="Computer", options=[], style=label)
        self.unlock_reason = w.Text(description="Reason for unlocking", placeholder="e.g. checked the seat card",
                                    style=label, layout=w.Layout(width="32em"))
        self.unlock_message = w.HTML()
        self.alerts = w.HTML()
        # a receipt's confirmation number, looked up
        self.find = TextForm(label="Confirmation number", button="Find", placeholder="K7Q4-9MZX")
        self.find_message = w.HTML()
        self.find.on_submit(lambda text: self._run(lambda: self._find(text), self.find_message))

        self.root = w.VBox([
            w.HTML(style_css()),
            w.HTML(f"<h1>Proctor's room view: {_e(exam_title(course, exam))}</h1>"),
            self._line(self.proctor, w.HTML(f"<p class='eb-help'>{who_help}</p>")),
            self._line(self.date, self.room, self.show, refresh),
            self.totals, self.updated,
            w.HTML("<h2>Candidates</h2>"), self.cards,
            w.HTML("<h2>Sign-in for a room today</h2>"), self.windows, self.signin_room, self.signin_reason,
            self._line(self._button("Open sign-in now", self._open_now, self.signin_message, "primary"),
                       self._button("Close sign-in now", self._close_now, self.signin_message, "warning")),
            self.signin_message,
            *self._pause_room_section(label),
            w.HTML("<h2>Computers locked out after wrong access codes</h2>"), self.lockouts,
            self.locked, self.unlock_reason,
            self._line(self._button("Unlock this computer", self._unlock, self.unlock_message)),
            self.unlock_message,
            w.HTML("<h2>Find a confirmation number</h2>"), self.find, self.find_message,
            w.HTML("<h2>Alerts</h2>"), self.alerts,
        ], layout=w.Layout(padding="0.5em", width="100%"))
        self.root.add_class("eb-proctor")
        self.refresh()
        self._task = None
        try:
            self._task = asyncio.get_running_loop().create_task(self._loop())
        except RuntimeError:
            pass

    # -- plumbing -----------------------------------------------------------------------------------
    @staticmethod
    def _line(*children) -> w.HBox:
        """Widgets side by side that wrap under each other when the screen is narrow."""
        return w.HBox(list(children), layout=w.Layout(flex_flow="row wrap", align_items="center", width="100%"))

    def _button(self, label: str, fn, where: w.HTML, style: str = "") -> w.Button:
        b = w.Button(description=label, button_style=style, layout=w.Layout(width="auto"))
        b.on_click(lambda _b: self._run(fn, where))
        return b

    def _run(self, fn, where: w.HTML) -> None:
        """Run an action; a refusal is said in ``where``, beside the buttons, in plain words."""
        try:
            fn()
        except ExamBuilderError as exc:
            where.value = _say(str(exc), "refused")
        except Exception:  # noqa: BLE001 (log it; the proctor reads a sentence, never a traceback)
            log.exception("a proctor's action failed")
            where.value = _say("Something went wrong on this page. Check the candidate's card (it shows what "
                               "was saved) before you try again.", "refused")

    def _who(self) -> str:
        name = identity.actor(self.proctor.value)  # signed in through the hub: the hub user, whatever was typed
        if not name:
            raise ExamBuilderError("Type your name in “Your name” at the top first; it is recorded with every change.")
        return name

    @staticmethod
    def _why(box: w.Text) -> str:
        reason = (box.value or "").strip()
        if not reason:
            raise ExamBuilderError(f"Write the reason in “{box.description}” first; it is kept in the audit trail.")
        return reason

    # -- choosing a candidate -----------------------------------------------------------------------
    def row(self, sitting_id: int) -> Row | None:
        return next((r for r in self.rows if r.sitting_id == sitting_id), None)

    def choose(self, sitting_id: int | None) -> None:
        """Open the actions under a candidate's card (again on the chosen one: close them)."""
        if sitting_id == self.selected:
            sitting_id = None
        old = self._cards.get(self.selected) if self.selected is not None else None
        if old is not None:
            old.box.children = (old.line,)
            old.box.remove_class("eb-chosen")
        self.selected = sitting_id
        self.message.value = ""  # a message about the previous person leaves with them
        self.confirm_void.value = False
        self.refresh()

    def _attach_panel(self) -> None:
        r = self.row(self.selected) if self.selected is not None else None
        card = self._cards.get(self.selected) if self.selected is not None else None
        if r is None or card is None:
            return
        self.panel_title.value = f"<h4>Actions for {_e(r.name)} ({_e(r.candidate_id)}, sitting {r.sitting_id})</h4>"
        self.controls.layout.display = None if r.open else "none"
        if not r.open and not self.message.value:
            self.message.value = _say(f"This sitting is {STATE_TEXT[r.state].lower()}; nothing more can be "
                                      "changed here.", "note")
        if card.box.children != (card.line, self.panel):
            card.box.children = (card.line, self.panel)
        card.box.add_class("eb-chosen")

    # -- actions on the chosen sitting ---------------------------------------------------------------
    def _chosen(self) -> Row:
        r = self.row(self.selected) if self.selected is not None else None
        if r is None:
            raise ExamBuilderError("Choose a candidate first: press “Actions” on their card.")
        return r

    def _done(self, where: w.HTML, text: str) -> None:
        self.refresh()
        where.value = _say(text, "done")

    def _add_time(self) -> None:
        r = self._chosen()
        who, why = self._who(), self._why(self.reason)
        minutes = int(self.minutes.value)
        sit = ops.add_time(self.course, r.sitting_id, minutes, who, why)
        self._done(self.message, f"Added {minutes} minutes for {r.name}; their time is now "
                                 f"{format_minutes(sit.time_limit_minutes + sit.extra_minutes)} "
                                 f"({format_minutes(sit.extra_minutes)} added in all).")

    def _record_scribe(self) -> None:
        r = self._chosen()
        who, why = self._who(), self._why(self.reason)
        name = (self.scribe.value or "").strip()
        if not name:
            raise ExamBuilderError("Type the scribe's name first.")
        ops.record_scribe(self.course, r.sitting_id, name, who, why)
        self._done(self.message, f"{name} is recorded as the scribe for {r.name}; answers from now on say so.")

    def _mark_absent(self) -> None:
        r = self._chosen()
        who, why = self._who(), self._why(self.reason)
        ops.mark_absent(self.course, r.sitting_id, who, why, now=self.clock())
        counts = ("it counts as an attempt" if self.course.policy.absent_counts_as_attempt
                  else "it does not count as an attempt")
        self._done(self.message, f"{r.name} is marked absent: their code no longer works, and {counts}.")

    def _void(self) -> None:
        r = self._chosen()
        who, why = self._who(), self._why(self.reason)
        if not self.confirm_void.value:
            raise ExamBuilderError(f"Tick “Yes, void this sitting” first, to void {r.name}'s sitting.")
        ops.void(self.course, r.sitting_id, who, why)
        self.confirm_void.value = False
        self._done(self.message, f"{r.name}'s sitting is voided: it no longer counts as an attempt, and their "
                                 "screen stops accepting answers.")

    # -- pauses: one candidate, or a whole room ------------------------------------------------------------
    def _pause_line(self) -> w.HBox:
        return self._line(self._button("Pause", self._pause, self.message, "warning"),
                          self._button("Resume", self._resume, self.message, "primary"),
                          w.HTML("<span class='eb-help'>Pause stops this candidate's clock until you resume; they "
                                 "read your reason.</span>"))

    def _pause_room_section(self, label: dict) -> list[w.Widget]:
        """"Pause room" / "Resume room": every open sitting of the chosen room today (a fire alarm)."""
        self.pause_room = w.Dropdown(description="Room to pause or resume", options=[], style=label)
        self.pause_room_reason = w.Text(description="Reason for the pause", placeholder="e.g. fire alarm",
                                        style=label, layout=w.Layout(width="32em"))
        self.pause_room_message = w.HTML()
        return [w.HTML("<h2>Pause a room</h2><p class='eb-help'>Every candidate's clock in the room stops and "
                       "their screens say the exam is paused, with your reason (every candidate reads it: nothing "
                       "private); Resume room gives each the time they had.</p>"), self.pause_room,
                self.pause_room_reason,
                self._line(self._button("Pause room", self._pause_room, self.pause_room_message, "warning"),
                           self._button("Resume room", self._resume_room, self.pause_room_message, "primary")),
                self.pause_room_message]

    def _stop_field(self, r: Row, field, at) -> str:
        if r.stop.kind == "pause":
            why = f"{_e(r.stop.reason)}, " if r.stop.reason else ""
            return field("Paused", f"{why}since {_e(at(r.stop.since))}", wide=True)
        return field("On a break", f"until {_e(at(r.stop.until))} at the latest", wide=True)

    def _pause(self) -> None:
        r = self._chosen()
        who, why = self._who(), self._why(self.reason)
        ops.pause(self.course, r.sitting_id, who, why, now=self.clock())
        self._done(self.message, f"{r.name} is paused: their clock has stopped and their screen says why.")

    def _resume(self) -> None:
        r = self._chosen()
        who, why = self._who(), self._why(self.reason)
        _sit, stood = ops.resume(self.course, r.sitting_id, who, why, now=self.clock())
        self._done(self.message, f"{r.name} is back: {format_seconds(stood)} paused, added to their time.")

    def _pause_room_name(self) -> str:
        if self.pause_room.value is None:
            raise ExamBuilderError("Choose a room first.")
        return str(self.pause_room.value)

    def _pause_room(self) -> None:
        room = self._pause_room_name()
        who, why = self._who(), self._why(self.pause_room_reason)
        paused = ops.pause_room(self.course, self.exam, room, who, why, now=self.clock())
        self._done(self.pause_room_message, f"Room {room} is paused ({len(paused)} candidate(s)): the clocks "
                                            "have stopped.")

    def _resume_room(self) -> None:
        room = self._pause_room_name()
        who, why = self._who(), self._why(self.pause_room_reason)
        resumed = ops.resume_room(self.course, self.exam, room, who, why, now=self.clock())
        self._done(self.pause_room_message, f"Room {room} is resumed ({len(resumed)} candidate(s)); each has "
                                            "the time they had when it was paused.")

    def _refresh_pause_rooms(self, now: dt.datetime) -> None:
        rooms = tuple(room_windows(self.course, self.exam, ops.room_today(self.course, now)))
        current = self.pause_room.value
        if rooms != tuple(self.pause_room.options):
            self.pause_room.options = rooms
        if current in rooms:
            self.pause_room.value = current
        elif self._room_filter() in rooms:
            self.pause_room.value = self._room_filter()

    # -- a room's sign-in, locked computers ------------------------------------------------------------
    def _signin_room(self) -> str:
        if self.signin_room.value is None:
            raise ExamBuilderError("Choose a room first.")
        return str(self.signin_room.value)

    def _open_now(self) -> None:
        room = self._signin_room()
        who, why = self._who(), self._why(self.signin_reason)
        changed = ops.open_now(self.course, self.exam, room, who, why)
        self._done(self.signin_message, f"Sign-in is open now in room {room} ({len(changed)} candidate(s)).")

    def _close_now(self) -> None:
        room = self._signin_room()
        who, why = self._who(), self._why(self.signin_reason)
        changed = ops.close_now(self.course, self.exam, room, who, why)
        self._done(self.signin_message, f"Sign-in is closed now in room {room} ({len(changed)} candidate(s)); "
                                        "candidates already started carry on.")

    def _unlock(self) -> None:
        if self.locked.value is None:
            raise ExamBuilderError("Choose a locked computer first.")
        who, why = self._who(), self._why(self.unlock_reason)
        source = str(self.locked.value)
        ops.unlock_source(self.course, source, who, why)
        self._done(self.unlock_message, f"Computer {source} is unlocked; its candidate can sign in again.")

    def _find(self, text: str) -> None:
        found = find_confirmation(self.course.db, text)
        if not found:
            self.find_message.value = _say(f"No submitted sitting has confirmation number {text.strip().upper()}. "
                                           "Check it letter by letter (it has no I, L, O or U).", "note")
            return
        self.find_message.value = "".join(_say(
            f"{m.number}: {m.candidate_name} ({m.candidate_id}), exam {m.exam_id}, room {m.room or '-'}, "
            f"submitted at {window.when_text(m.submitted_at, self.zone)} "
            f"({SUBMITTED_BY.get(m.submit_reason, m.submit_reason)}).", "note") for m in found)

    # -- refreshing -------------------------------------------------------------------------------------
    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 (a database hiccup: try again next time)
                log.exception("the proctor's view could not refresh")

    def _on_view(self, change) -> None:
        if self._quiet:
            return
        if change["owner"] is self.date:
            self._date_is_today = change["new"] == ops.room_today(self.course, self.clock())
        if change["owner"] is self.room:
            self._room_is_auto = False
        self.refresh()

    def _room_filter(self) -> str | None:
        return None if self.room.value in (ALL_ROOMS, None) else str(self.room.value)

    def refresh(self) -> None:
        """Re-read the room; widgets change in place (a box being typed in keeps its focus)."""
        now = self.clock()
        today = ops.room_today(self.course, now)
        self._quiet = True
        try:
            if self._date_is_today and self.date.value != today:  # the page was left open past midnight
                self.date.value = today
            on = self.date.value or today
            self._refresh_rooms_choice(None if self.show.value == "every_date" else on, live=on == today)
        finally:
            self._quiet = False
        on = self.date.value or today
        room = self._room_filter()
        absence.settle_course(self.course, now, exam_id=self.exam)  # no-shows past their window: absent, stored
        if self.show.value == "every_date":
            self.rows = overview(self.course, self.exam, now, room=room, item_counts=self._item_counts)
            self.rows.sort(key=lambda r: r.scheduled_on or dt.date.min, reverse=True)  # the latest date first
            counted = [r for r in self.rows if r.scheduled_on == on]
        else:
            self.rows = overview(self.course, self.exam, now, on=on, room=room, live=on == today,
                                 item_counts=self._item_counts)
            counted = self.rows
        marks = {r.sitting_id: mark(r, now, self.settings, self.zone) for r in self.rows}
        self._refresh_totals(counted, marks, on, room)
        keep = {"all": lambda r: True, "every_date": lambda r: True, "open": lambda r: r.open,
                "attention": lambda r: marks[r.sitting_id] is not None}[self.show.value]
        shown = [r for r in self.rows if keep(r) or r.sitting_id == self.selected]
        self._refresh_cards(shown, marks, now, several_rooms=room is None)
        stamp = clock.clock_12h(now, self.zone, seconds=True)
        self.updated.value = (f"<p class='eb-help'>Updated at {_e(stamp)}; "
                              f"this page refreshes itself every {self.refresh_seconds:g} seconds.</p>")
        self._refresh_rooms(now)
        self._refresh_pause_rooms(now)
        self._refresh_lockouts(now)
        self._refresh_alerts()

    def _refresh_rooms_choice(self, on: dt.date | None, live: bool) -> None:
        rooms = rooms_on(self.course, self.exam, on, live)
        options = [(f"All rooms ({len(rooms)})", ALL_ROOMS)] + [(r, r) for r in rooms]
        current = self.room.value
        if tuple(options) != tuple(self.room.options):
            self.room.options = options
        if self._room_is_auto:
            self.room.value = rooms[0] if len(rooms) == 1 else ALL_ROOMS
        else:
            self.room.value = current if current in rooms else ALL_ROOMS

    def _refresh_totals(self, rows: list[Row], marks: dict[int, Mark | None], on: dt.date, room: str | None) -> None:
        counts = totals(rows)
        late = sum(1 for r in rows if (m := marks.get(r.sitting_id)) and m.kind == "late")
        idle = sum(1 for r in rows if (m := marks.get(r.sitting_id)) and m.kind == "idle")
        where = f"room {_e(room)}" if room is not None else "all rooms"
        items = "".join(f"<li class='eb-st-{k}'><strong>{n}</strong> {_e(STATE_TEXT[k].lower())}</li>"
                        for k, n in counts.items())
        items += (f"<li class='eb-st-late'><strong>{late}</strong> late</li>"
                  f"<li class='eb-st-idle'><strong>{idle}</strong> idle</li>")
        self.totals.value = (f"<h2>{_e(window.day_text(on))}, {where}: {len(rows)} candidate(s)</h2>"
                             f"<ul class='eb-totals' aria-label='Totals'>{items}</ul>")

    def _refresh_cards(self, shown: list[Row], marks: dict[int, Mark | None], now: dt.datetime,
                       several_rooms: bool) -> None:
        if self.selected is not None and self.row(self.selected) is None:
            self.selected = None  # gone from every filter (another date chosen)
        for r in shown:
            card = self._cards.get(r.sitting_id)
            if card is None:
                card = self._cards[r.sitting_id] = _Card(
                    r.sitting_id, lambda sid: self._run(lambda: self.choose(sid), self.message))
            m = marks.get(r.sitting_id)
            card.info.value = self._card_html(r, m, now, several_rooms)
            chosen = r.sitting_id == self.selected
            card.button.description = (f"Close actions for {r.name}" if chosen else f"Actions for {r.name}")
            card.restyle("attention" if m is not None else r.state)
            if not chosen and card.box.children != (card.line,):
                card.box.children = (card.line,)
                card.box.remove_class("eb-chosen")
        boxes = tuple(self._cards[r.sitting_id].box for r in shown)
        if not boxes:
            boxes = (w.HTML("<p>No candidates to show here. Choose another date, room or “Show”.</p>"),)
        if boxes != self.cards.children:
            self.cards.children = boxes
        self._attach_panel()

    def _card_html(self, r: Row, m: Mark | None, now: dt.datetime, several_rooms: bool) -> str:
        at = lambda t: window.clock_12h(window.local(t, self.zone))  # noqa: E731

        def field(key: str, value: str, wide: bool = False) -> str:
            return (f"<span class='eb-f{' eb-wide' if wide else ''}'><span class='eb-k'>{key}</span>"
                    f"{value}</span>")

        state = f"<span class='eb-badge eb-st-{r.state}'>{_e(STATE_TEXT[r.state])}</span>"
        if m is not None:
            state += f" <span class='eb-badge eb-st-{m.kind}'>{_e(m.text)}</span>"
        if r.state == "signed_in":
            when = field("Signed in", _e(at(r.signed_in_at)))
        elif not r.open and r.finished_at is not None:
            when = field(STATE_TEXT[r.state], _e(at(r.finished_at)))
        elif r.started_at is not None:
            when = field("Started", _e(at(r.started_at)))
        else:
            when = field("Started", "not yet")
        extra = f" (+{r.extra_minutes} min)" if r.extra_minutes else ""
        if r.time_left is not None:
            left = f"{clock_text(r.time_left)}{extra}"
        elif r.open:  # not started: the whole time is still theirs
            left = f"{clock_text(dt.timedelta(minutes=r.time_limit_minutes + r.extra_minutes))}{extra}"
        else:
            left = "none"
        last = "none yet"
        if r.last_answer_at is not None:
            ago = int((now - r.last_answer_at).total_seconds() // 60)
            last = f"{_e(at(r.last_answer_at))} ({'just now' if ago < 1 else f'{ago} min ago'})"
        parts = [f"<h3>{_e(r.name)} <span class='eb-id'>{_e(r.candidate_id)}</span></h3>",
                 field("Status", state, wide=True), when, field("Time left", left),
                 field("Answered", f"{r.answered} of {r.total}"), field("Last answer", last, wide=True)]
        if several_rooms or self.show.value == "every_date":
            place = _e(r.room or "no room")
            if self.show.value == "every_date" and r.scheduled_on is not None:
                place += f", {_e(window.day_text(r.scheduled_on))} {r.scheduled_on.year}"
            parts.append(field("Room", place, wide=True))
        if r.scribe:
            parts.append(field("Scribe", _e(r.scribe)))
        if r.stop is not None:
            parts.append(self._stop_field(r, field, at))
        return f"<div class='eb-fields'>{''.join(parts)}</div>"

    def _refresh_rooms(self, now: dt.datetime) -> None:
        wins = room_windows(self.course, self.exam, ops.room_today(self.course, now))
        lines = []
        for room, (opens, closes) in wins.items():
            state = "open" if (opens and closes and opens <= now < closes) else "closed"
            lines.append(f"<li>{_e(room)}: sign-in {state} ({_e(window.window_text(opens, closes, self.zone))})</li>")
        self.windows.value = ("<ul>" + "".join(lines) + "</ul>") if lines else "<p>No sittings for today.</p>"
        current = self.signin_room.value
        if tuple(wins) != tuple(self.signin_room.options):
            self.signin_room.options = list(wins)
        if current in wins:
            self.signin_room.value = current
        elif self._room_filter() in wins:
            self.signin_room.value = self._room_filter()

    def _refresh_lockouts(self, now: dt.datetime) -> None:
        locks = ops.lockouts(self.course, now)
        if locks:
            rows = "".join(f"<tr><td data-label='Computer'>{_e(lk.source)}</td>"
                           f"<td data-label='Wrong codes'>{lk.wrong_codes}</td>"
                           f"<td data-label='Locked at'>{_e(window.when_text(lk.locked_at, self.zone))}</td>"
                           "<td data-label='Unlocks by itself "
                           f"at'>{_e(window.when_text(lk.until, self.zone))}</td></tr>"
                           for lk in locks)
            self.lockouts.value = ("<table><thead><tr><th scope='col'>Computer</th>"
                                   "<th scope='col'>Wrong codes</th><th scope='col'>Locked at</th>"
                                   "<th scope='col'>Unlocks by itself "
                                   "at</th></tr></thead><tbody>" + rows + "</tbody></table>")
        else:
            self.lockouts.value = "<p>No computer is locked out.</p>"
        current = self.locked.value
        sources = tuple(dict.fromkeys(lk.source for lk in locks))
        if sources != tuple(self.locked.options):
            self.locked.options = sources
        if current in sources:
            self.locked.value = current

    def _refresh_alerts(self) -> None:
        items = alerts(self.course, self.exam)
        if not items:
            self.alerts.value = "<p>No alerts.</p>"
            return
        self.alerts.value = ("<table><thead><tr><th scope='col'>Time</th><th scope='col'>Candidate</th>"
                             "<th scope='col'>What happened</th></tr></thead><tbody>" + "".join(
                                 f"<tr><td data-label='Time'>{_e(window.clock_12h(window.local(a.at, self.zone)))}</td>"
                                 f"<td data-label='Candidate'>{_e(a.name)} ({_e(a.candidate_id)}, sitting "
                                 f"{a.sitting_id})</td>"
                                 f"<td data-label='What happened'>{_e(a.text)}</td></tr>" for a in items)
                             + "</tbody></table>")


SUBMITTED_BY = {"candidate": "by the candidate", "deadline": "automatically at the deadline",
                "proctor": "by a proctor"}


def _say(text: str, kind: str) -> str:
    """A message beside the buttons: ``done``, ``refused`` (an alert) or a ``note`` (words, not only colour)."""
    if kind == "refused":
        return f"<p role='alert' class='eb-error'>Not done: {_e(text)}</p>"
    prefix = "Done: " if kind == "done" else ""
    return f"<p role='status' class='eb-ok'>{prefix}{_e(text)}</p>"


def launch(course_root: str | None = None, exam: str | None = None):
    """The one code cell of ``proctor.ipynb`` (also usable in JupyterLab)."""
    from IPython.display import display

    from ..course import Course

    course = Course(course_root)
    identity.standalone()  # the standalone token mode: names are typed
    dash = ProctorDashboard(course, course.exam_name(exam or os.environ.get("EXAM_BUILDER_EXAM")))
    display(dash.root)
    return dash
