"""The verification desk: a person decides each answer the scanner would not guess (Voila, staff only).

``VerifySession`` is what a staff member does, without widgets, through ``paper.verify`` only: the
marks waiting (faint, erased, double, a short answer written by hand), each with its cropped row or
box (no name, no code), and the decision (confirm what was read, or the right answer), audited with
who decided. ``VerifyApp`` draws it with ipywidgets and the accessible widgets of ``exam_builder.ui``
and calls the same object, so tests and scripts take the app's code path. Keyboard only: a text box
and two buttons; the image has words beside it (what was read, and why it is here); the heading of
each check takes focus and the outcome is spoken. Who decides: the hub user in hub mode, else the
name typed once (self-declared), as at the coordinator's desk.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

from ..errors import ExamBuilderError
from ..paper import verify
from ..records import identity
from ..ui.page import esc as _e, focus_on, heading, style_css
from ..ui.widgets import Assist, TextForm

NOTEBOOK = Path(__file__).resolve().parent / "verify.ipynb"
#: Why a mark is here, in words.
WHY_TEXT = {"faint": "a faint mark: too light to count, too dark to ignore",
            "erased": "a clear mark beside a half-erased one",
            "double": "two marks on a question that takes one answer",
            "written": "a short answer written by hand: type what it says",
            "differs": "the two people who keyed the sheet read it differently: type the right answer"}


class VerifySession:
    """One staff member's session on one exam's unclear marks."""

    def __init__(self, course, exam: str):
        self.course, self.exam = course, exam
        self.signin = identity.StaffSignIn("decisions", "every decision records who made it")

    @property
    def name(self) -> str | None:
        return self.signin.name

    @property
    def hub_signed(self) -> bool:
        return self.signin.hub_signed

    def sign_in(self, name: str) -> None:
        self.signin.sign_in(name)

    def waiting(self) -> list[verify.Check]:
        return verify.pending(self.course, self.exam)

    def decide(self, check_id: int, value: str | None) -> verify.Decided:
        """Confirm (``value`` None) or correct one check, as the signed-in person (audited)."""
        return verify.decide(self.course, self.exam, check_id, self.signin.require(), value)


VERIFY_CSS = """<style>
.eb-verify .eb-crop img { width: 100%; max-width: 40em; height: auto; border: 2px solid #111; }
.eb-verify .eb-ok { border: 2px solid #1d6b2f; background: #eaf6ec; padding: 0.5em; }
</style>"""


class VerifyApp:
    """The ipywidgets front of ``VerifySession``: sign in (token mode), then one check at a time."""

    def __init__(self, session: VerifySession):
        import ipywidgets as w

        self.session = session
        self.assist = Assist()
        self.message = w.HTML()
        self.title = w.HTML("<h1>Verification desk</h1>")
        self.who = w.HTML()
        self.name = TextForm(label="Your name", button="Sign in")
        self.name.on_submit(lambda text: self._run(lambda: self._sign_in(text)))
        self.sign_in_panel = w.VBox([w.HTML(f"{heading('Sign in', 'sign-in')}<p>Type your name once: every "
                                            "decision records who made it.</p>"), self.name])
        self.head = w.HTML()
        self.crop = w.HTML()
        self.answer = TextForm(label="The right answer (a label such as B, several as A,C; empty for none)",
                               button="Save the right answer")
        self.answer.on_submit(lambda text: self._run(lambda: self._decide(text)))
        self.confirm = w.Button(description="Confirm what was read", button_style="primary")
        self.confirm.on_click(lambda _b: self._run(lambda: self._decide(None)))
        self.outcome = w.HTML()
        self.work = w.VBox([self.crop, self.confirm, self.answer])
        self.main = w.VBox([self.who, self.head, self.work, self.outcome])
        self.root = w.VBox([w.HTML(style_css(16) + VERIFY_CSS), self.assist, self.title, self.sign_in_panel,
                            self.main, self.message])
        self.root.add_class("eb-app")
        self.root.add_class("eb-verify")
        self.main.layout.display = "none"
        self._current: verify.Check | None = None
        if session.hub_signed:
            self.sign_in_panel.layout.display = "none"
            self._open(f"Signed in through JupyterHub as {session.name}.")

    def _run(self, fn) -> None:
        try:
            fn()
        except ExamBuilderError as exc:
            self.outcome.value = f"<p role='alert' class='eb-error'>Not done: {_e(exc)}</p>"
            self.assist.announce(f"Not done: {exc}")

    def _sign_in(self, text: str) -> None:
        self.session.sign_in(text)
        self.sign_in_panel.layout.display = "none"
        self._open(f"Signed in as {self.session.name}. Your name is recorded with every decision "
                   "(typed here, not checked by a sign-in service).")

    def _open(self, who: str) -> None:
        self.who.value = f"<p>{_e(who)}</p>"
        self.main.layout.display = ""
        self.refresh()

    def refresh(self) -> None:
        waiting = self.session.waiting()
        self._current = waiting[0] if waiting else None
        c = self._current
        if c is None:
            self.head.value = heading("Marks to verify: none", "check")
            self.crop.value = "<p>Nothing is waiting. Scanned sheets with unclear marks appear here.</p>"
            self.work.children = (self.crop,)
        else:
            self.head.value = heading(f"Marks to verify: {len(waiting)}. Question {c.number}, response "
                                      f"{c.sitting_id}-{c.id}", "check")
            png = base64.b64encode(c.image).decode("ascii")
            picture = (f"<div class='eb-crop'><img alt='Question {c.number} as scanned: the marked row' "
                       f"src='data:image/png;base64,{png}'></div>") if c.image else (
                "<p>Keyed by hand from the paper sheet (no scan): look at the sheet itself.</p>")
            self.crop.value = (
                picture +
                f"<p><strong>Read:</strong> {_e(c.read or 'nothing')}</p>"
                f"<p><strong>Why it is here:</strong> {_e(WHY_TEXT.get(c.why, c.why))}</p>"
                f"<p><strong>From:</strong> {_e(c.source)}</p>")
            self.work.children = (self.crop, self.confirm, self.answer) if c.why not in ("written", "differs") else (
                self.crop, self.answer)
        self.assist.move_focus(focus_on("check"))

    def _decide(self, value: str | None) -> None:
        c = self._current
        if c is None:
            raise ExamBuilderError("nothing is waiting")
        done = self.session.decide(c.id, value)
        text = (f"Question {done.number}: {'confirmed' if value is None else 'corrected to'} "
                f"{done.value or 'no answer'}" + (". The sitting is complete and handed in." if done.handed_in
                                                   else "."))
        self.refresh()
        self.outcome.value = f"<p role='status' class='eb-ok'>{_e(text)}</p>"
        self.assist.announce(text)

    def display(self):
        from IPython.display import display

        display(self.root)
        return self


def app_from_environment() -> VerifyApp:
    """The app for the notebook ``exam-builder scan desk`` (or a hub service) serves; course and exam from env."""
    from ..course import Course

    identity.standalone()
    course = Course(os.environ.get("EXAM_BUILDER_COURSE", "."))
    return VerifyApp(VerifySession(course, course.exam_name(os.environ.get("EXAM_BUILDER_EXAM"))))
