"""The candidate's exam app (ipywidgets), rendered by Voila from ``exam.ipynb``.

The widgets only call ``CandidateSession``: every answer goes through the same code path as a
scripted candidate's, and the server's database and clock decide. Sign-in passes the page's
source address (``pagesource.page_source``, read when the candidate signs in, not when a warm
kernel starts). When the exam is opened on another screen (``TakenOver``) this page says so,
stops its clock and disables its controls; its saved answers stay safe. While the clock is
stopped (``SittingPaused``: a proctor's pause, or a break the candidate took with "Take a
break") the page shows a screen that says so, and why, instead of the questions, and goes back to
them when the clock runs again (the proctor resumes, "Back to the exam", or the break's end).
Nothing here reads a form's manifest; the questions come from the released notebook. Candidates
see questions and buttons, never code or tracebacks: an unexpected error is logged on the server
and the candidate is told that their saved answers are safe.

On every screen a compact bar stays in view (``eb-compact``: the clock, "Question N of M" and the
**Display** button that folds the text size and clock settings away); **◀ Previous**, **Next ▶**
and **Review and submit** sit below the answer. Nothing typed is lost: ``Drafts`` keeps written
answers in the page until the server confirms them, saves at once when the page is hidden (and
asks to when it is unloaded, though Voila's unload beacon may shut the kernel down first), and a
new page (reload, crash, restart) hands back what the server has not got and
the question the candidate was on. Time a proctor adds is said on the screen and through the
live region. Signing in after the submit shows the receipt again.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html
import time
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as w

from .. import clock
from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.states import EventKind, SittingStatus, SubmitReason
from ..records.models import utcnow
from ..ui.page import focus_on, heading, md
from ..ui.screens import ScreenApp, close_tree, has_loop, kernel_log, launch_app, walk
from ..ui.widgets import ChoiceGroup, Disclosure, Drafts, Navigator, TextForm
from . import window
from .form_view import ItemView
from .session import CandidateSession, Receipt, SignInFailed, SittingClosed, SittingPaused, Stopped, TakenOver

log = kernel_log("exam_builder.delivery.app")

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


def release_page() -> None:
    """This page's sitting was taken over: the server need not keep its kernel for a reconnect."""
    try:
        from .pagesource import release_page as release
        release()
    except Exception:  # noqa: BLE001 (the culler lets the kernel go after its grace anyway)
        log.exception("cannot tell the server this page was taken over")


def local_time(t: dt.datetime | None, zone: str = "UTC", now: dt.datetime | None = None) -> str:
    """A server time (naive UTC) as the room's wall clock, e.g. ``2:05:09 PM EST`` (``clock.said``, the
    proctor's form too; with its day when that is not ``now``'s)."""
    return clock.said(t, zone, now=now, seconds=True)  # a typo in the setting: UTC, never a stop


def local_hm(t: dt.datetime, zone: str = "UTC", now: dt.datetime | None = None) -> str:
    """A server time (naive UTC) as the room's hour and minute, e.g. ``12:45 PM EST``, and ``1:58 AM EST
    on Tuesday 8 December`` when that is not ``now``'s day."""
    return clock.said(t, zone, now=now)


def receipt_day(t: dt.datetime, zone: str = "UTC") -> str:
    """The room's date of a server time, e.g. ``Sunday 6 December 2026``."""
    d = window.local(t, window.room_zone(zone)).date()
    return f"{window.day_text(d)} {d.year}"


def added_text(minutes: int, deadline: dt.datetime, zone: str = "UTC", now: dt.datetime | None = None) -> str:
    """What the candidate is told when a proctor adds time (the end's day too when it is not today)."""
    return (f"The proctor added {minutes} minute{'s' if minutes != 1 else ''}. "
            f"New end time {local_hm(deadline, zone, now)}.")


@dataclass
class QuestionWidgets:
    """One question's widgets as the candidate sees them, before the app wires them to the session."""

    heading: w.HTML
    question: list[w.Widget]  # the stem, the kind's note, the control, "Clear my answer" and the flag, in order
    control: w.Widget
    flag: w.Checkbox
    clear: w.Button | None  # None for a typed answer (a text box is cleared by deleting the text)


def question_widgets(it: ItemView, total: int, saved: str | None = None, flagged: bool = False) -> QuestionWidgets:
    """The widgets of question ``it`` of ``total``: the exam app's and the author's preview's one rendering
    (``exam_builder.lab.preview`` shows these very widgets, so the preview cannot drift from the exam)."""
    pts = f"{it.points:g} point{'s' if it.points != 1 else ''}"
    head = w.HTML(heading(f"Question {it.number} of {total}", f"q{it.number}",
                          f" <span style='font-weight:normal'>({pts})</span>"))
    question: list[w.Widget] = [w.HTML(md(it.stem))]
    kind = kind_for(it.kind)  # the kind's whole control: choices, a text box or a text input
    note = kind.question_note  # "select all that apply": said in words, and in the group's name
    if note:
        question.append(w.HTML(f"<p><b>{html.escape(note[:1].upper() + note[1:])}.</b></p>"))
    ctrl = kind.control(it.number, it.options, saved)
    clear = None
    if kind.typed:
        question.append(ctrl)
    else:
        clear = w.Button(description="Clear my answer", tooltip=f"Clear the answer to question {it.number}",
                         layout=w.Layout(width="auto"))
        question += [ctrl, w.HBox([clear])]
    flag = w.Checkbox(value=flagged, description="Flag this question to come back to it",
                      indent=False, layout=w.Layout(width="auto"))
    question.append(flag)
    return QuestionWidgets(head, question, ctrl, flag, clear)


def question_box(q: QuestionWidgets, scenario_text: str | None) -> w.VBox:
    """The question on its screen: beside its scenario where there is room, else below it."""
    if scenario_text is not None:
        story = w.HTML(f"<section aria-label='Situation' class='eb-story'>{md(scenario_text)}</section>")
        split = w.HBox([story, w.VBox(q.question)])  # side by side where there is room, else stacked
        split.add_class("eb-split")
        return w.VBox([q.heading, split])
    return w.VBox([q.heading, *q.question])


def clock_text(left: dt.timedelta) -> str:
    secs = max(int(left.total_seconds()), 0)
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


#: Question screens a candidate's kernel keeps drawn (``CandidateApp._let_go``): the one on screen and
#: the last few, so Previous and Next do not redraw.
KEEP_SCREENS = 3


class CandidateApp(ScreenApp):
    """Screens: sign in -> confirm identity -> instructions -> questions -> review -> receipt.

    Each screen starts at its heading (focus moves there) and takes its messages away with it.
    """

    def __init__(self, course, clock: Callable[[], dt.datetime] = utcnow):
        self.course = course
        self.clock = clock
        self.settings = course.delivery_settings
        self.session = CandidateSession(course, clock=clock)
        self.current = 1
        self._item_boxes: dict[int, w.Box] = {}
        self._controls: dict[str, w.Widget] = {}
        self._flags: dict[str, w.Checkbox] = {}
        self._comment_panels: dict[str, tuple] = {}  # item -> (toggle, text box, save button, status)
        self._pending: dict[str, str] = {}
        self._pending_handle = None
        self._loading = False
        self._deadline: dt.datetime | None = None
        self._warned: set[int] = set()
        self._last_refresh = 0.0
        self._timer_task = None
        self._finished = False
        self._left: dt.timedelta | None = None
        self._stop: Stopped | None = None  # the clock's stop shown now (pause or break)
        self.break_box = w.HBox([])
        self._extra = 0  # time a proctor added, as this page last told the candidate
        self._restored_note: str | None = None  # the message beside "restored and saved", while that is shown

        super().__init__(course.policy.program_name)
        self.drafts = Drafts()
        self.drafts.on_flush(self._safe(self._flush_quietly))
        self.drafts.on_resend(self._safe(lambda kept: self._restore(kept, live=True, from_page=True)))
        self.drafts.observe(self._safe(self._page_back), names="stored")
        # the display settings fold behind one button, so a small screen starts with the question
        self.display = Disclosure(label="Display", controls=".eb-app .eb-options")
        self.display.observe(self._safe(lambda _ch: self._show_options()), names="expanded")
        self.options.layout.display = "none"
        self.bar.add_class("eb-compact")
        # the offline band is in the compact bar's flow (its last row), which stays in view: it pushes the
        # page down instead of covering it, so no control with focus can be under it (WCAG 2.2 SC 2.4.11)
        self.root.children = [self.style, self.assist, self.title, self.bar, self.options, self.message, self.body]
        self.clock_choice = ChoiceGroup([("show", "Show"), ("hide", "Hide")], legend="Clock", value="show",
                                        appearance="buttons")
        self.clock_choice.observe(self._safe(lambda _ch: self._show_clock()), names="value")
        self.prev_btn = self._button("◀ Previous", lambda: self._go(self.current - 1), tooltip="Previous question")
        self.next_btn = self._button("Next ▶", lambda: self._go(self.current + 1), "primary", tooltip="Next question")
        self.review_btn = self._button("Review and submit", self._show_review, "warning")
        self.exam_buttons = w.HBox([self.prev_btn, self.next_btn, self.review_btn])
        self.exam_buttons.add_class("eb-buttons")
        self._set_bar()
        self._show_sign_in()

    # -- plumbing -------------------------------------------------------------------------
    unexpected = ("Something went wrong on this screen. Your saved answers are safe. "
                  "Please raise your hand for the proctor.")
    log = log

    def _handled(self, exc: ExamBuilderError) -> bool:
        if isinstance(exc, TakenOver):
            self._taken_over(str(exc))
            return True
        if isinstance(exc, SittingPaused):
            self._show_stopped(exc.stop)
            return True
        if isinstance(exc, SittingClosed):
            self._after_close()  # the screen that says why (receipt, closed)...
            self._say(str(exc), error=True)  # ...with what was refused on it
            return True
        return False

    def _context(self) -> str:
        return f"sitting {self.session.sitting_id}"

    def _set_bar(self, *widgets: w.Widget) -> None:
        """The compact bar: what this screen keeps in view, then the Display button.

        ``drafts`` (the offline band) stays its first child, so its view (and the page's kept drafts'
        listeners) is never drawn again; the style shows it as the bar's last row."""
        self.bar.children = [self.drafts, *widgets, self.display]

    def _screen(self, name: str, children: list[w.Widget], focus: str | None = None, message: str = "") -> None:
        """Leaving the questions, "Question N of M" goes from the bar and the live region: a review or a
        receipt screen must not be read out as a question."""
        if name != "exam":
            self.where.value = ""
            if self.screen == "exam":
                self.assist.announce("")
        super()._screen(name, children, focus, message)

    def _show_options(self) -> None:
        self.options.layout.display = "flex" if self.display.expanded else "none"

    @property
    def _draft_key(self) -> str:
        return f"s{self.session.sitting_id}"

    # -- sign in, identity, instructions ----------------------------------------------------
    def _show_sign_in(self, message: str = "") -> None:
        self.code = TextForm(label="Access code", button="Sign in", placeholder="ABCD-EFGH")
        self.code.on_submit(self._safe(self._sign_in))  # Enter in the box, or the button
        intro = w.HTML(heading("Sign in", "sign_in")
                       + "<p>Type the access code from your seat card, then press <b>Sign in</b>.</p>")
        self._screen("sign_in", [intro, self.code], message=message)

    def _sign_in(self, code: str) -> None:
        if self.screen != "sign_in":  # a second press while the first is handled signs in once
            return
        try:
            self.session.sign_in(code, source=page_source())
        except SignInFailed:
            time.sleep(self.settings.sign_in_delay_seconds)  # slow down guessing (every refusal alike)
            raise
        if self.session.receipt_only:  # signed in again after the submit: the receipt, nothing else
            self._show_receipt(self.session.receipt(), again=True)
            return
        info = (heading("Is this you?", "identity")
                + f"<p style='font-size:1.3em'><b>{html.escape(self.session.candidate_name)}</b> "
                f"({html.escape(self.session.candidate_id)})</p><p>Exam: {html.escape(self.session.exam_title)}</p>")
        self._screen("identity", [w.HTML(info), w.HBox([
            self._button("Yes, this is me", self._confirmed, "primary"),
            self._button("No, this is not me", self._not_me)], layout=w.Layout(flex_flow="row wrap"))])

    def _not_me(self) -> None:
        self.session.reject_identity()
        self._show_sign_in("Please raise your hand: the proctor will check your seat card.")

    def _confirmed(self) -> None:
        if self.screen != "identity":
            return
        self.session.confirm_identity()
        status = self.session.status()
        if status == SittingStatus.submitted:
            self._show_receipt(self.session.receipt())
        elif status == SittingStatus.in_progress:
            n = sum(1 for e in self.session.navigator() if e.answered)
            self._enter_exam(f"Welcome back. Your {n} saved answer(s) are here; the clock kept running.")
        else:
            self._show_instructions()

    def _show_instructions(self) -> None:
        s = self.session
        n = len(s.form.items)
        breaks, break_minutes = s.breaks_left()  # an approved accommodation: said before the clock starts
        marks = [str(m) for m in sorted(self.course.policy.time_warnings_minutes, reverse=True)]
        warnings = " and ".join([", ".join(marks[:-1]), marks[-1]] if len(marks) > 1 else marks)  # "30 and 5"
        text = (f"{md(s.form.header)}{heading('Before you start', 'instructions')}<ul>"
                f"<li>You have <b>{s.time_limit_text}</b> for this exam. The clock starts when you press "
                f"<b>Start the exam</b>, and it keeps running if the page is closed.</li>"
                f"<li>There are {n} questions. Choose one answer for each true/false and multiple choice "
                f"question; write your answer in the box for open-response questions.</li>"
                + ("<li>A question that says <b>select all that apply</b> has a box for each choice: tick every "
                   "choice that is right. It counts as answered when at least one box is ticked.</li>"
                   if any(it.multiple for it in s.form.items) else "") +
                f"<li>Every answer is saved as soon as you give it. You can change it until you submit.</li>"
                f"<li>Use <b>Flag</b> to mark a question to come back to. The list of questions shows "
                f"which are answered (✓) and flagged (⚑).</li>"
                f"<li>If a question seems unclear or wrong to you, press <b>Comment on this question</b> and "
                f"write why (at most {s.max_comment:,} characters). Comments are read by staff after the exam; "
                f"a comment never changes your time or your score by itself.</li>"
                + (f"<li>You may take {breaks} break{'s' if breaks != 1 else ''} of up to {break_minutes} minutes "
                   f"with the clock stopped: press <b>Take a break</b> below any question. Your time does not run "
                   f"during a break.</li>" if breaks else "") +
                f"<li>You will be warned when {warnings} minutes are left, even if you hide the clock. At the "
                f"end of the time your exam is submitted automatically.</li>"
                f"<li>The <b>Display</b> button at the top opens the <b>Text size</b> buttons, which make the "
                f"text larger, and the <b>Clock</b> buttons, which show or hide the time left.</li>"
                f"<li><b>Next</b> and <b>Previous</b> are below each answer.</li></ul>")
        self.options.children = [self.text_size, self.clock_choice]
        self._screen("instructions", [w.HTML(text), w.HBox([self._button("Start the exam", self._start, "primary")])])

    def _start(self) -> None:
        if self.screen != "instructions":
            return
        self.session.start()
        self._enter_exam()

    # -- the questions --------------------------------------------------------------------
    def _enter_exam(self, message: str = "") -> None:
        _status, self._deadline = self.session.refresh()
        self._extra = self.session.extra_minutes
        self._last_refresh = time.monotonic()
        left = self.session.time_left()
        crossed = [m for m in self.course.policy.time_warnings_minutes if left is not None
                   and left.total_seconds() <= m * 60]
        self._warned = set(crossed[:-1]) if len(crossed) > 1 else set()  # only the latest one is still news
        if self.session.check_deadline() is not None:
            self._show_receipt(self.session.receipt())
            return
        self.navigator = Navigator(entries=[])
        self.navigator.on_go(self._safe(self._go))
        self.item_area = w.VBox([])
        self.save_state = w.HTML("")
        self.exam_view = w.VBox([self.item_area, self.save_state, self.break_box, self.exam_buttons, self.navigator])
        self._refresh_break()
        self.options.children = [self.text_size, self.clock_choice]
        self.drafts.sitting = self._draft_key
        kept, at = self.drafts.kept(self._draft_key)
        restored = self._restore(kept)
        total = len(self.session.form.items)
        first_open = next((e.number for e in self.session.navigator() if not e.answered), 1)
        # back where the candidate was: as the server holds it (a takeover from another browser), else as
        # this tab kept it (a reload), else the first question not answered
        was = next((n for n in (self.session.at_question, at) if n and 1 <= n <= total), first_open)
        self._go(was, message)
        if restored:
            self._say_restored(message)
        self._start_timer()

    def _say_restored(self, message: str = "") -> None:
        """"What you typed last was restored and saved", after ``message``: a "saved" note, which the page
        removes once newer text is typed (drafts.js, class ``eb-saved-at``), as ``_on_text`` does."""
        self._restored_note = message
        self.message.value = (f"<div role='status'>{html.escape(message)}{' ' if message else ''}"
                              "<span class='eb-saved-at'>What you typed last was restored and saved.</span></div>")

    def _page_back(self, _change=None) -> None:
        """A reloaded page came back to this kernel (the server keeps a reloaded page's kernel:
        ``server.KernelLifecycle.kept_page``) with the drafts its tab kept: save those the server has
        not got. Unlike a sign-in from a new page, no base check: the server never hands back a kernel
        whose sitting was taken over, so nobody else can have changed the answer, and a reload pressed
        with the last keys (before the save that the typing started came back) would otherwise drop
        them as "changed on another screen"."""
        if self.session.sitting_id is None or self.screen not in ("exam", "review"):
            return
        kept, _at = self.drafts.kept(self._draft_key)
        if self._restore(kept, live=True):  # this kernel still holds the sitting: the tab's text is the newest
            self._say_restored()

    def _restore(self, kept: dict[int, dict[str, str]], live: bool = False, from_page: bool = False) -> int:
        """Save the page's kept drafts the server has not got; how many were saved.

        From a new page (a reload), a draft is saved only when the server still holds the text it
        was typed over (``base``): an answer saved since on another screen wins, and the draft is
        dropped (logged). From this page while it holds the sitting (``live``: hidden, unloaded,
        back online) the draft is the newest text there is: nobody else can have changed it.

        Handed over by the page whose box holds the text (``from_page``: hidden, unloaded, back
        online or reconnected), the box's value here is set as if that page had sent it: the page is
        not sent the text back, since the candidate may have typed on since it handed the draft over
        (the box would go back to the older text); ipywidgets' echo only reaches a box that has not
        changed since. A reloaded page (``_page_back``) is sent the text: its box shows the kernel's.
        """
        saved = 0
        if self._finished or self.session.form is None or self.session.receipt_only:
            return saved
        for number, draft in sorted(kept.items()):
            if not 1 <= number <= len(self.session.form.items):
                continue
            it = self.session.form.items[number - 1]
            if not kind_for(it.kind).typed:
                continue
            a = self.session.answer_of(it.item_id)
            held = (a.value or "") if a is not None else ""
            text = draft["text"]
            if text != held and (live or draft.get("base", "") == held):
                self.session.answer(it.item_id, text)
                self._pending.pop(it.item_id, None)  # the page's newest text: an older pending one must not follow
                held = text
                saved += 1
                if hasattr(self, "save_state"):
                    self._saved(f"Answer to question {number}")
                ctrl = self._controls.get(it.item_id)
                if ctrl is not None and ctrl.value != text:  # the box on screen shows it too
                    self._loading = True
                    try:
                        if from_page:
                            ctrl.set_state({"value": text})
                        else:
                            ctrl.value = text
                    finally:
                        self._loading = False
            elif text != held:
                self.session.log_event(EventKind.draft_dropped, item=it.item_id, why="changed on another screen")
            self.drafts.confirm(number, held)
        if saved and hasattr(self, "navigator"):
            self._refresh_nav()
        return saved

    def _item_box(self, it: ItemView) -> w.Box:
        """The question's screen: drawn again from the session when it was let go (``_let_go``)."""
        if it.number in self._item_boxes:
            box = self._item_boxes.pop(it.number)
            self._item_boxes[it.number] = box  # the most recent last
            return box
        saved = self.session.answer_of(it.item_id)
        self._loading = True
        try:
            q = question_widgets(it, len(self.session.form.items), saved.value if saved else None,
                                 bool(saved and saved.flagged))
            ctrl, flag = q.control, q.flag
            if q.clear is None:
                ctrl.add_class(f"eb-answer-q{it.number}")  # the page keeps what is typed here (``Drafts``)
                ctrl.observe(self._safe(lambda ch, i=it: self._on_text(i, ch)), names="value")
                self.drafts.confirm(it.number, ctrl.value)  # what the server holds: a draft's base
            else:
                ctrl.observe(self._safe(lambda ch, i=it: self._on_choice(i, ch)), names="value")
                q.clear.on_click(self._safe(lambda _b, i=it: self._clear(i)))
            flag.observe(self._safe(lambda ch, i=it: self._on_flag(i, ch)), names="value")
        finally:
            self._loading = False
        self._controls[it.item_id] = ctrl
        self._flags[it.item_id] = flag
        q.question.append(self._comment_box(it))  # the app's own: read after the exam, never scored
        scenario = self.session.form.scenarios.get(it.scenario) if it.scenario else None
        box = question_box(q, scenario.text if scenario else None)
        self._item_boxes[it.number] = box
        return box

    def _let_go(self) -> None:
        """Keep only the ``KEEP_SCREENS`` question screens seen last; close the others. A kernel that
        kept all 42 held about 1,500 widget models, every one of which a reloaded page asks for and
        is sent (seconds on a busy server) and each of which costs memory; a screen let go is drawn
        again from the session (its saved answer, flag and comment) when the candidate returns."""
        while len(self._item_boxes) > KEEP_SCREENS:
            number = next(iter(self._item_boxes))  # the least recently shown (never the one on screen: it is last)
            box = self._item_boxes.pop(number)
            item_id = self.session.form.items[number - 1].item_id
            for held in (self._controls, self._flags, self._comment_panels):
                held.pop(item_id, None)
            close_tree(box)

    def _comment_box(self, it: ItemView) -> w.Widget:
        """"Comment on this question": a button that opens a short text box and its Save button.

        The box says its limit and that a comment is read after the exam and changes neither time
        nor score; the save's outcome is said in a status line beside it (and to a screen reader).
        """
        n = it.number
        saved = self.session.comment_of(it.item_id)
        label = "Comment on this question" + (" (saved)" if saved else "")
        toggle = Disclosure(label=label, controls=f".eb-app .eb-comment-q{n}", expanded=False)
        limit = self.session.max_comment
        note = w.HTML(f"<p id='eb-comment-note-q{n}'>Comments are read by staff after the exam. A comment never "
                      f"changes your time or your score by itself. At most {limit:,} characters.</p>")
        box = w.Textarea(value=saved, rows=3, description=f"Your comment on question {n}",
                         continuous_update=False,  # sent once when the box is left: one message, not one a key
                         layout=w.Layout(width="100%"))
        box.add_class(f"eb-comment-text-q{n}")
        state = w.HTML("")

        def save() -> None:
            text = self.session.comment(it.item_id, box.value)
            state.value = (f"<p role='status'>Comment on question {n} "
                           f"{'saved' if text else 'removed'} at {local_time(self.clock(), self.settings.timezone)}."
                           "</p>")
            toggle.label = "Comment on this question" + (" (saved)" if text else "")

        button = self._button("Save comment", save, tooltip=f"Save your comment on question {n}")
        panel = w.VBox([note, box, w.HBox([button]), state])
        panel.add_class(f"eb-comment-q{n}")
        panel.layout.display = "none"
        toggle.observe(self._safe(lambda ch: setattr(panel.layout, "display", "flex" if ch["new"] else "none")),
                       names="expanded")
        self._comment_panels[it.item_id] = (toggle, box, button, state)
        outer = w.VBox([toggle, panel])
        outer.add_class("eb-comment")  # the app's, the same under every question (the author's preview has none)
        return outer

    def _go(self, number: int, message: str = "") -> None:
        items = self.session.form.items
        if not 1 <= number <= len(items) or self._finished:
            return
        self._flush()
        self.current = number
        self.item_area.children = [self._item_box(items[number - 1])]
        self._let_go()
        self.prev_btn.disabled = number == 1
        self.next_btn.disabled = number == len(items)
        self.where.value = f"<span>Question {number} of {len(items)}</span>"
        self.save_state.value = ""
        self._restored_note = None  # the message is said anew below
        self.drafts.at = number  # a reload comes back here
        self.session.go_to(number)  # and a takeover from another browser (kept with the next save or re-read)
        self._refresh_nav()
        if self.screen == "exam":
            self._say(message)
            self.assist.move_focus(focus_on(f"q{number}"))
        else:
            self._set_bar(self.timer, self.where)
            self._screen("exam", [self.exam_view], focus=f"q{number}", message=message)
        self.assist.announce(f"Question {number} of {len(items)}")

    def _refresh_nav(self) -> None:
        self.navigator.entries = [{"n": e.number, "answered": e.answered, "flagged": e.flagged}
                                  for e in self.session.navigator()]
        self.navigator.current = self.current

    def _saved(self, what: str) -> None:
        said = (f"<p role='status' class='eb-saved-at'>{html.escape(what)} saved at "
                f"{local_time(self.clock(), self.settings.timezone)}.</p>")
        if self.save_state.value == said:  # the page may have removed the note as stale: a change draws it again
            self.save_state.value = ""
        self.save_state.value = said

    def _on_choice(self, it: ItemView, change) -> None:
        if self._loading:
            return
        self.session.answer(it.item_id, kind_for(it.kind).control_answer(change["new"]))
        self._saved(f"Answer to question {it.number}")
        self._refresh_nav()

    def _clear(self, it: ItemView) -> None:
        self.session.answer(it.item_id, None)
        self._loading = True
        try:
            self._controls[it.item_id].value = kind_for(it.kind).control_value(None)
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
        if self._restored_note is not None:  # newer text than what was restored: that note is stale
            self._say(self._restored_note)
            self._restored_note = None
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
        saved = bool(pending)
        for item_id, text in list(pending.items()):
            number = self.session.form.item(item_id).number
            held = self.session.answer_of(item_id)  # what the session holds: no copy, no database read
            try:
                if held is None or held.value != text:  # the same text again (a resent draft) adds no row
                    self.session.answer(item_id, text)
            except SittingPaused:  # kept (here and in the page's drafts) for when the clock runs again
                self._pending = {**pending, **self._pending}
                raise
            del pending[item_id]
            self.drafts.confirm(number, text)
            self._saved(f"Answer to question {number}")
        if saved and hasattr(self, "navigator"):  # a typed answer's ✓ shows at once, not on the next move
            self._refresh_nav()

    def _on_flag(self, it: ItemView, change) -> None:
        if self._loading:
            return
        self._flush()
        self.session.flag(it.item_id, change["new"])
        self._refresh_nav()

    # -- review, submit, receipt ------------------------------------------------------------
    def _show_review(self) -> None:
        """The confirm step before the final submit (WCAG 3.3.4): what is unanswered or flagged."""
        self._flush()
        missing = [i.number for i in self.session.unanswered()]
        flagged = [e.number for e in self.session.navigator() if e.flagged]
        total = len(self.session.form.items)
        text = heading("Review and submit", "review")
        if missing:
            text += (f"<p>You have answered {total - len(missing)} of {total} questions. "
                     f"You have not answered {len(missing)} question(s): <b>{', '.join(map(str, missing))}</b>.</p>")
        else:
            text += f"<p>You have answered all {total} questions.</p>"
        if flagged:
            many = len(flagged) > 1  # "Flagged for review: 3." read as a count: say "question 3"
            text += (f"<p>You flagged {len(flagged)} question{'s' if many else ''} for review: "
                     f"question{'s' if many else ''} {', '.join(map(str, flagged))}.</p>")
        text += "<p><b>After you submit you cannot change your answers.</b></p>"
        go_to = [self._button(f"Go to question {n}",
                              lambda n=n: self._go(n)) for n in sorted(set(missing + flagged))[:10]]
        self._set_bar(self.timer)
        self._screen("review", [w.HTML(text), w.HBox(go_to, layout=w.Layout(flex_flow="row wrap")), w.HBox([
            self._button("Go back to the questions", lambda: self._go(self.current), "primary"),
            self._button("Submit my exam now", self._submit, "danger")], layout=w.Layout(flex_flow="row wrap"))])

    def _submit(self) -> None:
        if self.screen != "review":
            return
        self._flush()
        self._show_receipt(self.session.submit())

    def _after_close(self) -> None:
        """The sitting closed under us (deadline, submit elsewhere, void): show why."""
        status = self.session.status() if self.session.sitting_id else None
        if status == SittingStatus.submitted:
            self._show_receipt(self.session.receipt())
        elif status == SittingStatus.voided:
            self._finish()
            self._set_bar()
            self._screen("closed", [w.HTML(heading("This sitting is closed", "closed")
                                           + "<p>The proctor closed this sitting. Please raise your hand.</p>")])
        elif status == SittingStatus.absent:  # the sign-in closed (or the proctor marked absent) before the start
            self._finish()
            self._set_bar()
            self._screen("closed", [w.HTML(heading("This sitting is closed", "closed")
                                           + "<p>This sitting was marked absent, so it can no longer be "
                                             "started. Please ask the proctor.</p>")])

    def _show_receipt(self, r: Receipt | None, again: bool = False) -> None:
        """The receipt: exam, date, time, confirmation number and what happens next; never the answers.

        ``again``: signed in after the submit (a reload, or the code typed again)."""
        self._finish()
        if r is None:
            return
        if self.session.sitting_id is not None:
            self.drafts.sitting = self._draft_key
            self.drafts.forget()  # nothing typed is waiting any more
        why = {SubmitReason.deadline: "Time is up: your exam was submitted automatically.",
               SubmitReason.candidate: "Your exam was submitted.",
               SubmitReason.proctor: "The proctor submitted your exam."}.get(r.reason, "")
        if again:
            why = "This exam was already submitted; here is its receipt again. Answers can no longer be changed."
        zone = self.settings.timezone
        self._set_bar()
        self.timer.value = ""
        self.options.children = [self.text_size]
        self._screen("receipt", [w.HTML(
            heading("Your exam is in", "receipt")
            + f"<p>{why} You answered {r.answered} of {r.total} questions.</p>"
            f"<p>Exam: <b>{html.escape(r.exam_title)}</b>.</p>"
            f"<p>Submitted on <b>{receipt_day(r.submitted_at, zone)}</b> at "
            f"<b>{local_time(r.submitted_at, zone)}</b>.</p>"
            f"<p>Your confirmation number:</p><p class='eb-confirmation'>{r.confirmation}</p>"
            "<p>Write it down or read it to the proctor if you want proof that your answers arrived; "
            "the program keeps the full record.</p>"
            "<h3>What happens next</h3><p>Your exam will be scored: the written answers by two trained "
            "graders. The program will send you your score report, which tells you your result and, if "
            "you need them, your next steps.</p><p>You may close this page and leave the room quietly.</p>")])

    def _taken_over(self, text: str) -> None:
        """Another screen signed in to this sitting: say so, stop the clock, accept nothing more; the
        server may let this kernel go as soon as no page is connected to it (``pagesource.release_page``)."""
        self._finish()
        release_page()
        self._pending = {}
        self.drafts.forget()  # this screen accepts nothing more: nothing of it is handed over later
        self.timer.value = ""
        self._say(text, error=True)
        for widget in walk(self.root):
            if hasattr(widget, "disabled") and widget not in (self.text_size, self.clock_choice):
                widget.disabled = True

    def _finish(self) -> None:
        self._finished = True
        if self._pending_handle is not None:
            self._pending_handle.cancel()
        # the timer task sees ``_finished`` and ends by itself

    # -- the clock --------------------------------------------------------------------------
    def _start_timer(self) -> None:
        self._last_refresh = 0.0  # re-read at once: a sitting opened while paused shows it from the start
        self.tick()
        if has_loop() and self._timer_task is None:
            self._timer_task = asyncio.ensure_future(self._run_timer())

    async def _run_timer(self) -> None:
        while not self._finished:
            await asyncio.sleep(self.settings.tick_seconds)
            self._safe(self.tick)()

    def _show_clock(self) -> None:
        """The time left, or "Clock hidden" (WCAG 2.2.2); warnings come either way."""
        if self._finished or self._left is None or self.screen == "stopped":
            return
        shown = (f"Time left: {clock_text(self._left)}" if self.clock_choice.value != "hide"
                 else "Clock hidden")
        self.timer.value = f"<div class='eb-timer' role='timer' aria-live='off'>{shown}</div>"

    def tick(self) -> None:
        """Update the countdown from the server's clock; warn; submit at the deadline."""
        if self._finished:
            return
        if self._deadline is None or time.monotonic() - self._last_refresh >= self.settings.refresh_seconds:
            self._last_refresh = time.monotonic()
            status, deadline = self.session.refresh()  # TakenOver once another screen signed in
            if status == SittingStatus.in_progress:
                self.session.save_position()  # where the candidate is, if it moved without a save
            if status != SittingStatus.in_progress:
                self._after_close()
                return
            self._deadline = deadline
            if self.session.extra_minutes > self._extra and deadline is not None:
                text = added_text(self.session.extra_minutes - self._extra, deadline, self.settings.timezone,
                                  self.clock())
                self._say(text, alert=True)
                self.assist.announce(text)
                self.session.log_event(EventKind.time_added_shown, minutes=self.session.extra_minutes - self._extra)
            self._extra = self.session.extra_minutes
            if self._follow_stop(self.session.stopped):
                return
        if self.screen == "stopped":  # the clock stands still until the next re-read says otherwise
            if self._stop is not None and self._stop.until is not None and self.clock() >= self._stop.until:
                self._last_refresh = 0.0  # the break is over: re-read at the next tick
            return
        left = max(self._deadline - self.clock(), dt.timedelta(0))
        self._left = left
        self._warned = {m for m in self._warned if left.total_seconds() <= m * 60}  # added time: warn again later
        self._show_clock()
        for m in sorted(self.course.policy.time_warnings_minutes):
            if left.total_seconds() <= m * 60 and m not in self._warned and left.total_seconds() > 0:
                self._warned.update(x for x in self.course.policy.time_warnings_minutes if x >= m)
                text = f"{m} minutes left. Your answers are saved; at the end the exam is submitted automatically."
                self._say(text, alert=True)
                self.assist.announce(text)
                self.session.log_event(EventKind.warning, minutes=m)
                break
        if self._pending and left.total_seconds() <= self.settings.save_delay_seconds + 1:
            self._flush_quietly()  # do not let the debounce lose the last words
        if left.total_seconds() <= 0:
            self._flush_quietly()
            receipt = self.session.check_deadline()
            self._show_receipt(receipt or self.session.receipt())

    # -- a stopped clock: the proctor's pause, the candidate's break -----------------------------
    def _follow_stop(self, stop: Stopped | None) -> bool:
        """Show the stop the server reports (True), or go back to the questions once the clock runs again."""
        if stop is not None:
            if self.screen != "stopped" or stop != self._stop:
                self._show_stopped(stop)
            return True
        if self.screen == "stopped":
            self._stop = None
            self._go(self.current, "The exam goes on: the clock is running again.")
            self._refresh_break()
        return False

    def _show_stopped(self, stop: Stopped) -> None:
        """The screen of a stopped clock: what happened and why, the time kept, and when it goes on."""
        self._stop = stop
        left = clock_text(stop.left) if stop.left is not None else ""
        if stop.kind == "break":
            title = "You are on a break"
            ends = local_time(stop.until, self.settings.timezone, self.clock())
            text = (f"<p>The clock has stopped with <b>{left}</b> left. Your saved answers are safe.</p>"
                    f"<p>Your break ends at <b>{ends}</b> at the latest; "
                    "then the exam comes back by itself. Come back sooner with the button below.</p>")
            actions = [self._button("Back to the exam", self._end_break, "primary")]
        else:
            title = "The exam is paused"
            reason = f"<p>Reason: <b>{html.escape(stop.reason)}</b></p>" if stop.reason else ""
            kept = (f"The clock has stopped with <b>{left}</b> left: you will have all of it when the exam goes on."
                    if left else "The exam has not started yet: nobody starts while it is paused.")
            text = (f"{reason}<p>{kept} Your saved answers are safe, and no answer can be given or changed "
                    "while the exam is paused.</p><p>Please wait for the proctor. This screen goes back to "
                    "your questions by itself when the proctor resumes the exam.</p>")
            actions = [] if left else [self._button("Back to the instructions", self._show_instructions)]
        self._set_bar(self.timer)
        self.timer.value = (f"<div class='eb-timer' role='timer' aria-live='off'>Clock stopped"
                            f"{f': {left} left' if left else ''}</div>")
        self._screen("stopped", [w.HTML(heading(title, "stopped") + text), w.HBox(actions)])
        self.assist.announce(stop.message)  # it starts with the title: said once

    def _refresh_break(self) -> None:
        """"Take a break" while approved breaks remain (how many, and how long each)."""
        count, minutes = self.session.breaks_left()
        if not count:
            self.break_box.children = []
            return
        help_text = w.HTML(f"<span>The clock stops for up to {minutes} minutes; "
                           f"{count} break{'s' if count != 1 else ''} left.</span>")
        self.break_box.children = [self._button("Take a break", self._take_break), help_text]

    def _take_break(self) -> None:
        if self.screen != "exam":
            return
        self._flush()
        self._show_stopped(self.session.take_break())
        self._refresh_break()

    def _end_break(self) -> None:
        if self.screen != "stopped":
            return
        self.session.end_break()
        self._last_refresh = time.monotonic()
        status, self._deadline = self.session.refresh()
        self._follow_stop(self.session.stopped)

    def _flush_quietly(self) -> None:
        try:
            self._flush()
            self.session.save_position()  # a page hidden or closed: where the candidate was, now
        except SittingClosed:
            pass


def launch(course_root: str | None = None):
    """Build and display the app (the one code cell of ``exam.ipynb``)."""
    from ..course import Course

    return launch_app(lambda: CandidateApp(Course(course_root)), log,
                      "The exam is not ready on this computer. Please tell the proctor.")
