"""What an imported QTI item's or stimulus's content becomes: paragraphs of text, and a tally of what is not kept.

One rule decides every construct (``CONSTRUCTS``, the table docs/qti.md shows and a test holds to
it): what changes what a candidate sees or how an answer scores is an **error** (the item is not
imported; ``--skip-problems`` leaves it out), what only changes the look is a **warning** (the text
is kept, the look is not), and what exam-builder holds as it is (``p``, ``br``, ``div``, prompts,
content bodies) is **kept**. An element not in the table is an error: nothing is dropped unsaid.

``Reader.paragraphs(elements)`` walks content in document order. A block (``p``, ``div``, a
heading, a list item, ...) starts a paragraph; text straight inside a ``div`` before, between and
after its children is a paragraph of its own; ``<br/>`` is a line break; an inline element gives its
text. Whitespace is normalised as a browser shows it: a run of spaces, tabs and line breaks (the
XML's indentation) is one space, and none at the start or end of a line. In exam-builder's own
export (``exact``) only runs holding a tab or line break are, so plain spaces it wrote
(``"  - nested"``) read back exactly. What is not
kept is counted per construct (``Tally``): one problem per construct per item with its count and
first line, never one per descendant of an unsupported tree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..errors import Location, Problem

KEPT, WARNING, ERROR = "kept", "warning", "error"


@dataclass(frozen=True)
class Rule:
    """What import does with a construct: ``severity`` (kept, warning, error) and what becomes of it."""

    severity: str
    becomes: str


def _rules(names: str, severity: str, becomes: str) -> dict[str, Rule]:
    return {n: Rule(severity, becomes) for n in names.split()}


#: Every construct an item's or stimulus's content may hold, and what import does with it (docs/qti.md's table).
CONSTRUCTS: dict[str, Rule] = {
    **_rules("p div qti-prompt qti-content-body qti-stimulus-body", KEPT, "paragraphs of text"),
    **_rules("br", KEPT, "a line break"),
    **_rules("strong em b i u s span code sub sup small big q cite abbr kbd samp var dfn acronym bdo bdi mark "
             "label", WARNING, "its text, without the formatting"),
    **_rules("h1 h2 h3 h4 h5 h6 blockquote pre address", WARNING, "a paragraph of its text"),
    **_rules("ul ol dl", WARNING, "a line per entry (`- ` or `1. `)"),
    **_rules("li dt dd", WARNING, "a line of its list"),
    **_rules("a", WARNING, "its text; the link is not kept"),
    **_rules("hr", WARNING, "nothing (a rule between paragraphs)"),
    **_rules("qti-stylesheet", WARNING, "nothing: exam-builder shows items in its own style"),
    **_rules("img object picture audio video source track svg math iframe embed canvas figure figcaption",
             ERROR, "an image, media or formula the candidate would not see"),
    **_rules("table caption colgroup col thead tbody tfoot tr th td", ERROR,
             "a table's layout carries meaning"),
    **_rules("qti-catalog-info qti-catalog qti-card qti-card-entry qti-html-content qti-file-href", ERROR,
             "accessibility supports (glossary, sign language, spoken text) some candidates need"),
    **_rules("qti-companion-materials-info", ERROR, "a calculator, rule or reference sheet"),
    **_rules("qti-feedback-block qti-feedback-inline", ERROR, "feedback shown on conditions"),
    **_rules("qti-template-block qti-template-inline qti-printed-variable qti-template-declaration "
             "qti-template-processing", ERROR, "content generated from templates"),
    **_rules("qti-gap qti-hottext ruby rt rp qti-include", ERROR,
             "an interaction's part or markup exam-builder items cannot hold"),
}

#: Block elements: each starts a paragraph.
BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "address", "li", "dt", "dd",
          "qti-prompt", "qti-content-body", "qti-stimulus-body", "ul", "ol", "dl", "hr", "qti-rubric-block"}
_LAYOUT_RUN = re.compile(r"[ \t\r\n]*[\t\r\n][ \t\r\n]*")
_ANY_RUN = re.compile(r"[ \t\r\n]+")
_SOFT = "\ue000"  # a space that came from the XML's layout (dropped at the start and end of a line)


def local(el: object) -> str:
    """An element's local name ("" for a comment or processing instruction)."""
    return etree.QName(el).localname if isinstance(getattr(el, "tag", None), str) else ""


def _soft(text: str | None, exact: bool = True) -> str:
    return (_LAYOUT_RUN if exact else _ANY_RUN).sub(_SOFT, text or "")


def _line_up(text: str) -> str:
    """Soft spaces gone at line ends, one space elsewhere; a paragraph without empty lines at its ends."""
    lines = []
    for line in text.split("\n"):
        line = line.strip(_SOFT)
        line = re.sub(f" *{_SOFT}[{_SOFT} ]*", " ", line)
        lines.append(line)
    return "\n".join(lines)


@dataclass
class Tally:
    """What was not kept of one item's (or stimulus's) content: per construct, its count and first element."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, etree._Element] = field(default_factory=dict)

    def add(self, name: str, el: etree._Element) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1
        self.first.setdefault(name, el)

    def problems(self, where: str, item: str | None) -> list[Problem]:
        """One problem per construct: its count, what becomes of it, at its first line."""
        out = []
        for name, n in self.counts.items():
            rule = CONSTRUCTS.get(name, Rule(ERROR, "exam-builder items are text, choices and a rationale"))
            times = f" ({n} times; the first is here)" if n > 1 else ""
            says = f"is not carried over: {rule.becomes}" if rule.severity == ERROR else f"is read as {rule.becomes}"
            out.append(Problem(Location(where, line=self.first[name].sourceline, item=item),
                               f"<{name}>{times} {says}",
                               severity="error" if rule.severity == ERROR else "warning"))
        return out

    @property
    def has_error(self) -> bool:
        return any(CONSTRUCTS.get(n, Rule(ERROR, "")).severity == ERROR for n in self.counts)


@dataclass
class Reader:
    """Paragraphs from content, counting what is not kept. ``skip``: elements left to the caller (the
    interaction); ``rubric``: where scorer-view rubric blocks' paragraphs go (a candidate-view block
    stays in the text); ``blank``: what an inline interaction inside a sentence reads as."""

    tally: Tally = field(default_factory=Tally)
    skip: set = field(default_factory=set)
    rubric: list[str] = field(default_factory=list)
    blank: str = "_____"
    exact: bool = False  # exam-builder's own export: plain spaces kept as written (else as a browser shows them)
    _paras: list[str] = field(default_factory=list)
    _run: list[str] = field(default_factory=list)

    def paragraphs(self, elements: list[etree._Element] | etree._Element, *, inner: bool = True) -> list[str]:
        """The paragraphs of ``elements`` (an element: its content when ``inner``, else the element itself)."""
        self._paras, self._run = [], []
        if isinstance(elements, etree._Element) and inner:
            self._run.append(_soft(elements.text, self.exact))
            for child in elements:
                self._node(child)
                self._run.append(_soft(child.tail, self.exact))
        else:
            for el in elements:
                self._node(el)
        self._flush()
        return [p for p in self._paras if p.strip()]

    def text(self, elements: list[etree._Element] | etree._Element, *, inner: bool = True) -> str:
        """``paragraphs`` joined by a blank line, without line breaks at either end."""
        return "\n\n".join(self.paragraphs(elements, inner=inner)).strip("\n")

    def _flush(self) -> None:
        para = _line_up("".join(self._run))
        if para.strip():
            self._paras.append(para)
        self._run = []

    def _node(self, el: etree._Element) -> None:
        name = local(el)
        if not name:
            return
        if el in self.skip:
            if _inline_position(el):
                self._run.append(self.blank)
            return
        if name.endswith("-interaction"):
            self.tally.add(name, el)
            return
        if name == "qti-rubric-block":
            views = (el.get("view") or "candidate").split()
            if "candidate" in views:
                self._block(el)
            else:
                sub = Reader(tally=self.tally, skip=self.skip, exact=self.exact)
                self.rubric.extend(sub.paragraphs(el))
            return
        if name == "br":
            self._run.append("\n")
            return
        rule = CONSTRUCTS.get(name)
        if rule is None or rule.severity != KEPT:
            self.tally.add(name, el)
        if rule is None or rule.severity == ERROR:
            return  # not kept: its descendants are part of the one construct counted
        if name == "qti-stylesheet" or name == "hr":
            return
        if name in ("ul", "ol", "dl"):
            self._flush()
            n = 0
            for child in el:
                cname = local(child)
                if cname in ("li", "dt", "dd"):
                    n += 1
                    mark = f"{n}. " if name == "ol" else "- "
                    sub = Reader(tally=self.tally, skip=self.skip, rubric=self.rubric, exact=self.exact)
                    self._run.append(mark + "\n".join(sub.paragraphs(child)).replace("\n\n", "\n") + "\n")
                elif cname:
                    self._node(child)
            self._run = ["".join(self._run).rstrip("\n")]
            self._flush()
            return
        if name in BLOCKS:
            self._block(el)
            return
        self._run.append(_soft(el.text, self.exact))  # inline: its text
        for child in el:
            self._node(child)
            self._run.append(_soft(child.tail, self.exact))

    def _block(self, el: etree._Element) -> None:
        self._flush()
        self._run.append(_soft(el.text, self.exact))
        for child in el:
            self._node(child)
            self._run.append(_soft(child.tail, self.exact))
        self._flush()


def _inline_position(el: etree._Element) -> bool:
    """Whether an interaction stands inside a sentence (text or other inline content around it)."""
    parent = el.getparent()
    return parent is not None and local(parent) not in ("qti-item-body", "div") and (
        bool((el.tail or "").strip()) or bool((parent.text or "").strip()))
