"""The XML vocabulary exam-builder writes and reads as QTI: namespaces, text, identifiers, item writers.

Kind modules build their part of an item through ``ItemWriter`` (``kinds.base.ItemKind.qti_item``)
and read it back from a ``Found`` (``ItemKind.from_qti``), so no kind touches lxml directly and
each kind's QTI code stays a few lines. Text goes out as paragraphs (``<p>``, a line break as
``<br/>``) and comes back exactly: ``text.split("\\n\\n")`` is the paragraphs; markdown markup
travels as text (exam-builder's authors write markdown; QTI renders XHTML).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from .rubric import Rubric

QTI = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI22 = "http://www.imsglobal.org/xsd/imsqti_v2p2"
CP = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
LOM = "http://ltsc.ieee.org/xsd/LOM"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
QTI_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
CP_XSD = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
LOM_XSD = "https://purl.imsglobal.org/spec/md/v1p3/schema/xsd/imsmd_loose_v1p3p2.xsd"
RP_TEMPLATES = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"
MATCH_CORRECT = RP_TEMPLATES + "match_correct.xml"
MAP_RESPONSE = RP_TEMPLATES + "map_response.xml"
#: Where exam-builder's own metadata sits in LOM (catalog of identifiers, source of vocabularies).
CATALOG = "exam-builder"

_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def q(tag: str) -> str:
    """A QTI 3.0 element name in Clark notation."""
    return f"{{{QTI}}}{tag}"


def is_ncname(text: str) -> bool:
    """An XML NCName (ASCII subset: what a QTI identifier must be)."""
    return bool(_NCNAME.match(text))


def ncnames(ids: list[str], prefix: str) -> dict[str, str]:
    """A QTI identifier for each id: itself when it is an NCName, else ``prefix + id`` made unique.

    The original id travels in the manifest's LOM identifier, so import restores it.
    """
    taken = {i for i in ids if is_ncname(i)}
    out = {i: i for i in taken}
    for i in ids:
        if i in out:
            continue
        base = prefix + re.sub(r"[^A-Za-z0-9_.-]", "-", i)
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        out[i] = name
    return out


def choice_id(index: int) -> str:
    """A choice's identifier: its authored position as a letter (A, B, ...; C27 beyond Z)."""
    return chr(ord("A") + index) if index < 26 else f"C{index + 1}"


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A QTI child element (attribute names with '_' written with '-')."""
    el = etree.SubElement(parent, q(tag), {k.replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def write_text(parent: etree._Element, text: str) -> None:
    """Text as ``<p>`` paragraphs (blank-line separated), a line break inside one as ``<br/>``."""
    for para in text.split("\n\n"):
        p = sub(parent, "p")
        lines = para.split("\n")
        p.text = lines[0]
        for line in lines[1:]:
            br = sub(p, "br")
            br.tail = line


def read_text(parent: etree._Element) -> str:
    """What ``write_text`` wrote: paragraphs joined by a blank line, ``<br/>`` as a line break.

    Elements other than ``p``/``br`` contribute their text (the importer reports them).
    """
    paras = []
    for p in parent:
        if not isinstance(p.tag, str):
            continue
        paras.append(_inline(p))
    return "\n\n".join(paras)


def _inline(el: etree._Element) -> str:
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and etree.QName(child).localname == "br":
            parts.append("\n")
        elif isinstance(child.tag, str):
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


@dataclass
class ItemWriter:
    """One ``qti-assessment-item`` under construction, in the schema's element order.

    A kind calls ``declare_response``, ``choice_interaction``/``extended_text``, and
    ``template``/``mapping``; the exporter adds outcomes, the stimulus reference, the stem and the
    rationale around them.
    """

    root: etree._Element
    stem_parent: etree._Element | None = None  # set by the exporter: where the stem and interaction go
    declaration: etree._Element | None = None
    body_first: list[etree._Element] = field(default_factory=list)
    processing: etree._Element | None = None
    human_scored: bool = False
    rubrics: Mapping[str, Rubric] = field(default_factory=dict)

    def rubric_text(self, rubric_id: str) -> str:
        """The rubric in words for scorers (``rubric_text``), or a line naming the missing one."""
        rubric = self.rubrics.get(rubric_id)
        return rubric_text(rubric) if rubric is not None else f"Rubric {rubric_id} (not in rubrics/ when exported)."

    def declare_response(self, cardinality: str, base_type: str, correct: Sequence[str] = ()) -> etree._Element:
        decl = etree.Element(q("qti-response-declaration"), {"identifier": "RESPONSE", "cardinality": cardinality,
                                                             "base-type": base_type})
        if correct:
            cr = sub(decl, "qti-correct-response")
            for c in correct:
                sub(cr, "qti-value", c)
        self.declaration = decl
        return decl

    def mapping(self, values: dict[str, float], lower: float, upper: float, default: float = 0,
                case_sensitive: bool | None = None) -> None:
        """A ``qti-mapping`` (per-choice or per-text values, bounds) for ``map_response``."""
        m = sub(self.declaration, "qti-mapping", lower_bound=_num(lower), upper_bound=_num(upper),
                default_value=_num(default))
        for key, value in values.items():
            extra = {} if case_sensitive is None else {"case_sensitive": "true" if case_sensitive else "false"}
            sub(m, "qti-map-entry", map_key=key, mapped_value=_num(value), **extra)

    def template(self, uri: str) -> None:
        self.processing = etree.Element(q("qti-response-processing"), {"template": uri})

    def choice_interaction(self, texts: list[str], max_choices: int, shuffle: bool,
                           fixed: list[bool]) -> etree._Element:
        ci = sub(self.stem_parent, "qti-choice-interaction", response_identifier="RESPONSE",
                 max_choices=str(max_choices), shuffle="true" if shuffle else "false")
        for i, text in enumerate(texts):
            attrs = {"identifier": choice_id(i)}
            if fixed[i]:
                attrs["fixed"] = "true"
            sub(ci, "qti-simple-choice", text, **attrs)
        return ci

    def text_entry(self, expected_length: int) -> etree._Element:
        """A one-line ``qti-text-entry-interaction`` (inline: in its own paragraph after the stem)."""
        return sub(sub(self.stem_parent, "p"), "qti-text-entry-interaction", response_identifier="RESPONSE",
                   expected_length=str(expected_length))

    def tolerance_processing(self, tolerance: float) -> None:
        """SCORE 1 when the response equals the correct one within an absolute ``tolerance``, else 0."""
        rp = etree.Element(q("qti-response-processing"))
        branch = sub(sub(rp, "qti-response-condition"), "qti-response-if")
        eq = sub(branch, "qti-equal", tolerance_mode="absolute", tolerance=f"{_num(tolerance)} {_num(tolerance)}")
        sub(eq, "qti-variable", identifier="RESPONSE")
        sub(eq, "qti-correct", identifier="RESPONSE")
        sub(sub(branch, "qti-set-outcome-value", identifier="SCORE"), "qti-base-value", "1", base_type="float")
        self.processing = rp

    def show_rationale(self) -> None:
        """Response processing that also sets FEEDBACK to RATIONALE, so a player that follows the spec shows
        the rationale after an attempt: a named template is written out as its rules first (a template and
        rules together are not defined), then the rule that sets FEEDBACK; an item without response
        processing (rated by people) gets that one rule."""
        rp = self.processing
        if rp is None:
            rp = etree.Element(q("qti-response-processing"))
        elif rp.get("template"):
            uri = rp.attrib.pop("template")
            template_rules(rp, "map_response" if uri == MAP_RESPONSE else "match_correct")
        sub(sub(rp, "qti-set-outcome-value", identifier="FEEDBACK"), "qti-base-value", "RATIONALE",
            base_type="identifier")
        self.processing = rp

    def extended_text(self) -> etree._Element:
        return sub(self.stem_parent, "qti-extended-text-interaction", response_identifier="RESPONSE")

    def rubric_block(self, view: str, text: str) -> None:
        """A ``qti-rubric-block`` placed before the stem (scorers' guidance for ``view="scorer"``)."""
        block = etree.Element(q("qti-rubric-block"), {"view": view, "use": "scoring"})
        write_text(sub(block, "qti-content-body"), text)
        self.body_first.append(block)


def template_rules(rp: etree._Element, name: str) -> None:
    """The rules of QTI 3's ``match_correct`` or ``map_response`` template, appended to ``rp`` (what the
    template's file says, so a player that does not fetch templates scores the same)."""
    cond = sub(rp, "qti-response-condition")
    branch = sub(cond, "qti-response-if")
    if name == "match_correct":
        match = sub(branch, "qti-match")
        sub(match, "qti-variable", identifier="RESPONSE")
        sub(match, "qti-correct", identifier="RESPONSE")
        sub(sub(branch, "qti-set-outcome-value", identifier="SCORE"), "qti-base-value", "1", base_type="float")
        sub(sub(sub(cond, "qti-response-else"), "qti-set-outcome-value", identifier="SCORE"), "qti-base-value", "0",
            base_type="float")
    else:
        sub(sub(branch, "qti-is-null"), "qti-variable", identifier="RESPONSE")
        sub(sub(branch, "qti-set-outcome-value", identifier="SCORE"), "qti-base-value", "0", base_type="float")
        sub(sub(sub(cond, "qti-response-else"), "qti-set-outcome-value", identifier="SCORE"), "qti-map-response",
            identifier="RESPONSE")


@dataclass
class Found:
    """What the importer read of one item's response and interaction, for ``ItemKind.from_qti``."""

    interaction: str  # local name: "qti-choice-interaction", "qti-text-entry-interaction", ...
    cardinality: str = "single"
    base_type: str = ""
    choices: list[tuple[str, str, bool]] = field(default_factory=list)  # (identifier, text, fixed)
    correct: list[str] = field(default_factory=list)
    mapping: dict[str, float] | None = None
    mapping_default: float = 0.0  # the mapping's default-value: what a choice it does not name is worth
    mapping_bounds: tuple[float | None, float | None] = (None, None)  # its lower-bound and upper-bound
    template: str = ""  # "match_correct" | "map_response" | "" (none) | "custom"
    max_choices: int = 1
    rubric: str = ""  # the scorer rubric block's text
    tolerance: float | None = None  # a number's absolute tolerance (``ItemWriter.tolerance_processing``)

    def texts(self) -> list[str]:
        return [t for _, t, _ in self.choices]


def rubric_text(rubric: Rubric) -> str:
    """A rubric as paragraphs a scorer reads: title, notes, each criterion and its levels."""
    paras = [f"Rubric {rubric.id}" + (f": {rubric.title}" if rubric.title else "")]
    if rubric.notes:
        paras.append(rubric.notes.strip())
    for c in rubric.criteria:
        head = f"{c.name} ({c.id})" + (f": {c.description.strip()}" if c.description else "")
        levels = [f"{_num(lv.points)} point(s)" + (f" - {lv.label}" if lv.label else "") + f": {lv.descriptor.strip()}"
                  for lv in c.levels]
        paras.append("\n".join([head, *levels]))
    return "\n\n".join(paras)


def _num(x: float) -> str:
    return repr(float(x)).removesuffix(".0") if float(x).is_integer() else repr(float(x))
