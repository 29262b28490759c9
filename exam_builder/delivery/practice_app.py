"""The practice app (ipywidgets), rendered by Voila from ``practice.ipynb``: the exam app's page,
for study groups.

Screens: choose a set -> start (choose a clock, or none) -> questions, each checked with right or
wrong and the author's rationale -> summary per competency with what to study next -> again.

Contract: no code, no sign-in, nothing stored. The app reads practice set files only
(``practice.sets``, which never hold a certification item) and every answer goes through
``practice.run.PracticeRun``, so a scripted candidate and this page take one path. It opens no
database session: a practice run cannot become an attempt, a result or an item statistic. A
study group's link names its set (``?set=<name>``): the kernel never sees the page's address, so
the page reports its query string through the ``Assist`` widget once it is drawn (at any host,
over HTTPS, behind a proxy), and the app opens that set; without one, or with an unknown one, it
lists the sets.
Candidates see questions and buttons, never code or tracebacks.
"""
from __future__ import annotations

import asyncio
import html
import time
import urllib.parse

import ipywidgets as w

from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..practice.run import Feedback, PracticeRun, Question, TimeUp
from ..practice.sets import PracticeSet, list_sets
from ..ui.page import heading, md
from ..ui.screens import ScreenApp, has_loop, kernel_log, launch_app, walk
from ..ui.widgets import ChoiceGroup
from .candidate_app import clock_text
from .session import format_minutes

log = kernel_log("exam_builder.delivery.practice")

#: Clocks a candidate may choose besides none and the set's own suggestion (minutes).
CLOCKS = (15, 30, 60)
TICK_SECONDS = 1.0


def set_from_query(query: str | None) -> str | None:
    """The set a link names: ``set=<name>`` in its query string."""
    values = urllib.parse.parse_qs((query or "").lstrip("?")).get("set")
    return values[0] if values else None


class PracticeApp(ScreenApp):
    def __init__(self, course, clock=time.monotonic):
        self.course = course
        self.clock = clock
        self.sets: dict[str, PracticeSet] = {}
        self.pset: PracticeSet | None = None
        self.run: PracticeRun | None = None
        self.current = 1
        self._timer_task = None
        self._controls: dict[int, w.Widget] = {}
        super().__init__(f"{course.policy.program_name}: practice")
        self._followed = False
        self.assist.observe(self._safe(self._on_page_query), names="page_query")
        self._show_sets()

    def _on_page_query(self, change) -> None:
        """The page reports its link once drawn: open the link's set, once, if nothing was chosen yet."""
        name = set_from_query(change["new"])
        if name and not self._followed and self.screen == "sets":
            self._followed = True
            self.open_set(name)

    unexpected = "Something went wrong on this screen. Please reload the page to start again."
    log = log

    def _handled(self, exc: ExamBuilderError) -> bool:
        if isinstance(exc, TimeUp):
            self._show_summary(str(exc))
            return True
        return False

    def _context(self) -> str:
        return f"practice set {self.pset.name if self.pset else None}"

    # -- choose a set, start ----------------------------------------------------------------
    def _read_sets(self) -> None:
        """The sets as they are on disk now, not when this kernel was warmed (a preheated kernel may
        wait days for its page): a set built or rebuilt while the server runs is served at once."""
        self.sets = {s.name: s for s in list_sets(self.course)}

    def _show_sets(self, message: str = "") -> None:
        self._stop_timer()
        self._read_sets()
        self.bar.children = [self.timer]
        self.timer.value = ""
        text = (heading("Practice questions", "sets")
                + "<p>This is practice. It is not the exam: nothing about you is recorded, it never counts as an "
                  "attempt, and you can practise as often as you like. After each answer you see whether it was "
                  "right, and why.</p>")
        if not self.sets:
            self._screen("sets", [w.HTML(text + "<p>No practice sets are ready yet. Ask the program.</p>")],
                         message=message)
            return
        buttons = [self._button(f"{s.title} ({len(s.items)} questions"
                                + (f", {format_minutes(s.minutes)} suggested)" if s.minutes else ")"),
                                lambda s=s: self.open_set(s.name))
                   for s in self.sets.values()]
        self._screen("sets", [w.HTML(text + "<p>Choose a practice set:</p>"),
                              w.VBox(buttons, layout=w.Layout(align_items="flex-start"))], message=message)

    def open_set(self, name: str | None) -> None:
        """Show a set's start screen (a link's set, or one chosen from the list)."""
        if not name:
            return
        self._read_sets()
        if name not in self.sets:
            self._show_sets(f"There is no practice set called {name!r}. Choose one below.")
            return
        self.pset = self.sets[name]
        s = self.pset
        topics = ", ".join(s.competency_names.values())
        modules = ", ".join(f"module {m} ({t})" for m, t in s.module_titles.items())
        offered = ([s.minutes] if s.minutes and s.minutes not in CLOCKS else []) + list(CLOCKS)
        choices = [("none", "No clock")] + [(str(m), format_minutes(m) + (" (suggested)" if m == s.minutes else ""))
                                            for m in offered]
        self.clock_pick = ChoiceGroup(choices, legend="Time yourself?", value="none")
        text = (heading(html.escape(s.title), "start")
                + f"<p>{len(s.items)} questions on {html.escape(topics)}.</p>"
                + (f"<p>From {html.escape(modules)}.</p>" if modules else "")
                + "<p>Choose <b>Check my answer</b> after each question to see if you were right and why. "
                  "At the end you see how you did in each area and what to study next.</p>"
                  "<p>You can practise with no clock, or time yourself to get used to the exam's pace.</p>")
        self._screen("start", [w.HTML(text), self.clock_pick, w.HBox([
            self._button("Start practice", self._start, "primary"),
            self._button("Choose another set", self._show_sets)], layout=w.Layout(flex_flow="row wrap"))])

    def _start(self) -> None:
        if self.pset is None:
            return
        pick = self.clock_pick.value
        minutes = None if pick in (None, "none") else int(pick)
        self.run = PracticeRun(self.pset, minutes=minutes, clock=self.clock,
                               minute_seconds=self.course.delivery_settings.practice_minute_seconds)
        log.info("practice run started (set %s, %s)", self.pset.name, f"{minutes} min" if minutes else "no clock")
        self._controls = {}
        self.prev_btn = self._button("◀ Previous", lambda: self._go(self.current - 1), tooltip="Previous question")
        self.next_btn = self._button("Next ▶", lambda: self._go(self.current + 1), "primary", tooltip="Next question")
        self.done_btn = self._button("Finish and see my summary", self._show_summary, "warning")
        buttons = w.HBox([self.prev_btn, self.next_btn, self.done_btn])
        buttons.add_class("eb-buttons")
        self.bar.children = [self.timer, self.where, buttons]
        self.current = 0
        self._go(1)
        self._start_timer()

    # -- the questions --------------------------------------------------------------------
    def _go(self, number: int) -> None:
        run = self.run
        if run is None or not 1 <= number <= len(run.questions):
            return
        self.current = number
        q = run.question(number)
        total = len(run.questions)
        self.prev_btn.disabled = number == 1
        self.next_btn.disabled = number == total
        self.where.value = f"<span>Question {number} of {total}</span>"
        self._screen("question", [self._question_box(q)], focus=f"q{number}")
        self.assist.announce(f"Question {number} of {total}")

    def _question_box(self, q: Question) -> w.Box:
        total = len(self.run.questions)
        head = w.HTML(heading(f"Question {q.number} of {total}", f"q{q.number}"))
        kind = kind_for(q.item.kind)
        note = kind.question_note
        parts: list[w.Widget] = [w.HTML(md(q.item.stem))]
        if note:
            parts.append(w.HTML(f"<p><b>{html.escape(note[:1].upper() + note[1:])}.</b></p>"))
        fb = self.run.feedback.get(q.number)
        ctrl = kind.control(q.number, q.options, fb.answer if fb else None, rows=8)  # the kind's whole control
        check_label = "Compare with what graders look for" if kind.rated else "Check my answer"
        self._controls[q.number] = ctrl
        check = self._button(check_label, lambda: self._check(q.number), "primary",
                             tooltip=f"{check_label} (question {q.number})")
        result = w.HTML(self._feedback_html(fb) if fb else "")
        if fb:
            ctrl.disabled = check.disabled = True
        parts += [ctrl, w.HBox([check]), result]
        scenario = self.pset.scenarios.get(q.item.scenario) if q.item.scenario else None
        if scenario is not None:
            story = w.HTML(f"<section aria-label='Situation' class='eb-story'>{md(scenario.text)}</section>")
            split = w.HBox([story, w.VBox(parts)])
            split.add_class("eb-split")
            return w.VBox([head, split])
        return w.VBox([head, *parts])

    def _check(self, number: int) -> None:
        q = self.run.question(number)
        ctrl = self._controls[number]
        kind = kind_for(q.item.kind)
        value = kind.control_answer(ctrl.value)
        if value is None or not value.strip():  # an empty answer would fix the question unanswered
            first = "Write your answer" if kind.typed else "Choose an answer"
            check_label = "Compare with what graders look for" if kind.rated else "Check my answer"
            self._say(f"{first} first, then press {check_label}.", error=True)
            return
        fb = self.run.check(number, value)
        self._go(number)  # the question again, checked: the answer fixed and the feedback below it
        self.assist.announce(fb.headline)

    def _feedback_html(self, fb: Feedback) -> str:
        """Right or wrong, the key in words and the author's reason, read out as it appears."""
        if fb.verdict == "written":
            guide = "".join(f"<li>{html.escape(g)}</li>" for g in fb.guide)
            body = (f"<p><b>{fb.headline}</b></p>" + (f"<ul>{guide}</ul>" if guide else "")
                    + (f"<p><b>Why this matters:</b> {html.escape(fb.rationale)}</p>" if fb.rationale else ""))
            return f"<div class='eb-feedback' role='status'>{body}</div>"
        cls = "eb-right" if fb.right else "eb-wrong"
        mark = "✓ " if fb.right else "✗ "
        chose = f" {html.escape(fb.said)}" if fb.said and not fb.right else ""
        key = "" if fb.right else f"<p>The answer: <b>{html.escape(fb.key_text)}</b></p>"
        why = f"<p><b>Why:</b> {html.escape(fb.rationale)}</p>" if fb.rationale else ""
        return (f"<div class='eb-feedback {cls}' role='status'><p><b>{mark}{fb.headline}</b>{chose}</p>"
                f"{key}{why}</div>")

    # -- the summary ------------------------------------------------------------------------
    def _show_summary(self, message: str = "") -> None:
        if self.run is None:
            return
        self._stop_timer()
        s = self.run.summary()
        self.bar.children = [self.timer]
        self.timer.value = ""
        rows = "".join(f"<tr><th scope='row'>{html.escape(r.name)}</th><td>{r.right}</td>"
                       f"<td>{r.checked} of {r.total}</td></tr>" for r in s.rows)
        table = ("<table class='eb-table'><caption>Your answers by area</caption><thead><tr><th scope='col'>Area</th>"
                 "<th scope='col'>Right</th><th scope='col'>Answered</th></tr></thead>"
                 f"<tbody>{rows}</tbody></table>")
        if s.study_next:
            study = ("<h3>What to study next</h3><ul>"
                     + "".join(f"<li>{html.escape(s.advice(r))}</li>" for r in s.study_next) + "</ul>")
        else:
            study = ("<h3>What to study next</h3><p>You did well in every area. Try another set, or time yourself "
                     "to practise the exam's pace.</p>")
        written = sum(r.written for r in s.rows)
        text = (heading("Your practice summary", "summary")
                + f"<p>You got <b>{s.right} of {s.checked}</b> answered questions right "
                  f"({s.checked} of {s.total} answered).</p>"
                + (f"<p>You compared {written} written answer(s) with what graders look for.</p>" if written else "")
                + table + study
                + "<p>This was practice: nothing was recorded, and it does not count as an exam attempt.</p>")
        log.info("practice run finished (set %s: %d of %d right, %d answered of %d)",
                 self.pset.name, s.right, s.checked, s.checked, s.total)
        self._screen("summary", [w.HTML(text), w.HBox([
            self._button("Practise this set again", lambda: self.open_set(self.pset.name), "primary"),
            self._button("Choose another set", self._show_sets)], layout=w.Layout(flex_flow="row wrap"))],
            message=message)

    # -- the clock the candidate chose ------------------------------------------------------
    def _start_timer(self) -> None:
        self.tick()
        if self.run is not None and self.run.minutes is not None and has_loop():
            self._timer_task = asyncio.ensure_future(self._run_timer())

    async def _run_timer(self) -> None:
        while self.screen == "question":
            await asyncio.sleep(TICK_SECONDS)
            self._safe(self.tick)()

    def _stop_timer(self) -> None:
        if self._timer_task is not None:
            self._timer_task.cancel()
            self._timer_task = None

    def tick(self) -> None:
        left = self.run.time_left() if self.run else None
        if left is None:
            self.timer.value = "<div class='eb-timer'>No clock</div>"
            return
        self.timer.value = f"<div class='eb-timer' role='timer' aria-live='off'>Time left: {clock_text(left)}</div>"
        if left.total_seconds() <= 0 and self.screen == "question":
            for widget in walk(self.body):
                if hasattr(widget, "disabled"):
                    widget.disabled = True
            self._show_summary("Time is up. Here is how you did.")


def launch(course_root: str | None = None):
    """Build and display the app (the one code cell of ``practice.ipynb``)."""
    from ..course import Course

    return launch_app(lambda: PracticeApp(Course(course_root)), log,
                      "Practice is not ready on this computer. Please tell the program.")
