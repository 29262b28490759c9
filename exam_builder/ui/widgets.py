"""``ChoiceGroup``, ``Navigator``, ``TextForm``, ``Assist``, ``Disclosure`` and ``Drafts``: the page's own widgets (see
the package docstring).

Each is an ``anywidget.AnyWidget`` whose ES module and CSS are files beside this one. Their state
is synced traits (``value``, ``entries``, ``current``...); clicks in the navigator come to the
kernel as a custom message ``{"go": N}`` handed to ``on_go`` callbacks, and a form's submit as
``{"submit": TEXT}`` handed to ``on_submit`` callbacks.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import anywidget
import traitlets as t

_HERE = Path(__file__).parent
_CSS = (_HERE / "widgets.css").read_text()


class ChoiceGroup(anywidget.AnyWidget):
    """One answer out of several: a named radio group, or toggle buttons saying ``aria-pressed``.

    With ``multiple=True`` ("select all that apply") it is a named group of native checkboxes and
    ``value`` is the list of values checked, in option order (``[]``: none).
    """

    _esm = _HERE / "choice.js"
    _css = _CSS
    options = t.List(t.Tuple(t.Unicode(), t.Unicode())).tag(sync=True)  # (value, label shown)
    value = t.Union([t.Unicode(), t.List(t.Unicode())], default_value=None, allow_none=True).tag(sync=True)
    legend = t.Unicode("").tag(sync=True)
    appearance = t.Enum(["radios", "buttons"], "radios").tag(sync=True)
    multiple = t.Bool(False).tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)

    def __init__(self, options: Sequence[tuple[str, str]], legend: str, value: str | list[str] | None = None,
                 multiple: bool = False, **kwargs):
        # options and multiple first: the value is checked against them
        super().__init__(options=[tuple(o) for o in options], multiple=multiple, legend=legend,
                         value=([] if value is None else value) if multiple else value, **kwargs)

    @t.validate("value")
    def _known(self, proposal):
        """A value the page sends must be one of the options, or in ``multiple`` mode a list of
        distinct options (kept in option order); anything else is refused."""
        v = proposal["value"]
        known = [o[0] for o in self.options]
        if self.multiple:
            v = [] if v is None else v
            if not isinstance(v, list) or len(set(v)) != len(v) or not set(v) <= set(known):
                raise t.TraitError(f"not a selection of the options: {v!r}")
            return [o for o in known if o in v]
        if v is not None and (not isinstance(v, str) or v not in known):
            raise t.TraitError(f"not an option: {v!r}")
        return v

    @property
    def description(self) -> str:  # what the other widgets call it, for the app's own lookups
        return self.legend


class Navigator(anywidget.AnyWidget):
    """The list of questions: current marked ``aria-current``, answered and flagged said in words."""

    _esm = _HERE / "navigator.js"
    _css = _CSS
    entries = t.List(t.Dict()).tag(sync=True)  # {"n": 3, "answered": true, "flagged": false}
    current = t.Int(1).tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._go: list[Callable[[int], None]] = []
        self.on_msg(self._on_page)

    def on_go(self, callback: Callable[[int], None]) -> None:
        self._go.append(callback)

    def _on_page(self, _widget, content, _buffers) -> None:
        n = content.get("go") if isinstance(content, dict) else None
        if isinstance(n, int) and not isinstance(n, bool) and any(e.get("n") == n for e in self.entries):
            for callback in self._go:
                callback(n)


class TextForm(anywidget.AnyWidget):
    """One labelled box and its button in a form: Enter or the button sends the text with it.

    ``value`` follows typing (so a page can read it); ``on_submit`` callbacks get the text the
    form sent, never an older value still on its way.
    """

    _esm = _HERE / "textform.js"
    _css = _CSS
    label = t.Unicode("").tag(sync=True)
    button = t.Unicode("").tag(sync=True)
    placeholder = t.Unicode("").tag(sync=True)
    value = t.Unicode("").tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)
    max_length = 200  # longer text is refused before it reaches a callback

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._submit: list[Callable[[str], None]] = []
        self.on_msg(self._on_page)

    @property
    def description(self) -> str:
        return self.label

    def on_submit(self, callback: Callable[[str], None]) -> None:
        self._submit.append(callback)

    def submit(self, text: str) -> None:
        """What the page's Enter or button does (scripts and tests call it too)."""
        self.value = text
        for callback in self._submit:
            callback(text)

    def _on_page(self, _widget, content, _buffers) -> None:
        text = content.get("submit") if isinstance(content, dict) else None
        if isinstance(text, str) and len(text) <= self.max_length:
            self.submit(text)


class Assist(anywidget.AnyWidget):
    """Moves focus to a screen's heading and speaks short news through a polite live region."""

    _esm = _HERE / "assist.js"
    _css = _CSS
    focus = t.Dict({"selector": "", "n": 0}).tag(sync=True)
    announcement = t.Dict({"text": "", "n": 0}).tag(sync=True)
    #: The page's query string (``location.search``), as the browser that draws this widget reports
    #: it: how a page tells its kernel which link it was opened with (the practice app's ``?set=``).
    page_query = t.Unicode("").tag(sync=True)
    _serial = itertools.count(1)

    @t.validate("page_query")
    def _short(self, proposal):
        """A query string the page sends is text of at most 512 characters; anything else is refused."""
        v = proposal["value"]
        if not isinstance(v, str) or len(v) > 512:
            raise t.TraitError("not a query string")
        return v

    def move_focus(self, selector: str) -> None:
        """Focus (and scroll to) the first element matching ``selector`` once it is on the page."""
        self.focus = {"selector": selector, "n": next(self._serial)}

    def announce(self, text: str) -> None:
        """Say ``text`` to a screen reader without moving focus (said again if repeated)."""
        self.announcement = {"text": text, "n": next(self._serial)}


class Disclosure(anywidget.AnyWidget):
    """A button that shows or hides a part of the page (``aria-expanded``): the display settings
    folded into one control, so a small screen starts with the question, not with settings."""

    _esm = _HERE / "disclosure.js"
    _css = _CSS
    label = t.Unicode("").tag(sync=True)
    expanded = t.Bool(False).tag(sync=True)
    #: The CSS selector of what it shows or hides (named by ``aria-controls`` once it is on the page).
    controls = t.Unicode("").tag(sync=True)

    @property
    def description(self) -> str:
        return self.label


#: What a page may hand its kernel of kept drafts: under the server's largest websocket message.
DRAFTS_MAX_CHARS = 60_000  # drafts.js hands over no more (UTF-8: at most 180 kB)


def clean_stored(v) -> dict:
    """What a page says it kept, as plain bounded data: ``{"drafts": {key: {"text", "base"}}, "at": {key: n}}``."""
    out: dict = {"drafts": {}, "at": {}}
    if not isinstance(v, dict):
        return out
    budget = DRAFTS_MAX_CHARS
    drafts = v.get("drafts") if isinstance(v.get("drafts"), dict) else {}
    for key, d in drafts.items():
        if (isinstance(key, str) and len(key) <= 64 and isinstance(d, dict)
                and isinstance(d.get("text"), str) and isinstance(d.get("base", ""), str)):
            budget -= len(d["text"]) + len(d.get("base", ""))
            if budget < 0:
                break
            out["drafts"][key] = {"text": d["text"], "base": d.get("base", "")}
    at = v.get("at") if isinstance(v.get("at"), dict) else {}
    for key, n in at.items():
        if isinstance(key, str) and len(key) <= 64 and isinstance(n, int) and not isinstance(n, bool):
            out["at"][key] = n
    return out


class Drafts(anywidget.AnyWidget):
    """Typed text the server has not confirmed yet, kept in the page (``sessionStorage``).

    The kernel names the sitting (``sitting``) and each written-answer box carries the class
    ``eb-answer-qN``; the page keeps what is typed in such a box under ``sitting`` and N, with the
    last text the server confirmed for it (``base``), until the kernel says the server holds that
    text (``confirm``). When the page is hidden or unloaded it asks the kernel to save at once
    (``on_flush``), with its drafts (handed to ``on_resend`` first: the box's own update may still
    wait its turn in the page). A new page (a reload, a crash, a restart) hands its kept drafts and the
    question each sitting was on to the kernel as soon as it is drawn (``stored``), before anyone
    can sign in; the app saves those the server has not got. After being offline, the page
    hands them over again (``on_resend``). A page without JavaScript (the rehearsal's page
    client) simply sends nothing.
    """

    _esm = _HERE / "drafts.js"
    _css = _CSS
    sitting = t.Unicode("").tag(sync=True)  # kernel -> page: whose drafts are kept now ("" none)
    at = t.Int(0).tag(sync=True)  # kernel -> page: the question on screen, kept for a reload
    #: page -> kernel: {"drafts": {"SITTING:N": {"text": ..., "base": ...}}, "at": {"SITTING": N}}
    stored = t.Dict().tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._flush: list[Callable[[], None]] = []
        self._resend: list[Callable[[dict[int, dict[str, str]]], None]] = []
        self.on_msg(self._on_page)

    @t.validate("stored")
    def _plain(self, proposal):
        """Only well-formed drafts of bounded size reach the app; anything else is dropped."""
        return clean_stored(proposal["value"])

    def kept(self, sitting: str) -> tuple[dict[int, dict[str, str]], int | None]:
        """The page's drafts of ``sitting`` by question number, and the question it was on."""
        drafts = {}
        for key, d in self.stored.get("drafts", {}).items():
            name, _, n = key.rpartition(":")
            if name == sitting and n.isdigit():
                drafts[int(n)] = d
        return drafts, self.stored.get("at", {}).get(sitting)

    def confirm(self, number: int, text: str) -> None:
        """The server holds ``text`` as the answer to question ``number``: the page stops keeping it."""
        self.send({"confirm": number, "text": text})

    def forget(self) -> None:
        """Drop every draft of the current sitting (submitted, or taken over by another screen)."""
        self.send({"forget": True})

    def on_flush(self, callback: Callable[[], None]) -> None:
        self._flush.append(callback)

    def on_resend(self, callback: Callable[[dict[int, dict[str, str]]], None]) -> None:
        self._resend.append(callback)

    def _on_page(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict):
            return
        handed = content.get("drafts") if content.get("flush") is True else content.get("resend")
        if isinstance(handed, dict) and handed:
            drafts = clean_stored({"drafts": {f"x:{k}": d for k, d in handed.items()}})
            kept = {int(k[2:]): d for k, d in drafts["drafts"].items() if k[2:].isdigit()}
            for callback in self._resend:
                callback(kept)
        if content.get("flush") is True:
            for callback in self._flush:
                callback()
