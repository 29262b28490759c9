"""Each kind's hooks round-trip: parse -> validate -> form key -> render -> answer -> score."""
from __future__ import annotations

import random

import pytest

from exam_builder.assembly.manifest import ManifestItem, grade_ids
from exam_builder.bank import Bank
from exam_builder.bank.model import Item, Where
from exam_builder.bank.parse import parse_cell, render_item
from exam_builder.bank.validate import validate
from exam_builder.kinds import kind_for
from exam_builder.policy import ProgramPolicy
from exam_builder.rubrics.model import Rubric

W = Where(file="source/x.ipynb", cell=2)
HEAD = "competency: peer-support · module: 1 · status: live · author: A. Rivera · reviewer: J. Chen"
CELLS = {
    "TF": f"**[TF] tf-1** · {HEAD}\nHope is real.\n- [x] True\n- [ ] False\n> **Rationale:** Because it is.",
    "MC": f"**[MC] mc-1** · {HEAD}\nBest response?\n- [ ] Ignore\n- [x] Listen\n- [ ] Advise\n> **Rationale:** Listening.",
    "OR": f"**[OR] or-1** · {HEAD} · points: 2\nExplain mutuality.\n> **Rationale:** Both sides.",
}


def rubric(rid: str) -> Rubric:
    levels = [{"points": 0, "descriptor": "No"}, {"points": 2, "descriptor": "Yes"}]
    return Rubric(id=rid, criteria=[{"id": "c", "name": "C", "levels": levels}], file=f"rubrics/{rid}.yaml", line=1)


def parsed(text: str) -> Item:
    item, problems = parse_cell(text, W)
    assert problems == [] and isinstance(item, Item)
    return item


def problems_of(item: Item) -> list[str]:
    bank = Bank(items={item.id: item})
    return [p.message for p in validate(bank, {"or-1": rubric("or-1")}, ProgramPolicy()) if p.severity == "error"]


def entry_for(item: Item, order: tuple[int, ...], number: int = 3) -> ManifestItem:
    kind = kind_for(item.kind)
    return ManifestItem(number=number, item_id=item.id, kind=item.kind, points=item.points, competency=item.competency,
                        content_hash=item.content_hash(), option_order=order, key=kind.form_key(item, order),
                        **kind.manifest_fields(item))


@pytest.mark.parametrize("tag", sorted(CELLS))
def test_parse_render_validate_round_trip(tag):
    item = parsed(CELLS[tag])
    assert kind_for(item.kind).tag == tag
    again, problems = parse_cell(render_item(item), W)
    assert problems == [] and again == item
    assert problems_of(item) == []


@pytest.mark.parametrize("tag", ["TF", "MC"])
def test_single_key_kinds_render_score_and_store(tag):
    item = parsed(CELLS[tag])
    kind = kind_for(item.kind)
    order = kind.choice_order(item, True, random.Random(3))
    entry = entry_for(item, order)
    labels = tuple("ABCDEFGH"[:len(order)])
    assert entry.key in labels and len(entry.key) == 1
    ids = grade_ids(3)
    answer, check = kind.answer_cells(entry, ids["variable"], ids["answer"], ids["grade"])
    assert f'q03 = "{entry.key}"' in answer.source and answer.solution and not answer.grade
    assert check.grade and check.locked and check.points == item.points and f'assert q03 == "{entry.key}"' in check.source
    wrong = next(lab for lab in labels if lab != entry.key)
    assert kind.score(entry.key, entry.key, 1) == 1 and kind.score(wrong, entry.key, 1) == 0 and kind.score(None, entry.key, 1) == 0
    assert kind.clean_answer(wrong, labels) == wrong
    with pytest.raises(ValueError):
        kind.clean_answer("Z", labels)
    read = kind.read_answer(kind.answer_source("q03", wrong), kind.answer_pattern("q03"), labels, 3)
    assert read.answer == wrong and read.flag is None
    assert kind.read_answer('q03 = "Z"', kind.answer_pattern("q03"), labels, 3).flag == "unknown_label"
    assert kind.read_answer("q03 = 1 + 1", kind.answer_pattern("q03"), labels, 3).flag == "junk_answer"
    assert kind.dichotomous() and kind.picks(wrong) == (wrong,)


def test_true_false_keeps_true_first_and_multiple_choice_keeps_none_of_the_above_last():
    tf = parsed(CELLS["TF"].replace("- [x] True\n- [ ] False", "- [x] True\n- [ ] False"))
    assert kind_for(tf.kind).choice_order(tf, True, random.Random(1)) == (0, 1)
    mc = parsed(CELLS["MC"].replace("- [ ] Advise", "- [ ] None of the above"))
    for seed in range(10):
        assert kind_for(mc.kind).choice_order(mc, True, random.Random(seed))[-1] == 2


def test_open_response_has_one_graded_written_cell_and_no_key():
    item = parsed(CELLS["OR"])
    kind = kind_for(item.kind)
    assert not kind.objective and kind.rubric and kind.form_key(item, ()) is None
    (cell,) = kind.answer_cells(entry_for(item, ()), "q03", "q03-answer", "q03")
    assert cell.cell_type == "markdown" and cell.grade and cell.solution and cell.points == 2
    assert problems_of(parsed(CELLS["OR"].replace("or-1", "or-2"))) != []  # no rubric or-2
