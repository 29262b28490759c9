"""`export qti`: every file of a package is valid against the IMS QTI 3.0 schemas kept in qti/schema/."""
from __future__ import annotations

import zipfile

import pytest
from lxml import etree
from qti_kit import REPO, every_kind

from exam_builder.assembly.blueprint import check_blueprint
from exam_builder.bank.check import check
from exam_builder.course import Course
from exam_builder.errors import ValidationFailed
from exam_builder.model.qti import QTI, is_ncname, ncnames
from exam_builder.qti import schema
from exam_builder.qti.export import build_package, select_items, write_zip


def test_every_kind_exports_valid_files(tmp_path):
    bank, rubrics = every_kind()
    pkg = build_package(bank, rubrics, select_items(bank))
    assert pkg.items == 9 and pkg.stimuli == 1
    assert pkg.identifiers == {"7-mc": "i-7-mc"}  # not an NCName: mapped
    for name, data in pkg.files.items():
        assert schema.validate(data, name) == [], name
        assert b" data-" not in data  # the profile schema differs from the base only in data-* attributes
    item = etree.fromstring(pkg.files["items/ms-partial.xml"])
    mapping = item.find(f".//{{{QTI}}}qti-mapping")
    assert mapping.get("lower-bound") == "0" and mapping.get("upper-bound") == "1"
    # a rationale: map_response written out as its rules, then FEEDBACK set (players following the spec show it)
    rp = item.find(f"{{{QTI}}}qti-response-processing")
    assert rp.get("template") is None and rp.find(f".//{{{QTI}}}qti-map-response") is not None
    feedback = rp.findall(f"{{{QTI}}}qti-set-outcome-value")[-1]
    assert feedback.get("identifier") == "FEEDBACK" and feedback.findtext(f"{{{QTI}}}qti-base-value") == "RATIONALE"
    declared = [o for o in item.findall(f"{{{QTI}}}qti-outcome-declaration") if o.get("identifier") == "FEEDBACK"]
    assert declared and declared[0].find(f"{{{QTI}}}qti-default-value") is None  # shown only once set
    # the scenario opens the body too, for players that are not a delivery host
    passage = item.find(f"{{{QTI}}}qti-item-body")[0]
    assert passage.get("class") == "exam-builder-scenario" and passage[0].text == "Priya works nights."
    assert item.find(f".//{{{QTI}}}qti-choice-interaction").get("max-choices") == "0"
    aon = etree.fromstring(pkg.files["items/ms-aon.xml"])
    assert aon.find(f"{{{QTI}}}qti-response-processing").get("template").endswith("match_correct.xml")
    orx = etree.fromstring(pkg.files["items/or-01.xml"])
    assert orx.find(f".//{{{QTI}}}qti-rubric-block").get("view") == "scorer"
    assert orx.find(f".//{{{QTI}}}qti-extended-text-interaction") is not None
    words = etree.fromstring(pkg.files["items/sa-words.xml"])  # short answer: a text entry, mapped case-insensitively
    assert words.find(f".//{{{QTI}}}qti-text-entry-interaction").getparent().tag == f"{{{QTI}}}p"
    assert words.find(f"{{{QTI}}}qti-response-declaration").get("base-type") == "string"
    entries = words.findall(f".//{{{QTI}}}qti-map-entry")
    assert [(e.get("map-key"), e.get("mapped-value"), e.get("case-sensitive")) for e in entries] == [
        ("peer support", "1", "false"), ("Peer-Support", "1", "false"), ("mutual support", "1", "false")]
    assert words.find(f"{{{QTI}}}qti-response-processing").find(f".//{{{QTI}}}qti-map-response") is not None
    orp = orx.find(f"{{{QTI}}}qti-response-processing")  # rated by people: the one rule that sets FEEDBACK
    assert [el.get("identifier") for el in orp] == ["FEEDBACK"]
    number = etree.fromstring(pkg.files["items/sa-number.xml"])
    assert number.find(f"{{{QTI}}}qti-response-declaration").get("base-type") == "float"
    equal = number.find(f".//{{{QTI}}}qti-equal")
    assert equal.get("tolerance-mode") == "absolute" and equal.get("tolerance") == "0.5 0.5"
    exact = etree.fromstring(pkg.files["items/sa-exact.xml"])
    assert exact.find(f"{{{QTI}}}qti-response-processing").get("template").endswith("match_correct.xml")
    out = write_zip(pkg, tmp_path / "exports" / "qti" / "bank.zip")
    with zipfile.ZipFile(out) as zf:
        assert set(zf.namelist()) == set(pkg.files)
    assert list(out.parent.iterdir()) == [out]  # no temporary file left


def test_a_schema_error_is_located_and_stops_the_export():
    bank, rubrics = every_kind()
    bad = bank.items["tf-01"].model_copy(update={"stem": "bell \x07 here"})
    bank.items["tf-01"] = bad
    with pytest.raises(ValidationFailed) as err:
        build_package(bank, rubrics, select_items(bank))
    assert "t.ipynb:cell 1 [tf-01]: cannot be written as QTI" in str(err.value)


def test_schema_refuses_what_qti_does_not_allow():
    bank, rubrics = every_kind()
    data = build_package(bank, rubrics, select_items(bank, ["tf-01"])).files["items/tf-01.xml"]
    (problem,
     ) = schema.validate(data.replace(b'<qti-simple-choice identifier="A"',
                                      b'<qti-simple-choice bogus="1" identifier="A"'), "tf.xml")
    assert problem.location.file == "tf.xml" and problem.location.line and "bogus" in problem.message


def test_ids_that_are_not_ncnames_get_unique_identifiers():
    ids = ["7-a", "i-7-a", "ok", "9"]
    out = ncnames(ids, "i-")
    assert out["ok"] == "ok" and out["i-7-a"] == "i-7-a"
    assert out["7-a"] == "i-7-a-2" and out["9"] == "i-9"
    assert all(is_ncname(v) for v in out.values()) and len(set(out.values())) == len(ids)


def test_the_sample_bank_exports_and_validates():
    report = check(Course(REPO), blueprint_check=check_blueprint)
    assert not report.errors
    pkg = build_package(report.bank, report.rubrics, select_items(report.bank))
    assert pkg.items == len(report.bank.items) and pkg.stimuli == len({i.scenario for i in report.bank.items.values()
                                                                       if i.scenario})
    for name, data in pkg.files.items():
        assert schema.validate(data, name) == [], name
