"""`exam-builder import qti PACKAGE`: QTI items into an item notebook of drafts awaiting review.

Reads QTI 3.0, 2.2 and 2.1 packages as other systems write them: a zip or a folder whose manifest is
``imsmanifest.xml`` at the top or the one nearest it (``find_manifest``: a zip of a package's folder),
or, without a manifest, every item file in it. Every href is a URI resolved against the file that
names it and kept inside the package (``package.Package.resolve``). QTI 2.x names are rewritten to
QTI 3.0's before reading. A test (or section) is not an error: its items are read one by one, those
the manifest does not list too, and a warning says what of the test is not kept. Each interaction
goes to the kind that fits it best (``ItemKind.qti_fits``; the exported LOM 'kind' wins), which reads
its own fields (``from_qti``); exam-builder's own fields come back from the manifest's LOM
(``export.metadata_lom``). Content (stems, prompts, choices, feedback, stimuli) is read by
``content.Reader`` under the one rule of ``content.CONSTRUCTS``: what changes what a candidate sees
or how an answer scores is an error, what changes only the look a warning; one problem per construct
per item, with its count, at its file and XML line. Response processing is recognised named or
written out as the templates' rules (``response_template``); anything else is an error.

The pool is never guessed (``_pool``): exam-builder's export says it, else the caller's ``pool``
(``--pool``), else the item is an error. Passages several items open with (a stimulus another tool
inlined) are named in a warning and, with ``lift_passages``, made one scenario (``passages``).

Every file of the package is read through ``package.Package`` (zip and folder alike): its limits
on size and compression, paths kept inside the package, no DTD. A package it refuses (a zip bomb,
a file outside the package, a DOCTYPE) writes nothing, ``skip_problems`` or not; every refusal is
a located problem, and so is any other lxml or value error while reading (``_guarded``): never a
traceback.

What a package says obeys the program's own rules, as if an author had typed it: ids from the
LOM (``scenario``, ``rubric``) the id rule and every text (title, author, stem, choices, rationale,
vignette) the text rule (``exam_builder.text``), numbers (points, module, max-choices, mapped
values) the number rule (``exam_builder.numbers``); a value that breaks one is an error located at
its line, never imported as it came. An item must also read back from its notebook cell exactly as
imported (``render_item`` then ``parse_cell``), so no value can change the header's meaning.

Every imported item is a draft with no reviewer: a review elsewhere is not a review here
(``bank review``). The notebook is written only when there is no error (``skip_problems``: the
items with errors are left out instead), to a temporary file renamed into place; an existing
notebook or an id already in the bank is an error, never overwritten.
"""
from __future__ import annotations

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
from ..model.qti import CATALOG, CP, LOM, QTI, QTI21, QTI22, Found
from ..model.rubric import MAX_COUNT, MAX_ITEM_POINTS
from ..text import id_problem, is_id, text_problem, visible
from .content import CONSTRUCTS, Reader, Tally
from .export import CLASSIFIED, SCENARIO_CLASS
from .package import Package, Refused

V2 = {QTI21: "2.1", QTI22: "2.2"}
ITEM_TYPES = {"imsqti_item_xmlv3p0", "imsqti_item_xmlv2p1", "imsqti_item_xmlv2p2"}
#: QTI 2.x names that are HTML, not QTI (kept as they are when renamed).
HTML = {n for n in CONSTRUCTS if not n.startswith("qti-")} | {"tr", "td", "th", "param", "map", "area", "tt"}


@dataclass
class Imported:
    """What a package gave: items and scenarios (in package order), and what was not carried over."""

    items: list[Item] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    rubrics: dict[str, str] = field(default_factory=dict)  # item id -> the scorer rubric's text
    problems: list[Problem] = field(default_factory=list)
    refused: bool = False  # the package, or a file of it, was refused (``package``): nothing is written
    stimulus_files: set[str] = field(default_factory=set)  # stimulus members read so far

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


def _shape(el: etree._Element, rid: str) -> object:
    """A response rule as nested tuples to compare with the known ones: names, the identifiers that matter
    (the response's as ``R``), numbers as numbers; base types and layout do not count."""
    name = _local(el)
    ident = el.get("identifier")
    if ident is not None:
        ident = "R" if ident == rid else ident
    value: object = None
    if name == "qti-base-value":
        try:
            value = float((el.text or "").strip())
        except ValueError:
            value = (el.text or "").strip()
    return (name, ident, value, tuple(_shape(c, rid) for c in el if _local(c)))


def _set(outcome: str, value: object) -> object:
    inner = ("qti-base-value", None, value, ()) if not isinstance(value, tuple) else value
    return ("qti-set-outcome-value", outcome, None, (inner,))


_VAR, _CORRECT = ("qti-variable", "R", None, ()), ("qti-correct", "R", None, ())
_IF_MATCH = ("qti-response-if", None, None, (("qti-match", None, None, (_VAR, _CORRECT)), _set("SCORE", 1.0)))
_ELSE_0 = ("qti-response-else", None, None, (_set("SCORE", 0.0),))
#: The QTI templates written out as rules (what many tools write instead of naming the template).
SHAPES = {
    ("qti-response-condition", None, None, (_IF_MATCH, _ELSE_0)): "match_correct",
    ("qti-response-condition", None, None, (_IF_MATCH,)): "match_correct",
    ("qti-response-condition", None, None, (
        ("qti-response-if", None, None, (("qti-is-null", None, None, (_VAR,)), _set("SCORE", 0.0))),
        ("qti-response-else", None, None, (_set("SCORE", ("qti-map-response", "R", None, ())),)))): "map_response",
}


def response_template(rp: etree._Element | None, found: Found) -> str:
    """What a response processing does, as ``Found.template``: "" (none), "match_correct", "map_response"
    (named, or written out as rules), "tolerance" (exam-builder's number within a tolerance; sets
    ``found.tolerance``), "other" (another template) or "custom" (any other rules). A rule that only sets
    the FEEDBACK outcome to a value (how an export shows its rationale) does not count."""
    if rp is None:
        return ""
    rid = "RESPONSE"
    rules = [c for c in rp if _local(c)]
    rules = [r for r in rules if not (_local(r) == "qti-set-outcome-value" and r.get("identifier") == "FEEDBACK"
                                      and [_local(c) for c in r if _local(c)] == ["qti-base-value"])]
    template = rp.get("template", "") or rp.get("template-location", "")
    if not rules:
        if not template:
            return ""
        return next((t for t in ("match_correct", "map_response") if t in template), "other")
    if len(rules) == 1:
        shape = _shape(rules[0], rid)
        if shape in SHAPES:
            return SHAPES[shape]
        tolerance = _tolerance(rules[0], shape)
        if tolerance is not None:
            found.tolerance = tolerance
            return "tolerance"
    return "custom"


def _tolerance(rule: etree._Element, shape: object) -> float | None:
    """The absolute tolerance of a number's rule in ``ItemWriter.tolerance_processing``'s one shape, or None."""
    want = ("qti-response-condition", None, None, (("qti-response-if", None, None, (
        ("qti-equal", None, None, (_VAR, _CORRECT)), _set("SCORE", 1.0))),))
    if shape != want:
        return None
    eq = rule.find(f".//{q('qti-equal')}")
    try:
        values = [float(p) for p in (eq.get("tolerance") or "").split()]
    except ValueError:
        return None
    if eq.get("tolerance-mode") != "absolute" or not values or len(set(values)) != 1 or not 0 <= values[0] < 1e15:
        return None
    return values[0]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


#: Children of ``qti-assessment-item`` that are read (or, for outcome declarations, harmless to leave).
ITEM_PARTS = {"qti-response-declaration", "qti-outcome-declaration", "qti-item-body", "qti-response-processing",
              "qti-modal-feedback", "qti-assessment-stimulus-ref", "qti-stylesheet", "qti-context-declaration"}
#: Children of a response declaration that are read.
DECLARATION_PARTS = {"qti-correct-response", "qti-mapping"}


def read_item(root: etree._Element, label: str, meta: dict[str, str], stimuli: dict[str, str],
              problems: list[Problem], pool: str | None = None) -> tuple[Item | None, str]:
    """One item (or None when it has errors) and its scorer rubric's text; problems are appended.

    ``pool``: the pool of an item whose package does not say (no exam-builder metadata); None: such an
    item is an error (the pool is never guessed: a practice item shows its key to candidates).
    """
    start = len(problems)

    def bad(el: etree._Element, msg: str, severity: str = "error") -> None:
        problems.append(Problem(Location(label, line=el.sourceline, item=item_id), msg, severity=severity))

    item_id = meta.get("id") if is_id(meta.get("id", "")) else \
        _bank_id(meta.get("id") or root.get("identifier", ""), label, root.sourceline, problems)
    problems.extend(_meta_problems(meta, item_id, label))
    tally = Tally()
    exact = bool(meta.get("id") or meta.get("kind"))  # exam-builder's own export: its spaces as written
    for part in root:
        name = _local(part)
        if not name:
            continue
        if name not in ITEM_PARTS:
            tally.add(name, part)
        elif name == "qti-stylesheet":
            tally.add(name, part)
        elif name == "qti-response-declaration":
            for child in part:
                if _local(child) and _local(child) not in DECLARATION_PARTS:
                    tally.add(_local(child), child)
    rp = root.find(q("qti-response-processing"))
    body = root.find(q("qti-item-body"))
    interactions = [el for el in (body.iter() if body is not None else []) if _local(el).endswith("-interaction")]
    ref = root.find(q("qti-assessment-stimulus-ref"))
    skip = set(interactions)
    if ref is not None and ref.get("identifier", "") in stimuli and body is not None:
        # exam-builder's export also opens the body with the scenario's text; the scenario is read from its file
        skip |= {d for d in body if _local(d) == "div" and SCENARIO_CLASS in (d.get("class") or "").split()}
    reader = Reader(tally=tally, skip=skip, exact=exact)
    paras = reader.paragraphs(body) if body is not None else []
    if len(interactions) != 1:
        problems.extend(tally.problems(label, item_id))
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
        found.correct = [_plain(v.text) for v in decl.iterfind(f"{q('qti-correct-response')}/{q('qti-value')}")]
        mapping = decl.find(q("qti-mapping"))
        if mapping is not None:
            found.mapping = {e.get("map-key"): _number(e, "mapped-value", e.get("mapped-value", "0"), bad,
                                                       -MAX_ITEM_POINTS, MAX_ITEM_POINTS) or 0.0
                             for e in mapping.iterfind(q("qti-map-entry"))}  # None (reported) as 0
            found.mapping_default = _number(mapping, "default-value", mapping.get("default-value") or "0", bad,
                                            -MAX_ITEM_POINTS, MAX_ITEM_POINTS) or 0.0
            found.mapping_bounds = tuple(  # type: ignore[assignment]
                _number(mapping, name, mapping.get(name), bad, -MAX_ITEM_POINTS, MAX_ITEM_POINTS)
                if mapping.get(name) is not None else None for name in ("lower-bound", "upper-bound"))
    choice_reader = Reader(tally=tally, exact=exact)
    found.choices = [(c.get("identifier", ""), choice_reader.text(c), c.get("fixed") == "true")
                     for c in inter.iterfind(q("qti-simple-choice"))]
    found.template = response_template(rp, found)
    if found.template == "custom":
        bad(rp, f"custom response processing ({sum(1 for _ in rp.iter()) - 1} rules and expressions) is not "
                "carried over: exam-builder would score the item by its kind's rule, so it is not imported")
    elif found.template == "other":
        bad(rp, f"response processing template {rp.get('template')!r} is not carried over: exam-builder would "
                "score the item by its kind's rule, so it is not imported")
    fits = {k: k.qti_fits(found) for k in all_kinds()}
    kind = kind_for(meta["kind"]) if meta.get("kind") in {k.value for k in Kind} else None
    if kind is None or not fits[kind]:
        kind = max(fits, key=fits.get)
        if not fits[kind]:
            problems.extend(tally.problems(label, item_id))
            bad(inter, f"<{found.interaction}> is not carried over; exam-builder has "
                       f"{', '.join(k.name for k in all_kinds())} items "
                       "(choice, text-entry and extended-text interactions)")
            return None, ""
    for child in inter:
        if _local(child) and _local(child) not in ("qti-simple-choice", "qti-prompt"):
            tally.add(_local(child), child)
    fields, messages = kind.from_qti(found)
    for msg in messages:
        bad(inter, msg)
    prompt = inter.find(q("qti-prompt"))
    if prompt is not None:
        paras += Reader(tally=tally, rubric=reader.rubric, exact=exact).paragraphs(prompt)
    stem = "\n\n".join(paras).strip("\n")
    rubric = "\n\n".join(reader.rubric)
    feedback = list(root.iterfind(q("qti-modal-feedback")))
    if len(feedback) > 1:
        bad(feedback[1], f"{len(feedback)} modal feedbacks: each is shown on its own condition, and exam-builder "
                         "shows one rationale to everyone; the item is not imported")
    rationale = Reader(tally=tally, exact=exact).text(_content(feedback[0])) if feedback else ""
    problems.extend(tally.problems(label, item_id))
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
    scenario = meta.get("scenario") or (stimuli.get(ref.get("identifier", "")) if ref is not None else None) or None
    if ref is not None and not meta.get("scenario") and ref.get("identifier", "") not in stimuli:
        bad(ref, f"its stimulus {ref.get('identifier')!r} is not carried over (see its problems); the item would "
                 "lose its scenario")
    data = dict(id=item_id, kind=kind.kind, stem=stem, rationale=rationale, points=points,
                competency=meta.get("competency", ""), difficulty=meta.get("difficulty") or "medium",
                status=Status.draft, author=meta.get("author", ""), reviewer="", scenario=scenario,
                rubric=meta.get("rubric") or None, where=Where(file=label), **fields)
    if meta.get("module"):
        module = _number(root, "module (in the manifest)", meta["module"], bad, 1, MAX_COUNT, whole=True)
        if module is not None:
            data["module"] = int(module)
    if "scoring" in meta:
        data["scoring"] = meta["scoring"] or None
    known = _pool(meta, pool)
    if known is None:
        bad(root, "the package does not say which pool the item is for (it has no exam-builder metadata): a "
                  "practice item shows its key to candidates, so the pool is not guessed; give --pool "
                  "certification or --pool practice")
    elif known is Pool.practice:
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


def _pool(meta: dict[str, str], pool: str | None) -> Pool | None:
    """The item's pool: from exam-builder's metadata (an exported item names its pool when it is practice,
    so an item with that metadata and no pool is certification), else ``pool``, else None (unknown)."""
    if meta.get("pool") == Pool.practice.value:
        return Pool.practice
    if meta.get("id") or meta.get("kind"):  # exam-builder's own export
        return Pool.certification
    return Pool(pool) if pool else None


def _plain(text: str | None) -> str:
    """A value as QTI compares it: the XML's layout (line breaks, tabs) around it is not part of it."""
    return (text or "").strip(" \t\r\n")


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


def _content(el: etree._Element) -> etree._Element:
    """A feedback's or rubric block's content: its ``qti-content-body``, or (QTI 2.x) the element itself."""
    body = el.find(q("qti-content-body"))
    return body if body is not None else el


def read_package(path: Path, label: str | None = None, pool: str | None = None) -> Imported:
    """Every item and scenario of a package (zip or folder), with every problem located.

    Every file is read through ``Package``; what it refuses is reported and marks the result
    ``refused`` (the other files are still read and reported, unless a limit for the whole package
    was passed). ``pool``: see ``read_item``.
    """
    label = label or str(path)
    out = Imported()
    try:
        with Package.open(path, label) as pkg:
            _read_package(pkg, out, pool)
    except Refused as exc:  # the package as a whole, or a limit for all of it
        out.refuse(exc)
    except (etree.LxmlError, ValueError) as exc:  # outside any one file (each file has its own guard): refused
        out.refuse(Refused([Problem(Location(label, line=getattr(exc, "lineno", None)),
                                    f"cannot read the package: {exc}")]))
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


def find_manifest(pkg: Package, out: Imported) -> str | None:
    """The package's manifest: ``imsmanifest.xml`` at its top, else the one nearest the top (a zip made of
    the package's folder holds it under that folder); None when there is none, or when two are equally
    near (which package is meant is unclear: an error)."""
    if pkg.exists("imsmanifest.xml"):
        return "imsmanifest.xml"
    names, _ = pkg.names()
    found = sorted((n.count("/"), n) for n in names if n.rsplit("/", 1)[-1].lower() == "imsmanifest.xml")
    if not found:
        return None
    if len(found) > 1 and found[0][0] == found[1][0]:
        out.problems.append(Problem(Location(pkg.label), f"the package holds {len(found)} manifests ("
                                    + ", ".join(n for _, n in found[:4]) + "); give one package at a time"))
        return None
    return found[0][1]


def _read_package(pkg: Package, out: Imported, pool: str | None) -> None:
    item_files: list[tuple[str, str, dict[str, str]]] = []  # (member, href as written, LOM fields)
    stim_files: list[tuple[str, str, dict[str, str]]] = []
    tests: list[tuple[str | None, str, Location]] = []  # (member, href as written, where the manifest names it)
    manifest = find_manifest(pkg, out)
    manifest_where = pkg.where(manifest or "imsmanifest.xml")
    if manifest is not None:
        mroot = _xml(pkg, manifest, out)
        if mroot is None:
            return
        for res in mroot.iter(f"{{{CP}}}resource", "{http://www.imscp.org/xsd/imscp_v1p1}resource",
                              "{http://www.imsglobal.org/xsd/imscp_v1p1}resource"):
            rtype, href = res.get("type", ""), res.get("href", "")
            lom = next(res.iter(f"{{{LOM}}}lom"), None)
            at = Location(manifest_where, line=res.sourceline)
            if rtype in ITEM_TYPES or rtype.startswith("imsqti_stimulus"):
                name = _resolve(pkg, href, manifest, at, out)
                if name is not None:
                    fields = _lom_fields(lom, manifest_where)
                    (item_files if rtype in ITEM_TYPES else stim_files).append((name, href, fields))
                    _foreign_metadata(res, fields, href, at, out)
            elif "metadata" in rtype:
                out.problems.append(Problem(at, f"the metadata file {href!r} is not carried over: exam-builder keeps "
                                                "its own fields (competency, module, points, ...)", severity="warning"))
            elif rtype.startswith(("imsqti_test", "imsqti_assessment", "imsqti_section")):
                name = _resolve(pkg, href, manifest, at, out) if href else None
                tests.append((name, href, at))
            elif rtype.startswith("imsqti_"):
                out.problems.append(Problem(at, f"the resource {href or res.get('identifier')!r} of type {rtype!r} "
                                                "is not carried over (exam-builder imports items and stimuli; "
                                                "each item says what it needs)", severity="warning"))
    else:
        names, listed = pkg.names()
        errors = [p for p in listed if p.is_error]
        out.problems.extend(p for p in listed if not p.is_error)
        if errors:
            out.refuse(Refused(errors))
        # stimuli are found through their references
        item_files = [(n, n, LomFields()) for n in names if n.endswith(".xml")]
        if not item_files and not errors:
            out.problems.append(Problem(Location(pkg.label), "not a QTI package: no imsmanifest.xml (looked at its top "
                                                             "and in its one folder) and no item XML file in it"))
    listed = {n for n, _, _ in item_files}
    for name, href, at in tests:  # a test's items the manifest does not list are read through the test
        root = _xml(pkg, name, out) if name and pkg.exists(name) else None
        kind = _local(root) if root is not None else ""
        if kind in ("assessmentStimulus", "qti-assessment-stimulus", "assessmentItem", "qti-assessment-item"):
            # a resource typed as a test that is a stimulus or an item (1EdTech's own examples have one): read as such
            (stim_files if "timulus" in kind else item_files).append((name, href, LomFields()))
            listed.add(name)
            continue
        for ref_name, ref_href in _test_kept(pkg, root, name, href, at, out):
            if ref_name not in listed:
                listed.add(ref_name)
                item_files.append((ref_name, ref_href, LomFields()))
    stimuli: dict[str, str] = {}  # QTI identifier -> scenario id
    for name, href, meta in stim_files:
        where = pkg.where(name)
        out.stimulus_files.add(name)
        if not pkg.exists(name):
            out.problems.append(Problem(Location(manifest_where),
                                        f"the manifest names {href}, which is not in the package"))
            continue
        root = _xml(pkg, name, out)
        if root is None:
            continue
        _guarded(where, out, lambda: _read_stimulus(root, where, meta, stimuli, out))  # noqa: B023 (called at once)
    for name, href, meta in item_files:
        where = pkg.where(name)
        if not pkg.exists(name):
            out.problems.append(Problem(Location(manifest_where),
                                        f"the manifest names {href}, which is not in the package"))
            continue
        root = _xml(pkg, name, out)
        if root is None:
            continue
        _guarded(where, out, lambda: _read_item_file(pkg, name, root, meta, manifest is not None,  # noqa: B023
                                                     stimuli, out, pool))


def _foreign_metadata(res: etree._Element, fields: dict[str, str], href: str, at: Location, out: Imported) -> None:
    """A warning when a resource carries metadata that is not exam-builder's (another system's LOM, keywords,
    standards): it does not change what a candidate sees or how an answer scores, but it is not kept."""
    meta = next((c for c in res if _local(c) == "metadata"), None)
    if meta is None or fields.get("id") or fields.get("kind"):
        return
    parts = sorted({_local(g) for el in meta for g in (el if _local(el) == "lom" else [el]) if _local(g)} -
                   {"schema", "schemaversion"})
    if parts:
        out.problems.append(Problem(at, f"the manifest's metadata for {href!r} ({', '.join(parts)}) is not carried "
                                        "over: exam-builder keeps its own fields (competency, module, points, ...)",
                                    severity="warning"))


def _guarded(where: str, out: Imported, read) -> None:
    """``read()``, with any lxml or value error in it a problem located at the file (and line when lxml
    knows it): never a traceback, whatever the package holds."""
    try:
        read()
    except (etree.LxmlError, ValueError, TypeError) as exc:
        out.problems.append(Problem(Location(where, line=getattr(exc, "lineno", None)),
                                    f"cannot read the XML here: {exc}; the file is not carried over"))


def _test_kept(pkg: Package, root: etree._Element | None, name: str | None, href: str, at: Location,
               out: Imported) -> list[tuple[str, str]]:
    """A test (``qti-assessment-test``) is not an error: its items are what is imported, one by one (those the
    manifest does not list too, through the test's item references); a warning says what of the test is not
    kept. The items it refers to: (member, href as written)."""
    refs: list[tuple[str, str]] = []
    if name and root is not None:
        for el in root.iter():
            if _local(el) in ("qti-assessment-item-ref", "assessmentItemRef") and el.get("href"):
                member = _resolve(pkg, el.get("href", ""), name, Location(pkg.where(name), line=el.sourceline), out)
                if member is not None:
                    refs.append((member, el.get("href", "")))
    items = f"its {len(refs)} item(s) are " if refs else "its items are "
    out.problems.append(Problem(at, f"the test {href!r} is not carried over as a test: {items}imported one by one; "
                                    "its sections, order, time limits and rules are not (build forms from the bank "
                                    "with 'exam-builder build')", severity="warning"))
    return refs


def _read_stimulus(root: etree._Element, where: str, meta: dict[str, str], stimuli: dict[str, str],
                   out: Imported) -> None:
    """A stimulus as a scenario, when all of its content is kept (else its problems, and items referring to it
    are errors too)."""
    if etree.QName(root).namespace in V2:
        _to_v3(root)
    ident = root.get("identifier", "")
    sid = meta.get("id") if is_id(meta.get("id", "")) else \
        _bank_id(meta.get("id") or ident, where, root.sourceline, out.problems)
    out.problems.extend(_meta_problems(meta, sid, where))
    tally = Tally()
    text = ""
    for part in root:
        name = _local(part)
        if name == "qti-stimulus-body":
            text = Reader(tally=tally, exact=bool(meta.get("id"))).text(part)
        elif name:
            tally.add(name, part)
    out.problems.extend(tally.problems(where, sid))
    if tally.has_error:
        return
    title = meta["title"] if "title" in meta else root.get("title", "")
    if _add_scenario(out, Scenario(id=sid, title=title, text=text), where, root.sourceline):
        stimuli[ident] = sid


def _read_item_file(pkg: Package, name: str, root: etree._Element, meta: dict[str, str], has_manifest: bool,
                    stimuli: dict[str, str], out: Imported, pool: str | None) -> None:
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
    if _local(root) in ("qti-assessment-test", "qti-assessment-section"):  # without a manifest every item file is
        what = "test" if _local(root) == "qti-assessment-test" else "section"  # read anyway
        out.problems.append(Problem(Location(where, line=root.sourceline), f"the {what} is not carried over as a test: "
                                    "its items are imported one by one; its sections, order, time limits and rules "
                                    "are not (build forms from the bank with 'exam-builder build')",
                                    severity="warning"))
        return
    if _local(root) != "qti-assessment-item":
        out.problems.append(Problem(Location(where, line=root.sourceline), f"<{_local(root)}> is not carried over; "
                                    "exam-builder imports items"))
        return
    for ref in root.iterfind(q("qti-assessment-stimulus-ref")):
        if ref.get("identifier") not in stimuli:
            _stimulus_from_ref(pkg, name, ref, stimuli, out)
    item, rubric = read_item(root, where, meta, stimuli, out.problems, pool)
    if item is not None:
        out.items.append(item)
        if rubric:
            out.rubrics[item.id] = rubric


def _stimulus_from_ref(pkg: Package, item_name: str, ref: etree._Element, stimuli: dict[str, str],
                       out: Imported) -> None:
    """A stimulus the manifest did not list, read from the item's reference (relative to the item)."""
    at = Location(pkg.where(item_name), line=ref.sourceline)
    name = _resolve(pkg, ref.get("href", ""), item_name, at, out)
    if name is None or name in out.stimulus_files:  # each stimulus file is read (and reported) once
        return
    out.stimulus_files.add(name)
    if not pkg.exists(name):
        out.problems.append(Problem(at, f"the stimulus {ref.get('href')} is not in the package"))
        return
    root = _xml(pkg, name, out)
    if root is None:
        return
    before = dict(stimuli)
    _guarded(pkg.where(name), out, lambda: _read_stimulus(root, pkg.where(name), LomFields(), stimuli, out))
    if stimuli != before and root.get("identifier", "") != ref.get("identifier", ""):
        stimuli[ref.get("identifier", "")] = stimuli[root.get("identifier", "")]


def _add_scenario(out: Imported, scenario: Scenario, where: str, line: int | None) -> bool:
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
    return ok


#: A passage is at least this long (characters) to count as a shared stimulus another tool inlined.
PASSAGE_CHARS = 80


def passages(imported: Imported, lift: bool) -> None:
    """Stimuli another tool inlined into each item's stem (QTI 2.1 has no shared stimulus): the opening
    paragraphs two or more items without a scenario share, when the items keep a question of their own.
    Each such item gets a warning naming the passage; ``lift`` makes the passage one scenario (named after
    the first item, ``<id>-passage``) joined by those items, their stems without it."""
    groups: dict[str, list[Item]] = {}
    for item in imported.items:
        if not item.scenario:
            groups.setdefault(item.stem.split("\n\n")[0], []).append(item)
    taken = {s.id for s in imported.scenarios}
    for items in groups.values():
        if len(items) < 2:
            continue
        split = [i.stem.split("\n\n") for i in items]
        n = 0
        while all(len(p) > n + 1 for p in split) and len({tuple(p[:n + 1]) for p in split}) == 1:
            n += 1
        shared = "\n\n".join(split[0][:n])
        if n == 0 or len(shared) < PASSAGE_CHARS:
            continue
        sid = f"{items[0].id}-passage"
        while sid in taken:
            sid += "-2"
        others = ", ".join(i.id for i in items)
        for item in items:
            verb = f"lifted into the scenario {sid!r}" if lift else \
                "kept in each stem; 'import qti --lift-passages' makes it one scenario"
            imported.problems.append(Problem(Location(item.where.file or "", item=item.id),
                                             f"the stem opens with a passage of {n} paragraph(s) that items {others} "
                                             f"share (a stimulus another tool inlined): {verb}", severity="warning"))
        if not lift:
            continue
        taken.add(sid)
        imported.scenarios.append(Scenario(id=sid, title="", text=shared))
        for k, item in enumerate(list(items)):
            rest = "\n\n".join(split[k][n:])
            new = item.model_copy(update={"stem": rest, "scenario": sid})
            imported.items[imported.items.index(item)] = new


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
    shown: str = ""  # the notebook's path as messages print it (``into`` as the user typed it)


def import_package(package: Path, into: Path, existing_ids: set[str], label: str | None = None,
                   skip_problems: bool = False, root: Path | None = None, pool: str | None = None,
                   lift_passages: bool = False, into_label: str | None = None) -> ImportResult:
    """Read ``package`` and write ``into/<package name>.ipynb``; ``ValidationFailed`` (nothing written)
    on any error, unless ``skip_problems`` (the items with errors are left out and reported)."""
    from ..errors import ExamBuilderError, ValidationFailed

    label = label or str(package)
    if not package.exists():
        raise ExamBuilderError(f"{label}: no such file or folder; give a QTI package (.zip) or its folder")
    imported = read_package(package, label, pool)
    passages(imported, lift_passages)
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
    shown = str(Path(into_label) / path.name) if into_label else str(path)
    if os.path.lexists(path):
        raise ExamBuilderError(f"{shown} already exists; import into another folder (--into) or move it away")
    if not imported.items:
        raise ValidationFailed(imported.problems + [Problem(Location(label), "no item could be imported")])
    write_notebook(notebook_cells(imported, package.name), path, root)
    return ImportResult(path, imported, skipped=len({p.location.item for p in errors}) if errors else 0,
                        shown=shown)
