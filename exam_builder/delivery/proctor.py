"""The proctor's dashboard (ipywidgets; JupyterLab or ``exam-builder proctor``, never the candidates' server).

Who is in, how far along, how much time is left; and the proctor's audited actions: add time to
one candidate, record a scribe, void a sitting, open or close a room's sign-in now, unlock a
computer locked out after wrong codes. Every action goes through ``delivery.sittings``, which
records who and why in the same transaction. Alerts list what needs the proctor's eyes: a
sitting opened on another screen, refused sign-ins and changes, journal limits.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import os
from dataclasses import dataclass

import ipywidgets as w
from sqlalchemy import func, select

from ..errors import ExamBuilderError
from ..records.audit import current_actor
from ..records.models import Candidate, Form, Response, Sitting, SittingEvent, utcnow
from . import sittings as ops
from . import window
from .candidate_app import clock_text
from .form_view import load_form_view, released_notebook_path

#: Sitting events the proctor is shown as alerts.
ALERT_KINDS = ("taken_over", "sign_in_refused", "refused_change", "limit")


@dataclass(frozen=True)
class Row:
    sitting_id: int
    candidate_id: str
    name: str
    room: str
    status: str
    answered: int
    total: int
    time_left: dt.timedelta | None
    extra_minutes: int
    scribe: str | None
    time_limit_minutes: int = 0


def overview(course, exam: str, now: dt.datetime | None = None) -> list[Row]:
    """One row per sitting of the exam, for the dashboard and the demo's table."""
    now = now or utcnow()
    with course.db.read() as s:
        sits = s.execute(select(Sitting, Candidate, Form.assignment)
                         .join(Candidate, Candidate.id == Sitting.candidate_id)
                         .outerjoin(Form, Form.id == Sitting.form_id)
                         .where(Sitting.exam_id == exam).order_by(Sitting.room, Candidate.last_name, Sitting.id)).all()
        last = (select(func.max(Response.id)).group_by(Response.sitting_id, Response.item_id).scalar_subquery())
        answered = dict(s.execute(select(Response.sitting_id, func.count()).where(
            Response.id.in_(last), Response.value.is_not(None), Response.value != "").group_by(Response.sitting_id)).all())
        totals: dict[int, int] = {}
        rows = []
        for sit, cand, assignment in sits:
            if sit.form_id not in totals:  # each form's notebook is read once per refresh
                try:
                    totals[sit.form_id] = len(load_form_view(released_notebook_path(course, assignment)).items)
                except ExamBuilderError:
                    totals[sit.form_id] = 0
            left = None
            if sit.status == "in_progress" and sit.deadline is not None:
                left = max(sit.deadline - now, dt.timedelta(0))
            rows.append(Row(sit.id, cand.id, cand.name, sit.room, sit.status, answered.get(sit.id, 0),
                            totals[sit.form_id], left, sit.extra_minutes, sit.scribe_name,
                            sit.time_limit_minutes))
    return rows


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
                 else f"on another computer ({d.get('source', 'unknown')}; before: {d.get('previous_source', 'unknown')})")
        return f"Exam opened {where}; the earlier screen no longer accepts answers."
    if kind == "sign_in_refused":
        why = d.get("why")
        text = {"used": "Sign-in refused: the code was already used",
                "time_up": "Sign-in refused: the time was over (submitted automatically)",
                "window": "Sign-in refused: outside the sign-in window",
                "not_eligible": "Sign-in refused: " + "; ".join(d.get("reasons") or ["not eligible today"])}.get(
            why, f"Sign-in refused ({why})")
        return f"{text} (from {d.get('source', 'unknown')})."
    if kind == "refused_change":
        return f"A change to {d.get('item', '?')} was refused ({d.get('why', '')})."
    if kind == "limit":
        what = {"rate": "too many saves in a minute", "rows": "the most changes a sitting may save",
                "size": "an answer longer than allowed"}.get(d.get("limit"), str(d.get("limit")))
        return f"Limit reached: {what}."
    return kind


def alerts(course, exam: str, limit: int = 20) -> list[Alert]:
    """The latest alert events of an exam's sittings, newest first."""
    with course.db.read() as s:
        rows = s.execute(select(SittingEvent, Sitting.candidate_id, Candidate)
                         .join(Sitting, Sitting.id == SittingEvent.sitting_id)
                         .join(Candidate, Candidate.id == Sitting.candidate_id)
                         .where(Sitting.exam_id == exam, SittingEvent.kind.in_(ALERT_KINDS))
                         .order_by(SittingEvent.id.desc()).limit(limit)).all()
        return [Alert(e.at, e.sitting_id, cid, cand.name, e.kind, describe(e.kind, e.details)) for e, cid, cand in rows]


def room_windows(course, exam: str, on: dt.date | None = None) -> dict[str, tuple[dt.datetime | None, dt.datetime | None]]:
    """Each room with sittings of ``on`` (default today in the room) not finished: its window (the widest)."""
    on = on or ops.room_today(course)
    out: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {}
    with course.db.read() as s:
        for room, opens, closes in s.execute(select(Sitting.room, Sitting.opens_at, Sitting.closes_at).where(
                Sitting.exam_id == exam, Sitting.scheduled_on == on,
                Sitting.status.in_(("scheduled", "in_progress")))).all():
            o, c = out.get(room, (None, None))
            out[room] = (min((x for x in (o, opens) if x is not None), default=None),
                         max((x for x in (c, closes) if x is not None), default=None))
    return dict(sorted(out.items()))


class ProctorDashboard:
    """A table that refreshes itself and three audited actions on the chosen sitting."""

    def __init__(self, course, exam: str, actor: str | None = None, refresh_seconds: float = 5.0):
        self.course, self.exam, self.refresh_seconds = course, exam, refresh_seconds
        self.table = w.HTML()
        self.message = w.HTML()
        self.proctor = w.Text(value=current_actor(actor), description="Proctor name", style={"description_width": "initial"})
        self.sitting = w.Dropdown(description="Sitting", options=[], style={"description_width": "initial"},
                                  layout=w.Layout(width="30em"))
        self.minutes = w.BoundedIntText(value=10, min=1, max=ops.MAX_ADDED_MINUTES, description="Minutes to add",
                                        style={"description_width": "initial"})
        self.reason = w.Text(description="Reason", placeholder="why (kept in the audit trail)",
                             style={"description_width": "initial"}, layout=w.Layout(width="30em"))
        self.scribe = w.Text(description="Scribe's name", style={"description_width": "initial"})
        self.confirm_void = w.Checkbox(description="Yes, void this sitting", indent=False)
        add = self._button("Add time", self._add_time, "primary")
        scribe = self._button("Record scribe", self._record_scribe)
        void = self._button("Void sitting", self._void, "danger")
        refresh = self._button("Refresh", self.refresh)
        # a room's sign-in window, today
        self.room = w.Dropdown(description="Room", options=[], style={"description_width": "initial"})
        self.windows = w.HTML()
        self.room_reason = w.Text(description="Reason", placeholder="why (kept in the audit trail)",
                                  style={"description_width": "initial"}, layout=w.Layout(width="30em"))
        open_now = self._button("Open sign-in now", self._open_now, "primary")
        close_now = self._button("Close sign-in now", self._close_now, "warning")
        # computers locked out after wrong codes
        self.lockouts = w.HTML()
        self.locked = w.Dropdown(description="Computer", options=[], style={"description_width": "initial"})
        self.unlock_reason = w.Text(description="Reason", placeholder="why (kept in the audit trail)",
                                    style={"description_width": "initial"}, layout=w.Layout(width="30em"))
        unlock = self._button("Unlock this computer", self._unlock)
        self.alerts = w.HTML()
        self.root = w.VBox([
            w.HTML(f"<h1 style='font-size:1.4em'>Proctor: {html.escape(exam)}</h1>"), self.message,
            w.HBox([self.proctor, refresh]), self.table,
            w.HTML("<h2 style='font-size:1.2em'>Act on one sitting</h2>"), self.sitting, self.reason,
            w.HBox([self.minutes, add]), w.HBox([self.scribe, scribe]), w.HBox([self.confirm_void, void]),
            w.HTML("<h2 style='font-size:1.2em'>Sign-in for a room today</h2>"), self.windows, self.room,
            self.room_reason, w.HBox([open_now, close_now]),
            w.HTML("<h2 style='font-size:1.2em'>Computers locked out after wrong access codes</h2>"), self.lockouts,
            self.locked, self.unlock_reason, w.HBox([unlock]),
            w.HTML("<h2 style='font-size:1.2em'>Alerts</h2>"), self.alerts,
        ], layout=w.Layout(padding="1em"))
        self.refresh()
        self._task = None
        try:
            self._task = asyncio.get_running_loop().create_task(self._loop())
        except RuntimeError:
            pass

    def _button(self, label, fn, style=""):
        b = w.Button(description=label, button_style=style, tooltip=label)
        b.on_click(lambda _b: self._run(fn))
        return b

    def _run(self, fn) -> None:
        try:
            fn()
        except ExamBuilderError as exc:
            self.message.value = f"<p role='alert' style='color:#a11d1d'>{html.escape(str(exc))}</p>"

    def _done(self, text: str) -> None:
        self.message.value = f"<p role='status' style='color:#1d6b31'>{html.escape(text)}</p>"
        self.reason.value = ""
        self.refresh()

    def _chosen(self) -> int:
        if self.sitting.value is None:
            raise ExamBuilderError("choose a sitting first")
        return int(self.sitting.value)

    def _add_time(self) -> None:
        sid = self._chosen()
        ops.add_time(self.course, sid, int(self.minutes.value), self.proctor.value, self.reason.value)
        self._done(f"Added {self.minutes.value} minutes to sitting {sid}.")

    def _record_scribe(self) -> None:
        sid = self._chosen()
        ops.record_scribe(self.course, sid, self.scribe.value, self.proctor.value, self.reason.value)
        self._done(f"Scribe {self.scribe.value} recorded for sitting {sid}.")

    def _void(self) -> None:
        if not self.confirm_void.value:
            raise ExamBuilderError("tick “Yes, void this sitting” first")
        sid = self._chosen()
        ops.void(self.course, sid, self.proctor.value, self.reason.value)
        self.confirm_void.value = False
        self._done(f"Sitting {sid} voided.")

    def _room_chosen(self) -> str:
        if self.room.value is None:
            raise ExamBuilderError("choose a room first")
        return str(self.room.value)

    def _open_now(self) -> None:
        room = self._room_chosen()
        changed = ops.open_now(self.course, self.exam, room, self.proctor.value, self.room_reason.value)
        self.room_reason.value = ""
        self._done(f"Sign-in opened now for room {room} ({len(changed)} sitting(s)).")

    def _close_now(self) -> None:
        room = self._room_chosen()
        changed = ops.close_now(self.course, self.exam, room, self.proctor.value, self.room_reason.value)
        self.room_reason.value = ""
        self._done(f"Sign-in closed now for room {room} ({len(changed)} sitting(s)); candidates already "
                   "started carry on.")

    def _unlock(self) -> None:
        if self.locked.value is None:
            raise ExamBuilderError("choose a locked computer first")
        source = str(self.locked.value)
        ops.unlock_source(self.course, source, self.proctor.value, self.unlock_reason.value)
        self.unlock_reason.value = ""
        self._done(f"Computer {source} unlocked.")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 (a database hiccup: try again next time)
                pass

    def refresh(self) -> None:
        rows = overview(self.course, self.exam)
        cells = []
        for r in rows:
            left = clock_text(r.time_left) if r.time_left is not None else "—"
            extra = f" (+{r.extra_minutes} min)" if r.extra_minutes else ""
            cells.append(f"<tr><td>{r.sitting_id}</td><td>{html.escape(r.name)} ({html.escape(r.candidate_id)})</td>"
                         f"<td>{html.escape(r.room)}</td><td>{r.status.replace('_', ' ')}</td>"
                         f"<td>{r.answered} / {r.total}</td><td>{left}{extra}</td>"
                         f"<td>{html.escape(r.scribe or '')}</td></tr>")
        self.table.value = ("<table style='border-collapse:collapse' cellpadding='4'><caption>Sittings</caption>"
                            "<thead><tr><th scope='col'>Sitting</th><th scope='col'>Candidate</th><th scope='col'>Room</th>"
                            "<th scope='col'>Status</th><th scope='col'>Answered</th><th scope='col'>Time left</th>"
                            "<th scope='col'>Scribe</th></tr></thead><tbody>" + "".join(cells) + "</tbody></table>")
        current = self.sitting.value
        self.sitting.options = [(f"{r.sitting_id}: {r.name} ({r.status.replace('_', ' ')})", r.sitting_id)
                                for r in rows if r.status in ("scheduled", "in_progress")]
        if current in [o[1] for o in self.sitting.options]:
            self.sitting.value = current
        self._refresh_rooms()
        self._refresh_lockouts()
        self._refresh_alerts()

    def _refresh_rooms(self) -> None:
        zone = ops.room_zone(self.course, strict=False)
        now = utcnow()
        wins = room_windows(self.course, self.exam)
        lines = []
        for room, (opens, closes) in wins.items():
            state = "open" if (opens and closes and opens <= now < closes) else "closed"
            lines.append(f"<li>{html.escape(room)}: sign-in {state} ({html.escape(window.window_text(opens, closes, zone))})</li>")
        self.windows.value = ("<ul>" + "".join(lines) + "</ul>") if lines else "<p>No sittings for today.</p>"
        current = self.room.value
        self.room.options = list(wins)
        if current in wins:
            self.room.value = current

    def _refresh_lockouts(self) -> None:
        zone = ops.room_zone(self.course, strict=False)
        locks = ops.lockouts(self.course)
        if locks:
            rows = "".join(f"<tr><td>{html.escape(lk.source)}</td><td>{lk.wrong_codes}</td>"
                           f"<td>{html.escape(window.when_text(lk.locked_at, zone))}</td>"
                           f"<td>{html.escape(window.when_text(lk.until, zone))}</td></tr>" for lk in locks)
            self.lockouts.value = ("<table cellpadding='4'><thead><tr><th scope='col'>Computer</th>"
                                   "<th scope='col'>Wrong codes</th><th scope='col'>Locked at</th>"
                                   "<th scope='col'>Unlocks by itself at</th></tr></thead><tbody>" + rows + "</tbody></table>")
        else:
            self.lockouts.value = "<p>No computer is locked out.</p>"
        current = self.locked.value
        sources = list(dict.fromkeys(lk.source for lk in locks))
        self.locked.options = sources
        if current in sources:
            self.locked.value = current

    def _refresh_alerts(self) -> None:
        zone = ops.room_zone(self.course, strict=False)
        items = alerts(self.course, self.exam)
        if not items:
            self.alerts.value = "<p>No alerts.</p>"
            return
        self.alerts.value = ("<table cellpadding='4'><thead><tr><th scope='col'>Time</th><th scope='col'>Candidate</th>"
                             "<th scope='col'>What happened</th></tr></thead><tbody>" + "".join(
                                 f"<tr><td>{html.escape(window.clock_12h(window.local(a.at, zone)))}</td>"
                                 f"<td>{html.escape(a.name)} ({html.escape(a.candidate_id)}, sitting {a.sitting_id})</td>"
                                 f"<td>{html.escape(a.text)}</td></tr>" for a in items) + "</tbody></table>")


def launch(course_root: str | None = None, exam: str | None = None):
    """The one code cell of ``proctor.ipynb`` (also usable in JupyterLab)."""
    from IPython.display import display

    from ..course import Course

    dash = ProctorDashboard(Course(course_root), exam or os.environ.get("EXAM_BUILDER_EXAM", "cps"))
    display(dash.root)
    return dash
