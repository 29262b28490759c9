"""What the candidate-facing apps share: one page of screens with a text size, a message line and
focus that follows the screen.

``ScreenApp`` holds the page (``root``: style, assist, title, options, bar, message, body) and the
plumbing every screen uses: ``_screen`` (show a screen: its own message, focus on its heading),
``_say`` (errors interrupt with ``role=alert``, news waits its turn with ``role=status``) and
``_button`` (every click goes through ``_safe``, which a subclass defines: a candidate never sees
a traceback). The exam app (``delivery.candidate_app``) and the practice app
(``delivery.practice_app``) are subclasses.
"""
from __future__ import annotations

import asyncio
import html
import logging
import sys

import ipywidgets as w

from ..errors import ExamBuilderError
from .page import focus_on, heading, style_css
from .widgets import Assist, ChoiceGroup

TEXT_SIZES = {"Normal": 16, "Large": 20, "Larger": 25}

__all__ = ["ScreenApp", "TEXT_SIZES", "has_loop", "heading", "kernel_log", "launch_app", "walk"]


def kernel_log(name: str) -> logging.Logger:
    """A logger to the server's log: the kernel's own stderr would go to the candidate's page."""
    log = logging.getLogger(name)
    if not log.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return log


def has_loop() -> bool:
    """Whether an event loop runs (a kernel's), so that a timer task can be started."""
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


class ScreenApp:
    """A page of screens; subclasses add the screens and define ``_safe``."""

    def __init__(self, title: str):
        self.screen = ""
        self.style = w.HTML(style_css(TEXT_SIZES["Normal"]))
        self.assist = Assist()
        self.text_size = ChoiceGroup([(k, k) for k in TEXT_SIZES], legend="Text size", value="Normal",
                                     appearance="buttons")
        self.text_size.observe(self._safe(self._on_text_size), names="value")
        self.title = w.HTML(f"<h1>{html.escape(title)}</h1>")
        self.timer = w.HTML("")
        self.where = w.HTML("")  # "Question 3 of 18", beside the timer in the bar
        self.where.add_class("eb-where")
        self.bar = w.HBox([self.timer])
        self.bar.add_class("eb-bar")
        self.options = w.HBox([self.text_size])
        self.options.add_class("eb-options")
        self.message = w.HTML("")
        self.body = w.VBox([])
        self.body.add_class("eb-body")
        self.root = w.VBox([self.style, self.assist, self.title, self.options, self.bar, self.message, self.body],
                           layout=w.Layout(padding="0.5em 1em"))
        self.root.add_class("eb-app")

    #: Said when a callback fails unexpectedly (the error itself goes to the server's log).
    unexpected = "Something went wrong on this screen."
    log = logging.getLogger("exam_builder.ui")

    def _safe(self, fn):
        """Run a callback; errors become a message for the candidate, never a traceback."""
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except ExamBuilderError as exc:
                if not self._handled(exc):
                    self._say(str(exc), error=True)
            except Exception:  # noqa: BLE001 (anything unexpected: log it, reassure the candidate)
                self.log.exception("%s error (%s)", type(self).__name__, self._context())
                self._say(self.unexpected, error=True)
        return run

    def _handled(self, exc: ExamBuilderError) -> bool:
        """A subclass's own response to one of its errors (True: nothing more to say)."""
        return False

    def _context(self) -> str:
        """What the server's log names with an unexpected error (a sitting, a set)."""
        return ""

    def _say(self, text: str, error: bool = False, alert: bool = False) -> None:
        """A message on this screen: errors interrupt (``role=alert``), news waits its turn."""
        if not text:
            self.message.value = ""
            return
        cls = "eb-error" if error else ("eb-alert" if alert else "")
        role = "alert" if error else "status"
        self.message.value = f"<div class='{cls}' role='{role}'>{html.escape(text)}</div>"

    def _screen(self, name: str, children: list[w.Widget], focus: str | None = None, message: str = "") -> None:
        """Show a screen: its own message only, focus on its heading (``data-eb=name``)."""
        self.screen = name
        self._say(message)
        self.body.children = children
        self.assist.move_focus(focus_on(focus or name))

    def _button(self, label: str, on_click, style: str = "", tooltip: str = "") -> w.Button:
        b = w.Button(description=label, button_style=style, tooltip=tooltip or label,
                     layout=w.Layout(width="auto"))
        b.on_click(self._safe(lambda _b: on_click()))
        return b

    def _on_text_size(self, change) -> None:
        if change["new"] in TEXT_SIZES:
            self.style.value = style_css(TEXT_SIZES[change["new"]])


def launch_app(build, log: logging.Logger, unready: str):
    """Build an app and display it (the one code cell of an app's notebook); if it cannot start,
    the error goes to the server's log and the page says ``unready`` in plain words."""
    from IPython.display import display

    try:
        app = build()
    except Exception:  # noqa: BLE001 (a misconfigured server: log it, show a plain sentence)
        log.exception("cannot start the app")
        display(w.HTML(f"<p role='alert'>{html.escape(unready)}</p>"))
        return None
    display(app.root)
    return app


def walk(widget: w.Widget):
    """A widget and every widget inside it."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def close_tree(widget: w.Widget) -> None:
    """Close a widget no screen shows any more, everything inside it, and their layouts and styles:
    the kernel forgets their models, and a page loading (a reload) is not sent their state."""
    for each in list(walk(widget)):
        for part in ("layout", "style"):
            sub = getattr(each, part, None)
            if isinstance(sub, w.Widget):
                sub.close()
        each.close()
