"""``ChoiceGroup``, ``Navigator``, ``TextForm`` and ``Assist``: the accessible widgets (see the package docstring).

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
