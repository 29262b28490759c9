"""The candidate's exam app (ipywidgets), rendered by Voila from ``exam.ipynb``.

The widgets only call ``CandidateSession``: every answer goes through the same code path as a
scripted candidate's, and the server's database and clock decide. Sign-in passes the page's
source address (``pagesource.page_source``, read when the candidate signs in, not when a warm
kernel starts). When the exam is opened on another screen (``TakenOver``) this page says so,
stops its clock and disables its controls; its saved answers stay safe. Nothing here reads a form's
manifest; the questions come from the released notebook. Candidates see questions and buttons,
never code or tracebacks: an unexpected error is logged on the server and the candidate is told
that their saved answers are safe.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import sys
import time
from collections.abc import Callable
from datetime import timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ipywidgets as w
import mistune

from ..errors import ExamBuilderError
from ..records.models import utcnow
from .form_view import ItemView
from .session import CandidateSession, Receipt, SignInFailed, SittingClosed, TakenOver
from .settings import DeliverySettings

log = logging.getLogger("exam_builder.delivery.app")
if not log.handlers:  # the kernel's own stderr goes to the page; log to the server's instead
    _h = logging.StreamHandler(sys.__stderr__)
    _h.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(_h)
    log.setLevel(logging.INFO)

_markdown = mistune.create_markdown(escape=True)
TEXT_SIZES = {"Normal": 16, "Large": 20, "Larger": 25}


def page_source() -> str:
    """The page's remote address, as the server saw it ("unknown" where it cannot be told)."""
    try:
        from .pagesource import page_source as read
    except ImportError:
        return "unknown"
    try:
        return read() or "unknown"
    except Exception:  # noqa: BLE001 (never stop a sign-in for want of an address)
        log.exception("cannot read the page's source address")
        return "unknown"


def md(text: str) -> str:
    return _markdown(text or "")


def local_time(t: dt.datetime | None, zone: str = "UTC") -> str:
    """A server time (naive UTC) as the room's wall clock, e.g. ``14:05:09 EST``."""
    if t is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):  # a typo in the setting must not stop a sitting
        tz = timezone.utc
    return t.replace(tzinfo=timezone.utc).astimezone(tz).strftime("%H:%M:%S %Z")


def clock_text(left: dt.timedelta) -> str:
    secs = max(int(left.total_seconds()), 0)
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def style_css(px: int) -> str:
    """Text size and readable contrast (WCAG AA: dark text on white, dark button colors)."""
    return f"""<style>
.eb-app {{ --jp-widgets-font-size: {px}px; --jp-ui-font-size1: {px}px; --jp-content-font-size1: {px}px;
  --jp-widgets-inline-height: {round(px * 2)}px; font-size: {px}px; line-height: 1.5; color: #111;
  background: #fff; max-width: 60em; }}
.eb-app .widget-html-content, .eb-app .widget-label, .eb-app label, .eb-app button, .eb-app input,
.eb-app textarea {{ font-size: {px}px !important; color: #111; }}
.eb-app .widget-html-content {{ line-height: 1.5; white-space: normal; }}
.eb-app .widget-radio-box label {{ white-space: normal; height: auto; line-height: 1.5; margin: 0.3em 0; }}
.eb-app .widget-radio-box input {{ width: 1.2em; height: 1.2em; }}
.eb-app .jupyter-button {{ height: auto; min-height: {round(px * 2)}px; padding: 0.2em 0.8em; margin: 2px 6px 2px 0; }}
.eb-app .jupyter-button.mod-primary {{ background: #0b4f8a; color: #fff; }}
.eb-app .jupyter-button.mod-success {{ background: #1d6b31; color: #fff; }}
.eb-app .jupyter-button.mod-warning {{ background: #8a4600; color: #fff; }}
.eb-app .jupyter-button.mod-danger {{ background: #a11d1d; color: #fff; }}
.eb-app .eb-current {{ outline: 3px solid #111; }}
.eb-app :focus-visible {{ outline: 3px solid #b34700 !important; outline-offset: 2px; }}
.eb-app .eb-alert {{ border: 2px solid #8a4600; background: #fff4e5; padding: 0.5em; }}
.eb-app .eb-error {{ border: 2px solid #a11d1d; background: #fdecec; padding: 0.5em; }}
.eb-app .eb-timer {{ font-weight: bold; font-variant-numeric: tabular-nums; }}
.eb-app .eb-hash {{ font-family: monospace; word-break: break-all; }}
</style>"""


class CandidateApp:
    """Screens: sign in -> confirm identity -> instructions -> questions -> review -> receipt."""

    def __init__(self, course, clock: Callable[[], dt.datetime] = utcnow):
        self.course = course
        self.clock = clock
        self.settings = DeliverySettings(config=course.config)
        self.session = CandidateSession(course, clock=clock)
        self.current = 1
        self._item_boxes: dict[int, w.Box] = {}
        self._controls: dict[str, w.Widget] = {}
        self._flags: dict[str, w.Checkbox] = {}
        self._pending: dict[str, str] = {}
        self._pending_handle = None
        self._loading = False
        self._deadline: dt.datetime | None = None
        self._warned: set[int] = set()
        self._last_refresh = 0.0
        self._timer_task = None
        self._finished = False

        self.style = w.HTML(style_css(TEXT_SIZES["Normal"]))
        self.text_size = w.ToggleButtons(options=list(TEXT_SIZES), value="Normal", description="Text size",
                                         tooltips=["Normal text", "Large text", "Larger text"],
                                         style={"description_width": "initial", "button_width": "auto"})
        self.text_size.observe(self._safe(self._on_text_size), names="value")
        self.title = w.HTML(f"<h1 style='font-size:1.5em;margin:0'>{html.escape(course.policy.program_name)}</h1>")
        self.timer = w.HTML("", layout=w.Layout(margin="0 0 0 auto"))
        self.message = w.HTML("")
        self.body = w.VBox([])
        top = w.HBox([self.title, self.timer], layout=w.Layout(align_items="center", width="100%"))
        self.root = w.VBox([self.style, top, self.text_size, self.message, self.body],
                           layout=w.Layout(padding="1em"))
        self.root.add_class("eb-app")
        self._show_sign_in()

    # -- plumbing -------------------------------------------------------------------------
    def _safe(self, fn):
        """Run a callback; errors become a message for the candidate, never a traceback."""
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except TakenOver as exc:
                self._taken_over(str(exc))
            except SittingClosed as exc:
                self._say(str(exc), error=True)
                self._after_close()
            except ExamBuilderError as exc:
                self._say(str(exc), error=True)
            except Exception:  # noqa: BLE001 (anything unexpected: log it, reassure the candidate)
                log.exception("candidate app error (sitting %s)", self.session.sitting_id)
                self._say("Something went wrong on this screen. Your saved answers are safe. "
                          "Please raise your hand for the proctor.", error=True)
        return run

    def _say(self, text: str, error: bool = False, alert: bool = False) -> None:
        if not text:
            self.message.value = ""
            return
        cls = "eb-error" if error else ("eb-alert" if alert else "")
        role = "alert" if (error or alert) else "status"
        self.message.value = f"<div class='{cls}' role='{role}'>{html.escape(text)}</div>"

    def _button(self, label: str, on_click, style: str = "", tooltip: str = "") -> w.Button:
        b = w.Button(description=label, button_style=style, tooltip=tooltip or label,
                     layout=w.Layout(width="auto"))
        b.on_click(self._safe(lambda _b: on_click()))
        return b

    def _on_text_size(self, change) -> None:
        self.style.value = style_css(TEXT_SIZES[change["new"]])

    # -- sign in, identity, instructions ----------------------------------------------------
    def _show_sign_in(self) -> None:
        self.code = w.Text(description="Access code", placeholder="ABCD-EFGH",
                           style={"description_width": "initial"}, continuous_update=False)
        intro = w.HTML("<p>Welcome. Type the access code from your seat card, then press <b>Sign in</b>.</p>")
        # the button wraps under the box on a phone instead of being cut off at the screen's edge
        self.body.children = [intro, w.HBox([self.code, self._button("Sign in", self._sign_in, "primary")],
                                            layout=w.Layout(flex_flow="row wrap", align_items="center"))]

    def _sign_in(self) -> None:
        try:
            self.session.sign_in(self.code.value, source=page_source())
        except SignInFailed:
            time.sleep(self.settings.sign_in_delay_seconds)  # slow down guessing (every refusal alike)
            raise
        self._say("")
        info = (f"<p>Is this you?</p><p style='font-size:1.3em'><b>{html.escape(self.session.candidate_name)}</b> "
                f"({html.escape(self.session.candidate_id)})</p><p>Exam: {html.escape(self.session.exam_title)}</p>")
        self.body.children = [w.HTML(info), w.HBox([
            self._button("Yes, this is me", self._confirmed, "primary"),
            self._button("No, this is not me", self._not_me)])]

    def _not_me(self) -> None:
        self.session.reject_identity()
        self._say("Please raise your hand: the proctor will check your seat card.", alert=True)
        self._show_sign_in()

    def _confirmed(self) -> None:
        self.session.confirm_identity()
        status = self.session.status()
        if status == "submitted":
            self._show_receipt(self.session.receipt())
        elif status == "in_progress":
            n = sum(1 for e in self.session.navigator() if e.answered)
            self._say(f"Welcome back. Your {n} saved answer(s) are here; the clock kept running.", alert=False)
            self._enter_exam()
        else:
            self._show_instructions()

    def _show_instructions(self) -> None:
        s = self.session
        n = len(s.form.items)
        text = (f"{md(s.form.header)}<h2>Before you start</h2><ul>"
                f"<li>You have <b>{s.time_limit_text}</b> for this exam. The clock starts when you press "
                f"<b>Start the exam</b>, and it keeps running if the page is closed.</li>"
                f"<li>There are {n} questions. Choose one answer for each true/false and multiple choice "
                f"question; write your answer in the box for open-response questions.</li>"
                f"<li>Every answer is saved as soon as you give it. You can change it until you submit.</li>"
                f"<li>Use <b>Flag</b> to mark a question to come back to. The list of question numbers shows "
                f"which are answered (✓) and flagged (⚑).</li>"
                f"<li>You will be warned when {', '.join(str(m) for m in sorted(self.course.policy.time_warnings_minutes, reverse=True))} "
                f"minutes are left. At the end of the time your exam is submitted automatically.</li>"
                f"<li>The <b>Text size</b> buttons at the top make the text larger.</li></ul>")
        self.body.children = [w.HTML(text), self._button("Start the exam", self._start, "primary")]

    def _start(self) -> None:
        self.session.start()
        self._enter_exam()

    # -- the questions --------------------------------------------------------------------
    def _enter_exam(self) -> None:
        self._deadline = self.session.deadline()
        self._last_refresh = time.monotonic()
        left = self.session.time_left()
        crossed = [m for m in self.course.policy.time_warnings_minutes if left is not None and left.total_seconds() <= m * 60]
        self._warned = set(crossed[:-1]) if len(crossed) > 1 else set()  # only the latest one is still news
        if self.session.check_deadline() is not None:
            self._show_receipt(self.session.receipt())
            return
        self.nav_buttons: list[w.Button] = []
        for it in self.session.form.items:
            b = w.Button(layout=w.Layout(width="auto", min_width="3.5em"))
            b.on_click(self._safe(lambda _b, n=it.number: self._go(n)))
            self.nav_buttons.append(b)
        self.navigator = w.Box(self.nav_buttons, layout=w.Layout(flex_flow="row wrap"))
        legend = w.HTML("<p style='margin:0.2em 0'>Questions: ✓ answered · ⚑ flagged · no mark: not answered</p>")
        self.item_area = w.VBox([])
        self.save_state = w.HTML("")
        self.prev_btn = self._button("◀ Previous question", lambda: self._go(self.current - 1))
        self.next_btn = self._button("Next question ▶", lambda: self._go(self.current + 1), "primary")
        review = self._button("Review and submit", self._show_review, "warning")
        self.exam_view = w.VBox([legend, self.navigator, self.item_area, self.save_state,
                                 w.HBox([self.prev_btn, self.next_btn, review])])
        first_open = next((e.number for e in self.session.navigator() if not e.answered), 1)
        self._go(first_open)
        self._start_timer()

    def _item_box(self, it: ItemView) -> w.Box:
        if it.number in self._item_boxes:
            return self._item_boxes[it.number]
        parts: list[w.Widget] = []
        if it.scenario and it.scenario in self.session.form.scenarios:
            sc = self.session.form.scenarios[it.scenario]
            parts.append(w.HTML(f"<section aria-label='Scenario'><div style='border-left:4px solid #0b4f8a;"
                                f"padding-left:0.8em'>{md(sc.text)}</div></section>"))
        total = len(self.session.form.items)
        pts = f"{it.points:g} point{'s' if it.points != 1 else ''}"
        parts.append(w.HTML(f"<h2 style='font-size:1.2em'>Question {it.number} of {total} "
                            f"<span style='font-weight:normal'>({pts})</span></h2>{md(it.stem)}"))
        saved = self.session.answers().get(it.item_id)
        self._loading = True
        try:
            if it.objective:
                ctrl = w.RadioButtons(options=[(f"{c.label}. {c.text}", c.label) for c in it.choices],
                                      value=saved.value if saved and saved.value in it.labels else None,
                                      description=f"Answer to question {it.number}",
                                      style={"description_width": "initial"}, layout=w.Layout(width="100%"))
                ctrl.observe(self._safe(lambda ch, i=it: self._on_choice(i, ch)), names="value")
                clear = self._button("Clear my answer", lambda i=it: self._clear(i),
                                     tooltip=f"Clear the answer to question {it.number}")
                controls = [ctrl, w.HBox([clear])]
            else:
                ctrl = w.Textarea(value=(saved.value or "") if saved else "", rows=10,
                                  description=f"Answer to question {it.number}", placeholder="Write your answer here",
                                  continuous_update=True, style={"description_width": "initial"},
                                  layout=w.Layout(width="100%"))
                ctrl.observe(self._safe(lambda ch, i=it: self._on_text(i, ch)), names="value")
                controls = [ctrl]
            flag = w.Checkbox(value=bool(saved and saved.flagged), description="Flag this question to come back to it",
                              indent=False, layout=w.Layout(width="auto"))
            flag.observe(self._safe(lambda ch, i=it: self._on_flag(i, ch)), names="value")
        finally:
            self._loading = False
        self._controls[it.item_id] = ctrl
        self._flags[it.item_id] = flag
        box = w.VBox(parts + controls + [flag])
        self._item_boxes[it.number] = box
        return box

    def _go(self, number: int) -> None:
        items = self.session.form.items
        if not 1 <= number <= len(items):
            return
        self._flush()
        self.current = number
        self.item_area.children = [self._item_box(items[number - 1])]
        self.prev_btn.disabled = number == 1
        self.next_btn.disabled = number == len(items)
        self.body.children = [self.exam_view]
        self._refresh_nav()

    def _refresh_nav(self) -> None:
        for entry, b in zip(self.session.navigator(), self.nav_buttons):
            marks = (" ✓" if entry.answered else "") + (" ⚑" if entry.flagged else "")
            b.description = f"{entry.number}{marks}"
            state = ", ".join(["answered" if entry.answered else "not answered"] + (["flagged"] if entry.flagged else []))
            b.tooltip = f"Go to question {entry.number} ({state})"
            b.button_style = "success" if entry.answered else ""
            if entry.number == self.current:
                b.add_class("eb-current")
            else:
                b.remove_class("eb-current")

    def _saved(self, what: str) -> None:
        self.save_state.value = f"<p role='status'>{html.escape(what)} saved at {local_time(self.clock(), self.settings.timezone)}.</p>"

    def _on_choice(self, it: ItemView, change) -> None:
        if self._loading:
            return
        self.session.answer(it.item_id, change["new"])
        self._saved(f"Answer to question {it.number}")
        self._refresh_nav()

    def _clear(self, it: ItemView) -> None:
        self.session.answer(it.item_id, None)
        self._loading = True
        try:
            self._controls[it.item_id].value = None
        finally:
            self._loading = False
        self._saved(f"Cleared answer to question {it.number}")
        self._refresh_nav()

    def _on_text(self, it: ItemView, change) -> None:
        """Typing is saved a moment after it pauses, and at once when the candidate moves on."""
        if self._loading:
            return
        self._pending[it.item_id] = change["new"]
        self.save_state.value = "<p role='status'>Saving…</p>"
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): save now
            self._flush()
            return
        if self._pending_handle is not None:
            self._pending_handle.cancel()
        self._pending_handle = loop.call_later(self.settings.save_delay_seconds, self._safe(self._flush))

    def _flush(self) -> None:
        if self._pending_handle is not None:
            self._pending_handle.cancel()
            self._pending_handle = None
        pending, self._pending = self._pending, {}
        for item_id, text in pending.items():
            self.session.answer(item_id, text)
            self._saved(f"Answer to question {self.session.form.item(item_id).number}")
        if pending and hasattr(self, "nav_buttons"):
            self._refresh_nav()

    def _on_flag(self, it: ItemView, change) -> None:
        if self._loading:
            return
        self._flush()
        self.session.flag(it.item_id, change["new"])
        self._refresh_nav()

    # -- review, submit, receipt ------------------------------------------------------------
    def _show_review(self) -> None:
        self._flush()
        missing = self.session.unanswered()
        flagged = [e.number for e in self.session.navigator() if e.flagged]
        if missing:
            lst = ", ".join(str(i.number) for i in missing)
            text = f"<h2>Review</h2><p>You have not answered {len(missing)} question(s): <b>{lst}</b>.</p>"
        else:
            text = "<h2>Review</h2><p>You have answered every question.</p>"
        if flagged:
            text += f"<p>Flagged for review: {', '.join(map(str, flagged))}.</p>"
        text += "<p>After you submit you cannot change your answers.</p>"
        self.body.children = [w.HTML(text), w.HBox([
            self._button("Go back to the questions", lambda: self._go(self.current), "primary"),
            self._button("Submit my exam now", self._submit, "danger")])]

    def _submit(self) -> None:
        self._flush()
        self._show_receipt(self.session.submit())

    def _after_close(self) -> None:
        """The sitting closed under us (deadline, submit elsewhere, void): show why."""
        status = self.session.status() if self.session.sitting_id else None
        if status == "submitted":
            self._show_receipt(self.session.receipt())
        elif status == "voided":
            self._finish()
            self.body.children = [w.HTML("<p>The proctor closed this sitting. Please raise your hand.</p>")]

    def _show_receipt(self, r: Receipt | None) -> None:
        self._finish()
        if r is None:
            return
        why = {"deadline": "Time is up: your exam was submitted automatically.",
               "candidate": "Your exam was submitted.", "proctor": "The proctor submitted your exam."}.get(r.reason, "")
        self.body.children = [w.HTML(
            f"<h2>Receipt</h2><p role='status'>{why}</p><p>Submitted at <b>{local_time(r.submitted_at, self.settings.timezone)}</b>. "
            f"Answered: {r.answered} of {r.total}.</p><p>Receipt code (SHA-256 of your answers):</p>"
            f"<p class='eb-hash'>{r.sha256}</p><p>You may close this page.</p>")]
        self.timer.value = ""

    def _taken_over(self, text: str) -> None:
        """Another screen signed in to this sitting: say so, stop the clock, accept nothing more."""
        self._finish()
        self._pending = {}
        self.timer.value = ""
        self._say(text, error=True)
        for widget in walk(self.body):
            if hasattr(widget, "disabled"):
                widget.disabled = True

    def _finish(self) -> None:
        self._finished = True
        if self._pending_handle is not None:
            self._pending_handle.cancel()
        # the timer task sees ``_finished`` and ends by itself

    # -- the clock --------------------------------------------------------------------------
    def _start_timer(self) -> None:
        self.tick()
        if _has_loop() and self._timer_task is None:
            self._timer_task = asyncio.ensure_future(self._run_timer())

    async def _run_timer(self) -> None:
        while not self._finished:
            await asyncio.sleep(self.settings.tick_seconds)
            self._safe(self.tick)()

    def tick(self) -> None:
        """Update the countdown from the server's clock; warn; submit at the deadline."""
        if self._finished:
            return
        if self._deadline is None or time.monotonic() - self._last_refresh >= self.settings.refresh_seconds:
            self._last_refresh = time.monotonic()
            status, deadline = self.session.refresh()  # TakenOver once another screen signed in
            if status != "in_progress":
                self._after_close()
                return
            self._deadline = deadline
        left = max(self._deadline - self.clock(), dt.timedelta(0))
        self.timer.value = (f"<div class='eb-timer' role='timer' aria-live='off'>Time left: "
                            f"{clock_text(left)}</div>")
        for m in sorted(self.course.policy.time_warnings_minutes):
            if left.total_seconds() <= m * 60 and m not in self._warned and left.total_seconds() > 0:
                self._warned.update(x for x in self.course.policy.time_warnings_minutes if x >= m)
                self._say(f"{m} minutes left. Your answers are saved; at the end the exam is submitted automatically.",
                          alert=True)
                self.session.log_event("warning", minutes=m)
                break
        if self._pending and left.total_seconds() <= self.settings.save_delay_seconds + 1:
            self._flush_quietly()  # do not let the debounce lose the last words
        if left.total_seconds() <= 0:
            self._flush_quietly()
            receipt = self.session.check_deadline()
            self._show_receipt(receipt or self.session.receipt())

    def _flush_quietly(self) -> None:
        try:
            self._flush()
        except SittingClosed:
            pass


def walk(widget: w.Widget):
    """A widget and every widget inside it."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def launch(course_root: str | None = None):
    """Build and display the app (the one code cell of ``exam.ipynb``)."""
    from IPython.display import display

    from ..course import Course

    course = Course(course_root)
    try:
        app = CandidateApp(course)
    except Exception:  # noqa: BLE001 (a misconfigured server: log it, show a plain sentence)
        log.exception("cannot start the exam app")
        display(w.HTML("<p role='alert'>The exam is not ready on this computer. Please tell the proctor.</p>"))
        return None
    display(app.root)
    return app
