"""`exam-builder export qti`: items of the bank as an IMS QTI 3.0 content package (a zip).

The package is ``imsmanifest.xml`` (IMS Content Packaging 1.2, QTI 3.0 profile) with one
``items/<id>.xml`` (``qti-assessment-item``) per item and one ``stimuli/<id>.xml``
(``qti-assessment-stimulus``) per scenario. What a kind writes (response, key, interaction,
scoring) is the kind's ``qti_item`` hook; this module adds what every item has: outcomes, the
stem, the rationale as modal feedback on a FEEDBACK outcome that response processing sets (so a
player that follows the spec shows it after an attempt: ``ItemWriter.show_rationale``), the
scenario reference and, for players that are not a delivery host, the scenario's text opening the
body (``SCENARIO_CLASS``), and the item's exam-builder fields as LOM metadata in the manifest
(``metadata_lom``), all of which the importer reads back.

A QTI package carries the keys by nature: it is a staff export, written under ``exports/``
like the form keys, never under ``release/``. Every file is validated against the IMS schemas
(``qti.schema``) before anything is written; the zip is written to a temporary file and renamed,
``0600`` in folders made ``0700`` whatever the umask (``files.replace_file``).
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..bank import Bank
from ..errors import ExamBuilderError, Location, Problem, ValidationFailed
from ..files import replace_file
from ..kinds import kind_for
from ..model.item import Item, Scenario, points_text
from ..model.qti import (
    CATALOG,
    CP,
    CP_XSD,
    LOM,
    LOM_XSD,
    QTI,
    QTI_XSD,
    XSI,
    ItemWriter,
    ncnames,
    q,
    sub,
    write_text,
)
from ..model.rubric import Rubric
from . import schema

#: The class of the ``div`` that opens an item body with its scenario's text (the importer leaves it out when it
#: reads the scenario from the stimulus itself).
SCENARIO_CLASS = "exam-builder-scenario"
#: exam-builder fields written as LOM classifications (purpose = the field's name), read back by import.
CLASSIFIED = ("kind", "competency", "module", "points", "scoring", "rubric", "scenario", "pool")


@dataclass
class Package:
    """A built package: file name -> bytes, and the counts the CLI reports."""

    files: dict[str, bytes] = field(default_factory=dict)
    items: int = 0
    stimuli: int = 0
    identifiers: dict[str, str] = field(default_factory=dict)  # item id -> QTI identifier (when they differ too)


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _root(tag: str, identifier: str, title: str) -> etree._Element:
    root = etree.Element(q(tag), nsmap={None: QTI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI} {QTI_XSD}")
    root.set("identifier", identifier)
    root.set("title", title or identifier)
    return root


def _outcome(root: etree._Element, identifier: str, base_type: str, default: str, **attrs: str) -> None:
    decl = sub(root, "qti-outcome-declaration", identifier=identifier, cardinality="single", base_type=base_type,
               **attrs)
    sub(sub(decl, "qti-default-value"), "qti-value", default)


def item_xml(item: Item, ident: str, rubrics: Mapping[str, Rubric], stimulus: tuple[str, str, str] | None,
             scenario: Scenario | None = None) -> bytes:
    """One ``qti-assessment-item``; ``stimulus`` is (identifier, href, title) of its scenario, whose text
    (``scenario``) also opens the item body in a ``div`` of class ``SCENARIO_CLASS``."""
    root = _root("qti-assessment-item", ident, item.id)
    root.set("adaptive", "false")
    root.set("time-dependent", "false")
    body = etree.Element(q("qti-item-body"))
    w = ItemWriter(root=root, stem_parent=body, rubrics=rubrics)
    kind = kind_for(item.kind)
    # the stem first, then the kind's interaction after it (the kind appends to stem_parent)
    if item.stem:
        write_text(body, item.stem)
    kind.qti_item(item, w)
    root.append(w.declaration)
    if w.human_scored:  # rated by people in points: the rubric's scale
        _outcome(root, "SCORE", "float", "0", external_scored="human", normal_maximum=points_text(item.points))
        _outcome(root, "MAXSCORE", "float", points_text(item.points))
    else:  # SCORE is the fraction of the item's points (the points are its weight: LOM 'points')
        _outcome(root, "SCORE", "float", "0", normal_maximum="1")
        _outcome(root, "MAXSCORE", "float", "1")
    if item.rationale:  # no default: response processing sets it, so the rationale shows after an attempt
        sub(root, "qti-outcome-declaration", identifier="FEEDBACK", cardinality="single", base_type="identifier")
        w.show_rationale()
    if stimulus:
        sub(root, "qti-assessment-stimulus-ref", identifier=stimulus[0], href=stimulus[1], title=stimulus[2])
    first = list(w.body_first)
    if scenario is not None:  # also in the body, for a player that is not a delivery host (reads no stimulus-ref)
        passage = etree.Element(q("div"), {"class": SCENARIO_CLASS})
        write_text(passage, scenario.text or "")
        first.append(passage)
    for i, block in enumerate(first):
        body.insert(i, block)
    root.append(body)
    if w.processing is not None:
        root.append(w.processing)
    if item.rationale:
        fb = sub(root, "qti-modal-feedback", outcome_identifier="FEEDBACK", identifier="RATIONALE", show_hide="show",
                 title="Rationale")
        write_text(sub(fb, "qti-content-body"), item.rationale)
    return _xml(root)


def stimulus_xml(scenario: Scenario, ident: str) -> bytes:
    root = _root("qti-assessment-stimulus", ident, scenario.title)
    write_text(sub(root, "qti-stimulus-body"), scenario.text or "")
    return _xml(root)


def _vocab(parent: etree._Element, tag: str, value: str, source: str = CATALOG) -> None:
    el = etree.SubElement(parent, f"{{{LOM}}}{tag}")
    etree.SubElement(el, f"{{{LOM}}}source").text = source
    etree.SubElement(el, f"{{{LOM}}}value").text = value


def _lang(parent: etree._Element, tag: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{LOM}}}{tag}")
    etree.SubElement(el, f"{{{LOM}}}string").text = text
    return el


def vcard(name: str) -> str:
    """A LOM contributor entity: a vCard 3.0 with the name as FN (``,;\\`` and newlines escaped)."""
    fn = name.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")
    return f"BEGIN:VCARD\nVERSION:3.0\nFN:{fn}\nEND:VCARD"


def metadata_lom(obj: Item | Scenario) -> etree._Element:
    """The LOM of an item (or scenario): its exam-builder id, status, contributors, difficulty and
    the ``CLASSIFIED`` fields, each a classification whose purpose is the field's name."""
    lom = etree.Element(f"{{{LOM}}}lom")
    general = etree.SubElement(lom, f"{{{LOM}}}general")
    ident = etree.SubElement(general, f"{{{LOM}}}identifier")
    etree.SubElement(ident, f"{{{LOM}}}catalog").text = CATALOG
    etree.SubElement(ident, f"{{{LOM}}}entry").text = obj.id
    if isinstance(obj, Scenario):
        if obj.title:
            _lang(general, "title", obj.title)
        return lom
    life = etree.SubElement(lom, f"{{{LOM}}}lifeCycle")
    _vocab(life, "status", obj.status.value)
    for role, name in (("author", obj.author), ("validator", obj.reviewer)):
        if name:
            c = etree.SubElement(life, f"{{{LOM}}}contribute")
            _vocab(c, "role", role, source="LOMv1.0")
            etree.SubElement(c, f"{{{LOM}}}entity").text = vcard(name)
    _vocab(etree.SubElement(lom, f"{{{LOM}}}educational"), "difficulty", obj.difficulty)
    values = {"kind": obj.kind.value, "competency": obj.competency, "points": points_text(obj.points),
              "module": "" if obj.module is None else str(obj.module),
              "scoring": kind_for(obj.kind).own_text(obj).get("scoring", ""),
              "rubric": obj.rubric or "", "scenario": obj.scenario or "",
              "pool": "practice" if obj.practice else ""}  # a practice item stays one where it is imported
    for name in CLASSIFIED:
        if values[name]:
            cl = etree.SubElement(lom, f"{{{LOM}}}classification")
            _vocab(cl, "purpose", name)
            path = etree.SubElement(cl, f"{{{LOM}}}taxonPath")
            _lang(path, "source", CATALOG)
            _lang(etree.SubElement(path, f"{{{LOM}}}taxon"), "entry", values[name])
    return lom


def build_package(bank: Bank, rubrics: Mapping[str, Rubric], items: list[Item], label: str = "exam-builder") -> Package:
    """Every file of the package, validated; ``ValidationFailed`` (nothing built) on any schema error."""
    pkg = Package()
    item_ids = ncnames([i.id for i in items], "i-")
    scen_list = list(dict.fromkeys(i.scenario for i in items if i.scenario))
    scen_ids = ncnames(scen_list, "s-")
    manifest = etree.Element(f"{{{CP}}}manifest", nsmap={None: CP, "lom": LOM, "xsi": XSI})
    manifest.set(f"{{{XSI}}}schemaLocation", f"{CP} {CP_XSD} {LOM} {LOM_XSD}")
    manifest.set("identifier", "MANIFEST-" + ncnames([label], "p-")[label])
    meta = etree.SubElement(manifest, f"{{{CP}}}metadata")
    etree.SubElement(meta, f"{{{CP}}}schema").text = "QTI Package"
    etree.SubElement(meta, f"{{{CP}}}schemaversion").text = "3.0.0"
    etree.SubElement(manifest, f"{{{CP}}}organizations")
    resources = etree.SubElement(manifest, f"{{{CP}}}resources")
    problems: list[Problem] = []

    def resource(ident: str, rtype: str, href: str, obj: Item | Scenario, depends: str | None = None) -> None:
        res = etree.SubElement(resources, f"{{{CP}}}resource", identifier=ident, type=rtype, href=href)
        etree.SubElement(res, f"{{{CP}}}metadata").append(metadata_lom(obj))
        etree.SubElement(res, f"{{{CP}}}file", href=href)
        if depends:
            etree.SubElement(res, f"{{{CP}}}dependency", identifierref=depends)

    for sid in scen_list:
        scenario = bank.scenarios.get(sid)
        if scenario is None:
            continue  # the bank check reports an item joining an unknown scenario
        href = f"stimuli/{scen_ids[sid]}.xml"
        pkg.files[href] = _safe(lambda: stimulus_xml(scenario, scen_ids[sid]), scenario, problems)  # noqa: B023 (called at once)
        resource(f"stimulus-{scen_ids[sid]}", "imsqti_stimulus_xmlv3p0", href, scenario)
        pkg.stimuli += 1
    for item in items:
        ident = item_ids[item.id]
        href = f"items/{ident}.xml"
        stim = None
        if item.scenario and item.scenario in bank.scenarios:
            sc = bank.scenarios[item.scenario]
            stim = (scen_ids[item.scenario], f"../stimuli/{scen_ids[item.scenario]}.xml", sc.title or sc.id)
        scen = bank.scenarios.get(item.scenario) if item.scenario else None
        pkg.files[href] = _safe(lambda: item_xml(item, ident, rubrics, stim, scen), item,  # noqa: B023 (called at once)
                                problems)
        resource(f"item-{ident}", "imsqti_item_xmlv3p0", href, item,
                 depends=f"stimulus-{stim[0]}" if stim else None)
        pkg.items += 1
        if ident != item.id:
            pkg.identifiers[item.id] = ident
    pkg.files = {"imsmanifest.xml": _xml(manifest), **pkg.files}
    for name, data in pkg.files.items():
        if data:
            problems += schema.validate(data, name)
    if problems:
        raise ValidationFailed(problems)
    return pkg


def _safe(build, obj: Item | Scenario, problems: list[Problem]) -> bytes:
    """A file's bytes, or a located problem (text XML cannot hold, e.g. a control character)."""
    try:
        return build()
    except ValueError as exc:
        problems.append(Problem(Location(obj.where.file or "bank", cell=obj.where.cell or None, item=obj.id),
                                f"cannot be written as QTI: {exc}"))
        return b""


def write_zip(pkg: Package, out: Path, *, root: Path | None = None) -> Path:
    """The package as a zip at ``out``, all or nothing (a temporary file in the same folder, renamed).

    It holds every key: the file is ``0600`` and every folder made for it ``0700`` (``files``), like
    the other staff exports; a folder that exists already is left as it is. ``root``: the course's,
    so the path is checked first (``files.check_owned``: no link, the right type)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in pkg.files.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))  # reproducible bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    replace_file(out, buf.getvalue(), root)
    return out


def select_items(bank: Bank, ids: list[str] | None = None, form_item_ids: list[str] | None = None) -> list[Item]:
    """The items named (in that order), a form's items (in form order) or the whole bank."""
    wanted = form_item_ids if form_item_ids is not None else ids
    if not wanted:
        return list(bank.items.values())
    missing = [i for i in wanted if i not in bank.items]
    if missing:
        raise ExamBuilderError(f"no item {', '.join(repr(m) for m in missing)} in the bank; "
                               "'exam-builder bank list' shows the ids")
    return [bank.items[i] for i in dict.fromkeys(wanted)]
