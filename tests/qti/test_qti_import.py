"""`import qti`: QTI 2.1 items read where simple; what cannot be carried over is reported, located,
and then nothing is written."""
from __future__ import annotations

import zipfile

import pytest

from exam_builder.bank.parse import parse_notebook
from exam_builder.errors import ValidationFailed
from exam_builder.model.item import Kind, Status
from exam_builder.qti.importer import import_package

QTI21_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="Peer_Q1" title="Peer Q1"
    adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>ChoiceB</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>What does a peer specialist <em>share</em> first?</p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
      <simpleChoice identifier="ChoiceA">Advice</simpleChoice>
      <simpleChoice identifier="ChoiceB">Their own experience, when it helps</simpleChoice>
      <simpleChoice identifier="ChoiceC">A diagnosis</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
  <modalFeedback outcomeIdentifier="FEEDBACK" identifier="F" showHide="show">Lived experience, shared with purpose.</modalFeedback>
</assessmentItem>
"""  # noqa: E501 (a QTI 2.1 item as an exporter writes it)

MANIFEST21 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="M">
  <organizations/>
  <resources>
    <resource identifier="R1" type="imsqti_item_xmlv2p1" href="q1.xml"><file href="q1.xml"/></resource>
  </resources>
</manifest>
"""

HOTSPOT30 = """<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="hot" title="Hot"
    adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier"/>
  <qti-template-declaration identifier="T" cardinality="single" base-type="integer"/>
  <qti-item-body>
    <p>Click the exit. <img src="map.png" alt="map"/></p>
    <qti-hotspot-interaction response-identifier="RESPONSE" max-choices="1">
      <object data="map.png" type="image/png"/>
      <qti-hotspot-choice identifier="H1" shape="circle" coords="10,10,5"/>
    </qti-hotspot-interaction>
  </qti-item-body>
</qti-assessment-item>
"""


def zip_of(path, files: dict[str, str]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_a_qti21_item_becomes_a_draft(tmp_path):
    pkg = zip_of(tmp_path / "lms-export.zip", {"imsmanifest.xml": MANIFEST21, "q1.xml": QTI21_ITEM})
    result = import_package(pkg, tmp_path / "imported", existing_ids=set(), pool="certification")
    (item,) = parse_notebook(result.notebook).items
    assert item.id == "peer_q1" and item.kind is Kind.multiple_choice and item.status is Status.draft
    assert item.stem == "What does a peer specialist share first?"
    assert [c.text for c in item.choices if c.correct] == ["Their own experience, when it helps"]
    assert item.rationale == "Lived experience, shared with purpose."
    messages = [(p.location.line, p.severity, p.message) for p in result.imported.problems]
    assert (9, "warning", "<em> is read as its text, without the formatting") in messages
    assert any("identifier 'Peer_Q1' is written as the id 'peer_q1'" in m for _, _, m in messages)


def test_an_unsupported_interaction_is_located_and_nothing_is_written(tmp_path):
    pkg = zip_of(tmp_path / "vendor.zip", {"items/hot.xml": HOTSPOT30, "items/q1.xml": QTI21_ITEM})
    with pytest.raises(ValidationFailed) as err:
        import_package(pkg, tmp_path / "imported", existing_ids=set(), pool="certification")
    text = str(err.value)
    assert f"{pkg}/items/hot.xml:line 5 [hot]: <qti-template-declaration> is not carried over" in text
    assert f"{pkg}/items/hot.xml:line 7 [hot]: <img> is not carried over" in text
    assert f"{pkg}/items/hot.xml:line 8 [hot]: <qti-hotspot-interaction> is not carried over" in text
    assert not (tmp_path / "imported").exists()  # nothing half-written


def test_skip_problems_writes_the_items_without_errors(tmp_path):
    pkg = zip_of(tmp_path / "vendor.zip", {"items/hot.xml": HOTSPOT30, "items/q1.xml": QTI21_ITEM})
    result = import_package(pkg, tmp_path / "imported", existing_ids=set(), skip_problems=True, pool="certification")
    assert [i.id for i in parse_notebook(result.notebook).items] == ["peer_q1"] and result.skipped == 1


def test_an_id_already_in_the_bank_is_refused(tmp_path):
    pkg = zip_of(tmp_path / "p.zip", {"q1.xml": QTI21_ITEM})
    with pytest.raises(ValidationFailed, match="item id 'peer_q1' is already in the bank"):
        import_package(pkg, tmp_path / "imported", existing_ids={"peer_q1"}, pool="certification")
    assert not (tmp_path / "imported").exists()
