"""The proctor's room view (ipywidgets; JupyterLab or ``exam-builder proctor``, never the candidates' server).

The widgets draw a ``proctor_session.ProctorSession`` (the room's state and every action, UI-free) and
call it for each reading and change; nothing here reads or writes the database itself.

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
  have their own sections, each with its message beside its buttons and its reason box on the
  buttons' line, labelled for them (never above another section's box). A change refused for a box
  left empty (your name, a reason, the scribe's name, the void's tick) names the box and puts the
  cursor in it.
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

import ipywidgets as w

from .. import clock
from ..errors import ExamBuilderError
from ..records import identity
from ..records.models import utcnow
from ..ui.page import status_html
from ..ui.widgets import TextForm
from . import sittings as ops, window
from .candidate_app import clock_text
from .proctor_session import (
    ALL_ROOMS,
    CONFIRM_VOID,
    NAME,
    PAUSE_REASON,
    REASON,
    RESUME_NOTE,
    SCRIBE,
    SHOW,
    SIGNIN_REASON,
    STATE_TEXT,
    UNLOCK_REASON,
    BoxToFill,
    Mark,
    ProctorSession,
    RoomState,
    Row,
)

log = logging.getLogger(__name__)


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
    """The room view: totals and cards that refresh themselves, audited actions under the chosen card.

    It draws a ``ProctorSession`` (``self.session``) and calls it for every reading and change."""

    def __init__(self, course, exam: str, actor: str | None = None, refresh_seconds: float | None = None,
                 clock: Callable[[], dt.datetime] = utcnow):
        self.session = ProctorSession(course, exam, actor, clock)
        self.course, self.exam, self.clock = course, exam, clock
        self.settings = course.proctor_settings
        self.refresh_seconds = refresh_seconds or self.settings.refresh_seconds
        self.zone = self.session.zone
        self._cards: dict[int, _Card] = {}
        self._quiet = False  # set while the view itself changes its selectors

        label = {"description_width": "initial"}
        # who acts, asked once (never the computer's login name)
        hub_name = self.session.hub_name
        self.proctor = w.Text(value=self.session.name, description=NAME, style=label,
                              layout=w.Layout(width="28em"), placeholder="as it should appear in the audit trail",
                              disabled=hub_name is not None)
        self.proctor.observe(self._on_name, names="value")
        who_help = (f"Signed in through JupyterHub as {_e(hub_name)}; recorded with every change you make."
                    if hub_name else "Type your name once; it is recorded with every change you make.")
        # what is shown
        self.date = w.DatePicker(value=self.session.on, description="Date", style=label)
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
        self.reason = w.Text(description=REASON, placeholder="e.g. computer froze for 10 minutes", style=label,
                             layout=w.Layout(width="32em"))
        self.minutes = w.BoundedIntText(value=10, min=1, max=ops.MAX_ADDED_MINUTES, description="Minutes to add",
                                        style=label, layout=w.Layout(width="auto"))
        self.scribe = w.Text(description=SCRIBE, style=label, layout=w.Layout(width="24em"))
        self.resume_note = w.Text(description=RESUME_NOTE, placeholder="e.g. feels better", style=label,
                                  layout=w.Layout(width="22em", max_width="100%"))
        self.confirm_void = w.Checkbox(description=CONFIRM_VOID, indent=False)
        self.message = w.HTML()
        self.controls = w.VBox([
            w.HTML("<p class='eb-help'>The reason is kept in the audit trail with your name; it stays here "
                   "for your next change until you change it. Pause stops this candidate's clock until you "
                   "resume, and they read your reason on their screen.</p>"), self.reason,
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
        self.signin_reason = w.Text(description=SIGNIN_REASON, placeholder="e.g. everyone is seated",
                                    style=label, layout=w.Layout(width="32em"))
        self.signin_message = w.HTML()
        # computers locked out after wrong codes
        self.lockouts = w.HTML()
        self.locked = w.Dropdown(description="Computer", options=[], style=label)
        self.unlock_reason = w.Text(description=UNLOCK_REASON, placeholder="e.g. checked the seat card",
                                    style=label, layout=w.Layout(width="32em"))
        self.unlock_message = w.HTML()
        self.alerts = w.HTML()
        # a receipt's confirmation number, looked up
        self.find = TextForm(label="Confirmation number", button="Find", placeholder="K7Q4-9MZX")
        self.find_message = w.HTML()
        self.find.on_submit(lambda text: self._run(lambda: self._find(text), self.find_message))

        self.root = w.VBox([
            w.HTML(style_css()),
            w.HTML(f"<h1>Proctor's room view: {_e(self.session.title())}</h1>"),
            self._line(self.proctor, w.HTML(f"<p class='eb-help'>{who_help}</p>")),
            self._line(self.date, self.room, self.show, refresh),
            self.totals, self.updated,
            w.HTML("<h2>Candidates</h2>"), self.cards,
            w.HTML("<h2>Sign-in for a room today</h2>"), self.windows, self.signin_room,
            self._line(self.signin_reason,  # beside the buttons it is for, never above another section's box
                       self._button("Open sign-in now", self._open_now, self.signin_message, "primary"),
                       self._button("Close sign-in now", self._close_now, self.signin_message, "warning")),
            self.signin_message,
            *self._pause_room_section(label),
            w.HTML("<h2>Computers locked out after wrong access codes</h2>"), self.lockouts,
            self.locked,
            self._line(self.unlock_reason, self._button("Unlock this computer", self._unlock, self.unlock_message)),
            self.unlock_message,
            w.HTML("<h2>Find a confirmation number</h2>"), self.find, self.find_message,
            w.HTML("<h2>Alerts</h2>"), self.alerts,
        ], layout=w.Layout(padding="0.5em", width="100%"))
        self.root.add_class("eb-proctor")
        #: each box a refusal may name (``BoxToFill.box``), by its label: the cursor goes there
        self.boxes: dict[str, w.DOMWidget] = {
            NAME: self.proctor, REASON: self.reason, SCRIBE: self.scribe, CONFIRM_VOID: self.confirm_void,
            SIGNIN_REASON: self.signin_reason, PAUSE_REASON: self.pause_room_reason,
            UNLOCK_REASON: self.unlock_reason}
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
        """Run an action; a refusal is said in ``where``, beside the buttons, in plain words, and when it
        names a box to fill, the cursor moves to that box."""
        try:
            fn()
        except BoxToFill as exc:  # a box left empty: said beside the button, and the cursor put in the box
            where.value = _say(str(exc), "refused")
            box = self.boxes.get(exc.box)
            if box is not None and not getattr(box, "disabled", False):
                box.focus()
        except ExamBuilderError as exc:
            where.value = _say(str(exc), "refused")
        except Exception:  # noqa: BLE001 (log it; the proctor reads a sentence, never a traceback)
            log.exception("a proctor's action failed")
            where.value = _say("Something went wrong on this page. Check the candidate's card (it shows what "
                               "was saved) before you try again.", "refused")

    def _on_name(self, change) -> None:
        self.session.name = change["new"] or ""  # signed in through the hub, the session records the hub user

    # -- choosing a candidate -----------------------------------------------------------------------
    @property
    def selected(self) -> int | None:
        return self.session.selected

    @property
    def rows(self) -> list[Row]:
        return self.session.rows

    def row(self, sitting_id: int) -> Row | None:
        return self.session.row(sitting_id)

    def choose(self, sitting_id: int | None) -> None:
        """Open the actions under a candidate's card (again on the chosen one: close them)."""
        old = self._cards.get(self.selected) if self.selected is not None else None
        if old is not None:
            old.box.children = (old.line,)
            old.box.remove_class("eb-chosen")
        self.session.choose(sitting_id)
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
    def _done(self, where: w.HTML, text: str) -> None:
        self.refresh()
        where.value = _say(text, "done")

    def _add_time(self) -> None:
        self._done(self.message, self.session.add_time(int(self.minutes.value), self.reason.value))

    def _record_scribe(self) -> None:
        self._done(self.message, self.session.record_scribe(self.scribe.value, self.reason.value))

    def _mark_absent(self) -> None:
        self._done(self.message, self.session.mark_absent(self.reason.value))

    def _void(self) -> None:
        text = self.session.void(self.reason.value, bool(self.confirm_void.value))
        self.confirm_void.value = False
        self._done(self.message, text)

    # -- pauses: one candidate, or a whole room ------------------------------------------------------------
    def _pause_line(self) -> w.HBox:
        """Pause (with the Reason above: the candidate reads it), and Resume with its own optional note."""
        return self._line(self._button("Pause", self._pause, self.message, "warning"), self.resume_note,
                          self._button("Resume", self._resume, self.message, "primary"),
                          w.HTML("<span class='eb-help'>A resume needs no reason.</span>"))

    def _pause_room_section(self, label: dict) -> list[w.Widget]:
        """"Pause room" / "Resume room": every open sitting of the chosen room today (a fire alarm)."""
        self.pause_room = w.Dropdown(description="Room to pause or resume", options=[], style=label)
        self.pause_room_reason = w.Text(description=PAUSE_REASON, placeholder="e.g. fire alarm",
                                        style=label, layout=w.Layout(width="32em"))
        self.resume_room_note = w.Text(description=RESUME_NOTE, placeholder="e.g. all clear",
                                       style=label, layout=w.Layout(width="32em"))
        self.pause_room_message = w.HTML()
        return [w.HTML("<h2>Pause a room</h2><p class='eb-help'>Every candidate's clock in the room stops and "
                       "their screens say the exam is paused, with your reason (every candidate reads it: nothing "
                       "private); Resume room needs no reason and gives each the time they had.</p>"),
                self.pause_room,
                self._line(self.pause_room_reason,
                           self._button("Pause room", self._pause_room, self.pause_room_message, "warning")),
                self._line(self.resume_room_note,
                           self._button("Resume room", self._resume_room, self.pause_room_message, "primary")),
                self.pause_room_message]

    def _stop_field(self, r: Row, field, at) -> str:
        if r.stop.kind == "pause":
            why = f"{_e(r.stop.reason)}, " if r.stop.reason else ""
            return field("Paused", f"{why}since {_e(at(r.stop.since))}", wide=True)
        return field("On a break", f"until {_e(at(r.stop.until))} at the latest", wide=True)

    def _pause(self) -> None:
        self._done(self.message, self.session.pause(self.reason.value))

    def _resume(self) -> None:
        self._done(self.message, self.session.resume(self.resume_note.value))
        self.resume_note.value = ""  # a note belongs to this resume only

    def _pause_room(self) -> None:
        text = self.session.pause_room(self.pause_room.value, self.pause_room_reason.value)
        self._done(self.pause_room_message, text)

    def _resume_room(self) -> None:
        text = self.session.resume_room(self.pause_room.value, self.resume_room_note.value)
        self.resume_room_note.value = ""  # a note belongs to this resume only
        self._done(self.pause_room_message, text)

    def _refresh_pause_rooms(self, st: RoomState) -> None:
        rooms = tuple(st.windows)
        current = self.pause_room.value
        if rooms != tuple(self.pause_room.options):
            self.pause_room.options = rooms
        if current in rooms:
            self.pause_room.value = current
        elif st.room in rooms:
            self.pause_room.value = st.room

    # -- a room's sign-in, locked computers ------------------------------------------------------------
    def _open_now(self) -> None:
        self._done(self.signin_message, self.session.open_now(self.signin_room.value, self.signin_reason.value))

    def _close_now(self) -> None:
        self._done(self.signin_message, self.session.close_now(self.signin_room.value, self.signin_reason.value))

    def _unlock(self) -> None:
        self._done(self.unlock_message, self.session.unlock(self.locked.value, self.unlock_reason.value))

    def _find(self, text: str) -> None:
        self.find_message.value = "".join(_say(line, "note") for line in self.session.find(text).lines)

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
            self.session.set_date(change["new"])
        if change["owner"] is self.room:
            self.session.set_room(change["new"])
        if change["owner"] is self.show:
            self.session.set_show(change["new"])
        self.refresh()

    def refresh(self) -> None:
        """Re-read the room; widgets change in place (a box being typed in keeps its focus)."""
        st = self.session.refresh()
        self._quiet = True
        try:
            if self.session.follows_today and self.date.value != st.on:  # the page was left open past midnight
                self.date.value = st.on
            options = [(f"All rooms ({len(st.rooms)})", ALL_ROOMS)] + [(r, r) for r in st.rooms]
            if tuple(options) != tuple(self.room.options):
                self.room.options = options
            self.room.value = ALL_ROOMS if st.room is None else st.room
        finally:
            self._quiet = False
        self._refresh_totals(st)
        self._refresh_cards(st)
        stamp = clock.clock_12h(st.now, self.zone, seconds=True)
        self.updated.value = (f"<p class='eb-help'>Updated at {_e(stamp)}; "
                              f"this page refreshes itself every {self.refresh_seconds:g} seconds.</p>")
        self._refresh_rooms(st)
        self._refresh_pause_rooms(st)
        self._refresh_lockouts(st)
        self._refresh_alerts(st)

    def _refresh_totals(self, st: RoomState) -> None:
        where = _e(ops.room_said(st.room)) if st.room is not None else "all rooms"
        items = "".join(f"<li class='eb-st-{k}'><strong>{n}</strong> {_e(STATE_TEXT[k].lower())}</li>"
                        for k, n in st.totals.items())
        items += (f"<li class='eb-st-late'><strong>{st.marked('late')}</strong> late</li>"
                  f"<li class='eb-st-idle'><strong>{st.marked('idle')}</strong> idle</li>")
        self.totals.value = (f"<h2>{_e(window.day_text(st.on))}, {where}: {len(st.counted)} candidate(s)</h2>"
                             f"<ul class='eb-totals' aria-label='Totals'>{items}</ul>")

    def _refresh_cards(self, st: RoomState) -> None:
        shown, marks, now, several_rooms = st.shown, st.marks, st.now, st.room is None
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
        at = lambda t: clock.said(t, self.zone, now=now)  # noqa: E731  (the candidate's form; its day if not today)

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
        if several_rooms or self.session.show == "every_date":
            place = _e(r.room or "no room")
            if self.session.show == "every_date" and r.scheduled_on is not None:
                place += f", {_e(window.day_text(r.scheduled_on))} {r.scheduled_on.year}"
            parts.append(field("Room", place, wide=True))
        if r.scribe:
            parts.append(field("Scribe", _e(r.scribe)))
        if r.stop is not None:
            parts.append(self._stop_field(r, field, at))
        return f"<div class='eb-fields'>{''.join(parts)}</div>"

    def _refresh_rooms(self, st: RoomState) -> None:
        wins, now = st.windows, st.now
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
        elif st.room in wins:
            self.signin_room.value = st.room

    def _refresh_lockouts(self, st: RoomState) -> None:
        locks = st.lockouts
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

    def _refresh_alerts(self, st: RoomState) -> None:
        items = st.alerts
        if not items:
            self.alerts.value = "<p>No alerts.</p>"
            return
        self.alerts.value = ("<table><thead><tr><th scope='col'>Time</th><th scope='col'>Candidate</th>"
                             "<th scope='col'>What happened</th></tr></thead><tbody>" + "".join(
                                 f"<tr><td data-label='Time'>{_e(clock.said(a.at, self.zone, now=st.now))}</td>"
                                 f"<td data-label='Candidate'>{_e(a.name)} ({_e(a.candidate_id)}, sitting "
                                 f"{a.sitting_id})</td>"
                                 f"<td data-label='What happened'>{_e(a.text)}</td></tr>" for a in items)
                             + "</tbody></table>")


def _say(text: str, kind: str) -> str:
    """A message beside the buttons: ``done``, ``refused`` (an alert) or a ``note`` (words, not only colour)."""
    return status_html(text, kind, done_prefix="Done: ")


def launch(course_root: str | None = None, exam: str | None = None):
    """The one code cell of ``proctor.ipynb`` (also usable in JupyterLab)."""
    from IPython.display import display

    from ..course import Course

    course = Course(course_root)
    identity.standalone()  # the standalone token mode: names are typed
    dash = ProctorDashboard(course, course.exam_name(exam or os.environ.get("EXAM_BUILDER_EXAM")))
    display(dash.root)
    return dash
