"""Shared pieces of the QTI tests: the sample course, one item of every kind, a bank in memory."""
from __future__ import annotations

from pathlib import Path

from exam_builder.bank import Bank
from exam_builder.model.item import Choice, Item, Kind, Scenario, Status, Where
from exam_builder.model.rubric import Rubric

REPO = Path(__file__).resolve().parents[2]


def rubric(rid: str, points: float) -> Rubric:
    return Rubric(id=rid, title="Plan", notes="Score what is shown.\nNot spelling.", criteria=[
        {"id": "voices", "name": "Voices", "description": "Who speaks?",
         "levels": [{"points": 0, "descriptor": "Not shown"},
                    {"points": points, "label": "Clear", "descriptor": "Shown"}]}])


def every_kind() -> tuple[Bank, dict[str, Rubric]]:
    """One item of every kind (partial and all-or-nothing multiple select, a scenario, odd ids and text)."""
    where = Where(file="t.ipynb", cell=1)
    sc = Scenario(id="sc-unit", title="On the unit", text="Priya works nights.\n\nShe sees a pattern:\n- one\n- two")
    common = dict(competency="peer-support", module=2, status=Status.live, author="A. Rivera, PhD; team",
                  reviewer="J. Chen", difficulty="hard", where=where)
    items = [
        Item(id="tf-01", kind=Kind.true_false, stem="Sharing your story is **always** right.",
             choices=(Choice(text="True"), Choice(text="False", correct=True)),
             rationale="Not always.\nOnly if it helps.",
             **common),
        Item(id="7-mc", kind=Kind.multiple_choice, stem="Line one\nline two\n\n\nafter two blanks <b>&amp;</b>",
             choices=(Choice(text="Ask"), Choice(text="Tell", correct=True), Choice(text="None of the above")),
             points=2, scenario="sc-unit", **common),
        Item(id="ms-partial", kind=Kind.multiple_select, stem="Select all that apply.", points=3, scoring="partial",
             choices=(Choice(text="A", correct=True), Choice(text="B"), Choice(text="C", correct=True),
                      Choice(text="D", correct=True)), rationale="Three of them.", scenario="sc-unit", **common),
        Item(id="ms-aon", kind=Kind.multiple_select, stem="Which two?", points=2, scoring="all-or-nothing",
             choices=(Choice(text="x", correct=True), Choice(text="y", correct=True), Choice(text="z")), **common),
        Item(id="ms-default", kind=Kind.multiple_select, stem="Which two, by default?", points=2,
             choices=(Choice(text="x", correct=True), Choice(text="y", correct=True), Choice(text="z")), **common),
        Item(id="sa-words", kind=Kind.short_answer, stem="What is support from a peer called?",
             accept=("peer support", "Peer-Support", "mutual support"), rationale="Lived experience.", **common),
        Item(id="sa-number", kind=Kind.short_answer, stem="Which number is the crisis line?", number=988.0,
             tolerance=0.5, **common),
        Item(id="sa-exact", kind=Kind.short_answer, stem="How many stages?", number=5.0, **common),
        Item(id="or-01", kind=Kind.open_response, stem="Describe a plan.", points=4, rubric="plan-rubric",
             rationale="Look for voices.", **{**common, "status": Status.draft, "reviewer": ""}),
    ]
    bank = Bank(items={i.id: i for i in items}, scenarios={sc.id: sc})
    return bank, {"plan-rubric": rubric("plan-rubric", 4)}
