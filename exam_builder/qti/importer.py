"""`exam-builder import qti PACKAGE`: QTI items into an item notebook of drafts awaiting review.

Reads a QTI 3.0 content package (a zip or a folder with ``imsmanifest.xml``; without a manifest,
every item file in it), and simple QTI 2.1/2.2 items (``assessmentItem``, ``choiceInteraction``,
``extendedTextInteraction``, ``correctResponse``, ``mapping``, ``modalFeedback``), whose names are
rewritten to QTI 3.0's before reading. Each interaction goes to the kind that fits it best
(``ItemKind.qti_fits``; the exported LOM 'kind' wins), which reads its own fields (``from_qti``).
exam-builder's own fields come back from the manifest's LOM (``export.metadata_lom``).

Every file of the package is read through ``package.Package`` (zip and folder alike): its limits
on size and compression, paths kept inside the package, no DTD. A package it refuses (a zip bomb,
a file outside the package, a DOCTYPE) writes nothing, ``skip_problems`` or not; every refusal is
a located problem, and so is any other lxml error while reading.

What a package says obeys the program's own rules, as if an author had typed it: ids from the
LOM (``scenario``, ``rubric``) the id rule and every text (title, author, stem, choices, rationale,
vignette) the text rule (``exam_builder.text``), numbers (points, module, max-choices, mapped
values) the number rule (``exam_builder.numbers``); a value that breaks one is an error located at
its line, never imported as it came. An item must also read back from its notebook cell exactly as
imported (``render_item`` then ``parse_cell``), so no value can change the header's meaning.

Every imported item is a draft with no reviewer: a review elsewhere is not a review here
(``bank review``). Every construct that is not carried over is a ``Problem`` located at the file
and XML line: an error when the item would mean something else without it (another interaction,
an image, a template, custom response processing), a warning when only its look is lost
(inline formatting). The notebook is written only when there is no error (``skip_problems``:
the items with errors are left out instead), to a temporary file renamed into place; an existing
notebook or an id already in the bank is an error, never overwritten.
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .. import numbers
from ..bank.parse import parse_cell, render_item, render_scenario
from ..errors import Location, Problem
from ..kinds import all_kinds, kind_for
from ..model.item import Item, Kind, Pool, Scenario, Status, Where
from ..model.qti import CATALOG, CP, LOM, QTI, QTI21, QTI22, Found, read_text
from ..model.rubric import MAX_COUNT, MAX_ITEM_POINTS
from ..text import id_problem, is_id, text_problem, visible
from .export import CLASSIFIED
from .package import Package, Refused

V2 = {QTI21: "2.1", QTI22: "2.2"}
ITEM_TYPES = {"imsqti_item_xmlv3p0", "imsqti_item_xmlv2p1", "imsqti_item_xmlv2p2"}
#: Elements read (QTI 3.0 names); anything else in an item is reported.
KNOWN = {
    "qti-assessment-item", "qti-response-declaration", "qti-correct-response", "qti-value", "qti-mapping",
    "qti-map-entry", "qti-outcome-declaration", "qti-default-value", "qti-item-body", "p", "br", "div",
    "qti-choice-interaction", "qti-simple-choice", "qti-prompt", "qti-extended-text-interaction",
    "qti-response-processing", "qti-modal-feedback", "qti-content-body", "qti-rubric-block",
    "qti-assessment-stimulus-ref", "qti-text-entry-interaction",
}
#: A number's tolerance as ``qti.xml.ItemWriter.tolerance_processing`` writes it: read, not reported.
TOLERANCE_RP = ["qti-response-processing", "qti-response-condition", "qti-response-if", "qti-equal", "qti-variable",
                "qti-correct", "qti-set-outcome-value", "qti-base-value"]
#: Inline markup read as its text: only the look is lost.
INLINE = {"strong", "em", "b", "i", "span", "code", "sub", "sup", "u", "small", "big", "q", "cite", "abbr"}
#: QTI 2.x names that are HTML, not QTI (kept as they are when renamed).
HTML = INLINE | {"p", "br", "div", "ul", "ol", "li", "img", "table", "tr", "td", "th", "thead", "tbody", "a",
                 "object", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dl", "dt", "dd", "caption",
                 "col", "colgroup", "tfoot", "address", "kbd", "samp", "var", "dfn", "acronym"}


@dataclass
class Imported:
    """What a package gave: items and scenarios (in package order), and what was not carried over."""

    items: list[Item] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    rubrics: dict[str, str] = field(default_factory=dict)  # item id -> the scorer rubric's text
    problems: list[Problem] = field(default_factory=list)
    refused: bool = False  # the package, or a file of it, was refused (``package``): nothing is written

    def refuse(self, exc: Refused) -> None:
        self.problems.extend(exc.problems)
        self.refused = True

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _to_v3(root: etree._Element) -> None:
    """Rename a QTI 2.x tree to QTI 3.0 names in place (``choiceInteraction`` -> ``qti-choice-interaction``,
    ``maxChoices`` -> ``max-choices``); HTML elements keep their names. Source lines are kept."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        qn = etree.QName(el)
        if qn.namespace not in V2:
            continue
        local = qn.localname if qn.localname in HTML else "qti-" + _kebab(qn.localname)
        el.tag = f"{{{QTI}}}{local}"
        for name in list(el.attrib):
            if not name.startswith("{") and _kebab(name) != name:
                el.set(_kebab(name), el.attrib.pop(name))


class LomFields(dict):
    """exam-builder's fields from a resource's LOM, and where each was (``where``: the manifest, ``lines``)."""

    def __init__(self, where: str = "") -> None:
        super().__init__()
        self.where = where
        self.lines: dict[str, int | None] = {}

    def at(self, name: str) -> Location:
        return Location(self.where, line=self.lines.get(name))


def _lom_fields(lom: etree._Element | None, where: str = "") -> LomFields:
    """exam-builder's fields from a resource's LOM (what ``export.metadata_lom`` wrote), with their lines."""
    out = LomFields(where)
    if lom is None:
        return out
    L = f"{{{LOM}}}"

    def put(name: str, value: str, el: etree._Element | None) -> None:
        out[name] = value
        out.lines[name] = el.sourceline if el is not None else lom.sourceline

    for ident in lom.iterfind(f"{L}general/{L}identifier"):
        if ident.findtext(f"{L}catalog") == CATALOG and ident.findtext(f"{L}entry"):
            put("id", ident.findtext(f"{L}entry"), ident)
    title = lom.find(f"{L}general/{L}title/{L}string")
    put("title", (title.text if title is not None else "") or "", title)
    status = lom.find(f"{L}lifeCycle/{L}status")
    if status is not None and status.findtext(f"{L}source") == CATALOG:
        put("status", status.findtext(f"{L}value") or "", status)
    for c in lom.iterfind(f"{L}lifeCycle/{L}contribute"):
        role = c.findtext(f"{L}role/{L}value")
        m = re.search(r"^FN:(.*)$", c.findtext(f"{L}entity") or "", re.MULTILINE)
        if m and role in ("author", "validator"):
            put("author" if role == "author" else "reviewer",
                re.sub(r"\\(.)", lambda g: "\n" if g[1] == "n" else g[1], m[1]), c)
    diff = lom.find(f"{L}educational/{L}difficulty")
    if diff is not None and diff.findtext(f"{L}source") == CATALOG:
        put("difficulty", diff.findtext(f"{L}value") or "", diff)
    for cl in lom.iterfind(f"{L}classification"):
        purpose = cl.find(f"{L}purpose")
        if purpose is None or purpose.findtext(f"{L}source") != CATALOG:
            continue
        name = purpose.findtext(f"{L}value")
        if name in CLASSIFIED:
            put(name, cl.findtext(f"{L}taxonPath/{L}taxon/{L}entry/{L}string") or "", cl)
    return out


def _meta_problems(meta: dict[str, str], item: str | None, label: str) -> list[Problem]:
    """What breaks the program's rules in the LOM fields: ids (``scenario``, ``rubric``) the id rule, every
    value one line of the text rule. Located at the manifest's line of the field (else at ``label``)."""
    def at(name: str) -> Location:
        return meta.at(name) if isinstance(meta, LomFields) and meta.where else Location(label)

    problems: list[Problem] = []
    for name, value in meta.items():
        why = text_problem(value, 500, fix="fix it in the package")
        if why is not None:
            problems.append(Problem(_with_item(at(name), item), f"the manifest's {name} {why}"))
        elif name in ("scenario", "rubric") and value and not is_id(value):
            problems.append(Problem(_with_item(at(name), item), id_problem(value, f"the manifest's {name}")))
    return problems


def _with_item(loc: Location, item: str | None) -> Location:
    return Location(loc.file, line=loc.line, item=item)


def _bank_id(ident: str, label: str, line: int | None, problems: list[Problem]) -> str:
    """A QTI identifier as a bank id (lower-case letters, digits, '.', '_', '-'), with a warning if changed."""
    new = re.sub(r"[^a-z0-9._-]+", "-", ident.lower()).strip("-._")[:90] or "item"
    if not is_id(new):
        new = "i-" + new
    if new != ident:
        problems.append(Problem(Location(label, line=line, item=new), f"identifier {visible(repr(ident))} is written "
                                f"as the id {new!r}", severity="warning"))
    return new


def _tolerance(rp: etree._Element | None) -> float | None:
    """The absolute tolerance of a number's response processing in exam-builder's one shape, or None."""
    if rp is None or [_local(el) for el in rp.iter() if isinstance(el.tag, str)] != TOLERANCE_RP:
        return None
    eq = rp.find(f".//{q('qti-equal')}")
    parts = (eq.get("tolerance") or "").split()
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    if eq.get("tolerance-mode") != "absolute" or not values or len(set(values)) != 1 or not 0 <= values[0] < 1e15:
        return None
    return values[0]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def read_item(root: etree._Element, label: str, meta: dict[str, str], stimuli: dict[str, str],
              problems: list[Problem]) -> tuple[Item | None, str]:
    """One item (or None when it has errors) and its scorer rubric's text; problems are appended."""
    start = len(problems)

    def bad(el: etree._Element, msg: str, severity: str = "error") -> None:
        problems.append(Problem(Location(label, line=el.sourceline, item=item_id), msg, severity=severity))

    item_id = meta.get("id") if is_id(meta.get("id", "")) else \
        _bank_id(meta.get("id") or root.get("identifier", ""), label, root.sourceline, problems)
    problems.extend(_meta_problems(meta, item_id, label))
    rp = root.find(q("qti-response-processing"))
    tolerance = _tolerance(rp)
    for el in root.iter():
        name = _local(el)
        if not name or name in KNOWN or (tolerance is not None and rp is not None and el in rp.iter()):
            continue
        if name in INLINE:
            bad(el, f"<{name}> is read as plain text (its formatting is not carried over)", "warning")
        elif name.endswith("-interaction"):
            continue  # reported below, with the kinds there are
        else:
            bad(el, f"<{name}> is not carried over: exam-builder items are text, choices and a rationale")
    body = root.find(q("qti-item-body"))
    interactions = [el for el in (body.iter() if body is not None else []) if _local(el).endswith("-interaction")]
    if len(interactions) != 1:
        bad(body if body is not None else root,
            f"{len(interactions)} interactions; an exam-builder item has exactly one")
        return None, ""
    inter = interactions[0]
    max_choices = _number(inter, "max-choices", inter.get("max-choices") or "1", bad, 0, MAX_COUNT, whole=True)
    found = Found(interaction=_local(inter), max_choices=int(max_choices if max_choices is not None else 1))
    decl = next((d for d in root.iterfind(q("qti-response-declaration"))
                 if d.get("identifier") == inter.get("response-identifier")), None)
    if decl is not None:
        found.cardinality, found.base_type = decl.get("cardinality", "single"), decl.get("base-type", "")
        found.correct = [v.text or "" for v in decl.iterfind(f"{q('qti-correct-response')}/{q('qti-value')}")]
        mapping = decl.find(q("qti-mapping"))
        if mapping is not None:
            found.mapping = {e.get("map-key"): _number(e, "mapped-value", e.get("mapped-value", "0"), bad,
                                                       -MAX_ITEM_POINTS, MAX_ITEM_POINTS) or 0.0
                             for e in mapping.iterfind(q("qti-map-entry"))}  # None (reported) as 0
    found.choices = [(c.get("identifier", ""), read_text_inline(c), c.get("fixed") == "true")
                     for c in inter.iterfind(q("qti-simple-choice"))]
    if tolerance is not None:
        found.template, found.tolerance = "tolerance", tolerance
    elif rp is not None:
        template = rp.get("template", "")
        if len(rp):
            found.template = "custom"
            bad(rp, "custom response processing is not carried over; the item is scored by its kind's rule")
        else:
            found.template = next((t for t in ("match_correct", "map_response") if t in template), "other")
            if found.template == "other":
                bad(rp, f"response processing template {template!r} is not carried over")
    fits = {k: k.qti_fits(found) for k in all_kinds()}
    kind = kind_for(meta["kind"]) if meta.get("kind") in {k.value for k in Kind} else None
    if kind is None or not fits[kind]:
        kind = max(fits, key=fits.get)
        if not fits[kind]:
            bad(inter, f"<{found.interaction}> is not carried over; exam-builder has "
                       f"{', '.join(k.name for k in all_kinds())} items "
                       "(choice, text-entry and extended-text interactions)")
            return None, ""
    fields, messages = kind.from_qti(found)
    for msg in messages:
        bad(inter, msg)
    stem_parts = [el for el in (body if body is not None else [])
                  if _local(el) not in ("qti-rubric-block",) and el is not inter
                  and inter not in el.iterdescendants()]
    stem = read_text(_wrap(stem_parts))
    prompt = inter.find(q("qti-prompt"))
    if prompt is not None:
        stem = "\n\n".join(s for s in (stem, read_text_inline(prompt)) if s)
    rubric = "\n\n".join(read_text(_content(b)) for b in (body.iterfind(q("qti-rubric-block")) if body is not None
                                                          else []))
    feedback = list(root.iterfind(q("qti-modal-feedback")))
    if len(feedback) > 1:
        bad(feedback[1], f"{len(feedback)} modal feedbacks; the first is kept as the rationale", "warning")
    rationale = read_text(_content(feedback[0])) if feedback else ""
    if meta.get("points"):
        points = _number(root, "points (in the manifest)", meta["points"], bad, 0, MAX_ITEM_POINTS, above=True)
    else:
        maxscore = next((o for o in root.iterfind(q("qti-outcome-declaration")) if o.get("identifier") == "MAXSCORE"),
                        None)
        value = maxscore.findtext(f"{q('qti-default-value')}/{q('qti-value')}") if maxscore is not None else None
        points = _number(maxscore, "MAXSCORE", value, bad, 0, MAX_ITEM_POINTS, above=True) \
            if value and kind.rated else 1.0
    if points is None:  # reported by _number
        points = 1.0
    ref = root.find(q("qti-assessment-stimulus-ref"))
    scenario = meta.get("scenario") or (stimuli.get(ref.get("identifier", "")) if ref is not None else None) or None
    data = dict(id=item_id, kind=kind.kind, stem=stem.strip(), rationale=rationale.strip(), points=points,
                competency=meta.get("competency", ""), difficulty=meta.get("difficulty") or "medium",
                status=Status.draft, author=meta.get("author", ""), reviewer="", scenario=scenario,
                rubric=meta.get("rubric") or None, **fields)
    if meta.get("module"):
        module = _number(root, "module (in the manifest)", meta["module"], bad, 1, MAX_COUNT, whole=True)
        if module is not None:
            data["module"] = int(module)
    if "scoring" in meta:
        data["scoring"] = meta["scoring"] or None
    if meta.get("pool") == Pool.practice.value:
        data["pool"] = Pool.practice
    for what, value in (("the stem", data["stem"]), ("the rationale", data["rationale"]), ("the rubric", rubric),
                        *((f"choice {chr(65 + n) if n < 26 else n + 1}", c.text) for n,
                          c in enumerate(data.get("choices", ())))):
        why = text_problem(value, None, multiline=True, fix="fix it in the package")
        if why is not None:
            bad(root, f"{what} {why}")
    if any(p.is_error for p in problems[start:]):
        return None, rubric
    item = Item(**data)
    again, _ = parse_cell(render_item(item), Where(file=label))
    if not isinstance(again, Item) or again.content() != item.content():
        bad(root, "the item would not read back from its notebook cell as imported (a field holding '·', '|', "
                  "'**' or a line break?); fix the package")
        return None, rubric
    return item, rubric


def q(tag: str) -> str:
    return f"{{{QTI}}}{tag}"


def _number(el: etree._Element, name: str, text: str | None, bad, low: float, high: float, *, above: bool = False,
            whole: bool = False) -> float | None:
    """A number the package gives, read by the one number rule within its range, or None with an error at
    its element (``bad``): never a traceback, never ``1_0`` read as 10."""
    try:
        if whole:
            return float(numbers.whole_number(text or "", name, int(low), int(high)))
        return numbers.decimal(text or "", name, low, high, above)
    except numbers.NumberError as exc:
        bad(el, str(exc))
        return None


def read_text_inline(el: etree._Element) -> str:
    """An element's text as ``read_text`` reads a paragraph (``<br/>`` a line break), outside markup
    that is not a paragraph (``qti-prompt``, choices)."""
    wrapper = etree.Element("w")
    dup = copy.deepcopy(el)  # a copy, never a re-parse of serialised text
    dup.tail = None
    wrapper.append(dup)
    return read_text(wrapper)


def _wrap(parts: list[etree._Element]) -> etree._Element:
    """Paragraph-level elements under one parent for ``read_text``; a ``div`` counts by its children."""
    wrapper = etree.Element("w")
    for el in parts:
        if _local(el) == "div":
            for child in el:
                wrapper.append(copy.deepcopy(child))
        else:
            wrapper.append(copy.deepcopy(el))
    for child in wrapper:
        child.tail = None
    return wrapper


def _content(el: etree._Element) -> etree._Element:
    """A feedback's or rubric block's paragraphs: its ``qti-content-body``, or (QTI 2.x) the element itself."""
    body = el.find(q("qti-content-body"))
    if body is not None:
        return body
    if len(el) == 0 or all(_local(c) in INLINE | {"br"} for c in el):  # 2.x: inline text straight in the element
        return _wrap([el])
    return el


def read_package(path: Path, label: str | None = None) -> Imported:
    """Every item and scenario of a package (zip or folder), with every problem located.

    Every file is read through ``Package``; what it refuses is reported and marks the result
    ``refused`` (the other files are still read and reported, unless a limit for the whole package
    was passed).
    """
    label = label or str(path)
    out = Imported()
    try:
        with Package.open(path, label) as pkg:
            _read_package(pkg, out)
    except Refused as exc:  # the package as a whole, or a limit for all of it
        out.refuse(exc)
    return out


def _xml(pkg: Package, name: str, out: Imported) -> etree._Element | None:
    """A member's XML, or None (its problem reported; a refusal marks ``out`` refused)."""
    try:
        return pkg.read_xml(name, out.problems)
    except Refused as exc:
        if exc.fatal:
            raise
        out.refuse(exc)
        return None


def _resolve(pkg: Package, href: str, base: str, where: Location, out: Imported) -> str | None:
    """The member an href names, or None (refused: it leaves the package)."""
    try:
        return pkg.resolve(href, base, where)
    except Refused as exc:
        out.refuse(exc)
        return None


def _read_package(pkg: Package, out: Imported) -> None:
    item_files: list[tuple[str, str, dict[str, str]]] = []  # (member, href as written, LOM fields)
    stim_files: list[tuple[str, str, dict[str, str]]] = []
    has_manifest = pkg.exists("imsmanifest.xml")
    manifest_where = pkg.where("imsmanifest.xml")
    if has_manifest:
        mroot = _xml(pkg, "imsmanifest.xml", out)
        if mroot is None:
            return
        for res in mroot.iter(f"{{{CP}}}resource", "{http://www.imscp.org/xsd/imscp_v1p1}resource",
                              "{http://www.imsglobal.org/xsd/imscp_v1p1}resource"):
            rtype, href = res.get("type", ""), res.get("href", "")
            lom = next(res.iter(f"{{{LOM}}}lom"), None)
            if rtype in ITEM_TYPES or rtype.startswith("imsqti_stimulus"):
                name = _resolve(pkg, href, "", Location(manifest_where, line=res.sourceline), out)
                if name is not None:
                    (item_files if rtype in ITEM_TYPES else stim_files).append(
                        (name, href, _lom_fields(lom, manifest_where)))
            elif rtype.startswith("imsqti_"):
                out.problems.append(Problem(Location(manifest_where, line=res.sourceline),
                                            f"resource of type {rtype!r} ({href}) is not carried over; "
                                            "exam-builder imports items and stimuli"))
    else:
        names, listed = pkg.names()
        errors = [p for p in listed if p.is_error]
        out.problems.extend(p for p in listed if not p.is_error)
        if errors:
            out.refuse(Refused(errors))
        # stimuli are found through their references
        item_files = [(n, n, LomFields()) for n in names if n.endswith(".xml")]
    stimuli: dict[str, str] = {}  # QTI identifier -> scenario id
    for name, href, meta in stim_files:
        where = pkg.where(name)
        if not pkg.exists(name):
            out.problems.append(Problem(Location(manifest_where),
                                        f"the manifest names {href}, which is not in the package"))
            continue
        root = _xml(pkg, name, out)
        if root is None:
            continue
        ident = root.get("identifier", "")
        sid = meta.get("id") if is_id(meta.get("id", "")) else \
            _bank_id(meta.get("id") or ident, where, root.sourceline, out.problems)
        body = root.find(q("qti-stimulus-body"))
        title = meta["title"] if "title" in meta else root.get("title", "")
        out.problems.extend(_meta_problems(meta, sid, where))
        _add_scenario(out, Scenario(id=sid, title=title, text=read_text(body) if body is not None else ""),
                      where, root.sourceline)
        stimuli[ident] = sid
    for name, href, meta in item_files:
        where = pkg.where(name)
        if not pkg.exists(name):
            out.problems.append(Problem(Location(manifest_where),
                                        f"the manifest names {href}, which is not in the package"))
            continue
        root = _xml(pkg, name, out)
        if root is None:
            continue
        try:
            _read_item_file(pkg, name, root, meta, has_manifest, stimuli, out)
        except etree.LxmlError as exc:  # belt and braces: any lxml error is a located problem, never a traceback
            out.problems.append(Problem(Location(where, line=getattr(exc, "lineno", None)),
                                        f"cannot read the XML: {exc}"))


def _read_item_file(pkg: Package, name: str, root: etree._Element, meta: dict[str, str], has_manifest: bool,
                    stimuli: dict[str, str], out: Imported) -> None:
    where = pkg.where(name)
    ns = etree.QName(root).namespace
    if ns in V2:
        _to_v3(root)
    elif ns != QTI:
        if not has_manifest:
            return  # another XML file of a package without a manifest
        out.problems.append(Problem(Location(where, line=root.sourceline),
                                    f"<{root.tag}> is not a QTI 2.1, 2.2 or 3.0 item"))
        return
    if _local(root) == "qti-assessment-stimulus":
        return
    if _local(root) != "qti-assessment-item":
        out.problems.append(Problem(Location(where, line=root.sourceline), f"<{_local(root)}> is not carried over; "
                                    "exam-builder imports items"))
        return
    for ref in root.iterfind(q("qti-assessment-stimulus-ref")):
        if ref.get("identifier") not in stimuli:
            _stimulus_from_ref(pkg, name, ref, stimuli, out)
    item, rubric = read_item(root, where, meta, stimuli, out.problems)
    if item is not None:
        out.items.append(item)
        if rubric:
            out.rubrics[item.id] = rubric


def _stimulus_from_ref(pkg: Package, item_name: str, ref: etree._Element, stimuli: dict[str, str],
                       out: Imported) -> None:
    """A stimulus the manifest did not list, read from the item's reference (relative to the item)."""
    at = Location(pkg.where(item_name), line=ref.sourceline)
    name = _resolve(pkg, ref.get("href", ""), item_name, at, out)
    if name is None:
        return
    if not pkg.exists(name):
        out.problems.append(Problem(at, f"the stimulus {ref.get('href')} is not in the package"))
        return
    root = _xml(pkg, name, out)
    if root is None:
        return
    if etree.QName(root).namespace in V2:
        _to_v3(root)
    sid = _bank_id(root.get("identifier", ""), pkg.where(name), root.sourceline, out.problems)
    body = root.find(q("qti-stimulus-body"))
    _add_scenario(out, Scenario(id=sid, title=root.get("title", ""), text=read_text(body) if body is not None else ""),
                  pkg.where(name), root.sourceline)
    stimuli[ref.get("identifier", "")] = sid


def _add_scenario(out: Imported, scenario: Scenario, where: str, line: int | None) -> None:
    """A scenario whose title (one line) and vignette obey the text rule; else an error at its element (and
    the scenario is left out, with ``skip_problems`` too)."""
    ok = True
    for what, value, multiline in (("title", scenario.title, False), ("vignette", scenario.text, True)):
        why = text_problem(value, 500 if not multiline else None, multiline, fix="fix it in the package")
        if why is not None:
            out.problems.append(Problem(Location(where, line=line, item=scenario.id), f"the scenario's {what} {why}"))
            ok = False
    if ok:
        out.scenarios.append(scenario)


def notebook_cells(imported: Imported, source: str) -> list[str]:
    """The markdown cells of the notebook: a note, then each scenario before its first item, each item,
    and after an open response the scorer rubric the package carried (a note the bank parser skips)."""
    cells = [f"# Imported from {source}\n\nDrafts awaiting review: every item here has status draft. "
             "Review each one before it goes live."]
    scenarios = {s.id: s for s in imported.scenarios}
    written: set[str] = set()
    for item in imported.items:
        if item.scenario and item.scenario in scenarios and item.scenario not in written:
            written.add(item.scenario)
            cells.append(render_scenario(scenarios[item.scenario]))
        cells.append(render_item(item))
        if item.id in imported.rubrics:
            text = "\n".join(f"> {line}" if line else ">" for line in imported.rubrics[item.id].split("\n"))
            cells.append(f"Rubric for scorers as the package gave it (write rubrics/{item.rubric_id}.yaml from "
                         f"it):\n\n{text}")
    for sid, sc in scenarios.items():
        if sid not in written:
            cells.append(render_scenario(sc))
    return cells


def write_notebook(cells: list[str], path: Path, root: Path | None) -> None:
    """The notebook at ``path``, all or nothing (a temporary file in the folder, then a rename)."""
    import nbformat

    from ..bank.parse import write_notebooks

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(c) for c in cells]
    for n, c in enumerate(nb.cells):
        c["id"] = f"c{n:04d}"
    write_notebooks({path: nb}, root)  # checked (files): no link, folders made as needed


@dataclass
class ImportResult:
    notebook: Path | None
    imported: Imported
    skipped: int = 0  # items left out for their errors (``skip_problems``)


def import_package(package: Path, into: Path, existing_ids: set[str], label: str | None = None,
                   skip_problems: bool = False, root: Path | None = None) -> ImportResult:
    """Read ``package`` and write ``into/<package name>.ipynb``; ``ValidationFailed`` (nothing written)
    on any error, unless ``skip_problems`` (the items with errors are left out and reported)."""
    from ..errors import ExamBuilderError, ValidationFailed

    label = label or str(package)
    if not package.exists():
        raise ExamBuilderError(f"{label}: no such file or folder; give a QTI package (.zip) or its folder")
    imported = read_package(package, label)
    seen: set[str] = set()
    for item in list(imported.items):
        if item.id in existing_ids or item.id in seen:
            where = "the bank" if item.id in existing_ids else "this package"
            imported.problems.append(Problem(Location(label, item=item.id),
                                             f"item id {item.id!r} is already in {where}; "
                                             "rename it in the package or in the bank"))
            imported.items.remove(item)
        seen.add(item.id)
    errors = imported.errors
    if imported.refused or (errors and not skip_problems):  # a refused package is never written, even in part
        raise ValidationFailed(imported.problems)
    path = into / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', package.stem) or 'qti'}.ipynb"
    if os.path.lexists(path):
        raise ExamBuilderError(f"{path} already exists; import into another folder (--into) or move it away")
    if not imported.items:
        raise ValidationFailed(imported.problems + [Problem(Location(label), "no item could be imported")])
    write_notebook(notebook_cells(imported, package.name), path, root)
    return ImportResult(path, imported, skipped=len({p.location.item for p in errors}) if errors else 0)
