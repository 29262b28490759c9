"""Each kind's hooks round-trip: parse -> validate -> form key -> render -> answer -> score."""
from __future__ import annotations

import random

import pytest

from exam_builder.bank import Bank
from exam_builder.bank.parse import parse_cell, render_item
from exam_builder.bank.validate import validate
from exam_builder.kinds import kind_for
from exam_builder.model.item import Item, Where
from exam_builder.model.manifest import ManifestItem, grade_ids
from exam_builder.model.rubric import Rubric
from exam_builder.settings.policy import ProgramPolicy

W = Where(file="source/x.ipynb", cell=2)
HEAD = "competency: peer-support · module: 1 · status: live · author: A. Rivera · reviewer: J. Chen"
CELLS = {
    "TF": f"**[TF] tf-1** · {HEAD}\nHope is real.\n- [x] True\n- [ ] False\n> **Rationale:** Because it is.",
    "MC": f"**[MC] mc-1** · {HEAD}\nBest response?\n- [ ] Ignore\n- [x] Listen\n- [ ] Advise\n> **Rationale:** "
          "Listening.",
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
    assert check.grade and check.locked and check.points == item.points
    assert f'assert q03 == "{entry.key}"' in check.source
    wrong = next(lab for lab in labels if lab != entry.key)
    assert kind.score(entry.key, entry.key, 1) == 1 and kind.score(wrong, entry.key, 1) == 0
    assert kind.score(None, entry.key, 1) == 0
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
    assert kind.rated and kind.rubric and kind.form_key(item, ()) is None
    (cell,) = kind.answer_cells(entry_for(item, ()), "q03", "q03-answer", "q03")
    assert cell.cell_type == "markdown" and cell.grade and cell.solution and cell.points == 2
    assert problems_of(parsed(CELLS["OR"].replace("or-1", "or-2"))) != []  # no rubric or-2


# -- multiple select ------------------------------------------------------------------------
MS = (f"**[MS] ms-1** · {HEAD} · points: 2 · scoring: partial\nWhich are signs of mutuality? Select all that apply.\n"
      "- [x] Both decide the topic\n- [ ] The specialist steers\n- [x] Either can say no\n- [ ] Advice is given\n"
      "> **Rationale:** Mutuality is shared power.")


def run_test_cell(source: str, variable: str, answer: str | None, points: float) -> float:
    """What nbgrader's autograde gives for a test cell: 0 on an error, the last value as partial
    credit when there is one (``nbgrader.utils.get_partial_grade``), else full points."""
    import ast

    from nbformat import NotebookNode
    from nbgrader.utils import get_partial_grade

    tree = ast.parse(source)
    namespace = {variable: answer}
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    try:
        exec(compile(tree, "<test>", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), "<test>", "eval"), namespace) if last else None
    except Exception:
        return 0.0
    if value is None:
        return points
    return get_partial_grade(NotebookNode({"data": {"text/plain": repr(value)}}), points)


def test_multiple_select_parses_validates_and_round_trips():
    item = parsed(MS)
    assert item.keys == [0, 2] and item.own["scoring"] == "partial" and item.points == 2
    assert parse_cell(render_item(item), W)[0] == item and problems_of(item) == []
    plain = parsed(MS.replace(" · scoring: partial", ""))
    assert "scoring" not in plain.own and "scoring" not in plain.content()  # all-or-nothing by default
    assert kind_for(plain.kind).manifest_fields(plain) == {"scoring": "all-or-nothing"}


@pytest.mark.parametrize("text, message", [
    (MS.replace("- [x] Either", "- [ ] Either"), "1 choice marked correct; a multiple-select item has at least 2 keys"),
    (MS.replace("scoring: partial", "scoring: half"), "scoring 'half' is unknown"),
    (MS.replace("- [ ] Advice is given", "- [ ] None of the above"), "does not fit 'select all that apply'"),
    (MS.replace("- [ ] The specialist steers\n", "").replace("- [ ] Advice is given\n", ""), "at least 3 choices"),
    (CELLS["MC"].replace("[MC]", "[MC]").replace("points", "points").replace(HEAD, HEAD + " · scoring: partial"),
     "unknown header field 'scoring'"),
])
def test_multiple_select_mistakes_are_located(text, message):
    item, problems = parse_cell(text, W)
    found = [str(p) for p in problems] + ([f"{W.file}:cell {W.cell} " + m for m in problems_of(item)] if item else [])
    assert any(message in f and "source/x.ipynb:cell 2" in f for f in found), found


ANSWERS = [None, "A", "B", "A,B", "A,C", "B,D", "A,B,C", "A,B,C,D", "C,A", "A,A", "A,Z", "", "a"]


@pytest.mark.parametrize("scoring", ["all-or-nothing", "partial"])
@pytest.mark.parametrize("points", [1.0, 2.0, 0.1, 3.0])
def test_multiple_select_score_equals_the_nbgrader_test_cell(scoring, points):
    base = parsed(MS.replace("scoring: partial", f"scoring: {scoring}"))
    item = base.model_copy(update={"points": points})
    kind = kind_for(item.kind)
    order = kind.choice_order(item, True, random.Random(7))
    entry = entry_for(item, order)
    assert entry.scoring == scoring and len(entry.key.split(",")) == 2
    labels = tuple("ABCD")
    _answer, check = kind.answer_cells(entry, "q03", "q03-answer", "q03")
    test = check.source.removeprefix("### BEGIN HIDDEN TESTS\n").removesuffix("\n### END HIDDEN TESTS")
    for answer in ANSWERS + [entry.key]:
        read = kind.read_answer(f'q03 = "{answer}"' if answer is not None else "q03 = None",
                                kind.answer_pattern("q03"), labels, 3)
        ours = kind.score(read.answer, entry.key, points, entry.scoring)
        assert ours == run_test_cell(test, "q03", answer, points), (answer, ours)
        assert 0 <= ours <= points
    assert kind.score(entry.key, entry.key, points, scoring) == points


def test_multiple_select_partial_credit_formula():
    kind = kind_for("multiple_select")
    # keys A,C of four: right - wrong over the number of keys, floor 0
    assert kind.score("A,C", "A,C", 2, "partial") == 2
    assert kind.score("A", "A,C", 2, "partial") == 1
    assert kind.score("A,B", "A,C", 2, "partial") == 0
    assert kind.score("A,B,C", "A,C", 2, "partial") == 1
    assert kind.score("B,D", "A,C", 2, "partial") == 0
    assert kind.score("A", "A,C", 2, "all-or-nothing") == 0
    assert not kind.dichotomous("partial") and kind.dichotomous("all-or-nothing") and kind.dichotomous(None)


def test_multiple_select_stores_sorted_labels_and_refuses_others():
    kind = kind_for("multiple_select")
    labels = ("A", "B", "C", "D")
    assert kind.clean_answer("C,A", labels) == "A,C" and kind.clean_answer(["D", "B"], labels) == "B,D"
    assert kind.clean_answer([], labels) is None and kind.clean_answer(None, labels) is None
    for bad in ("A,Z", "A,A", ["A", 1], "E", 5):
        with pytest.raises(ValueError):
            kind.clean_answer(bad, labels)
    assert kind.answer_source("q03", "A,C") == 'q03 = "A,C"'
    assert kind.control_answer(["C", "A"]) == "A,C" and kind.control_answer([]) is None
    assert kind.control_value("A,C") == ["A", "C"] and kind.picks("A,C") == ("A", "C")
    read = kind.read_answer('q03 = "C,A"', kind.answer_pattern("q03"), labels, 3)
    assert read.answer is None and read.flag == "unknown_label"


def test_item_statistics_of_multiple_select():
    """Facility is the mean share of points; partial credit makes the form's reliability alpha,
    not KR-20; option shares count every answer that chose the option."""
    import pandas as pd

    from exam_builder.analysis.items import form_stats
    from exam_builder.analysis.psychometrics import item_stats

    item = parsed(MS)
    entry = entry_for(item, (0, 1, 2, 3), number=1)
    mc = entry_for(parsed(CELLS["MC"]), (0, 1, 2), number=2)
    rows = [[2.0, 1.0], [1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]
    stats = form_stats("x-A", [entry, mc], rows)
    assert stats.reliability_name == "alpha" and stats.items[0].facility == 5 / 8
    all_or_nothing = entry.model_copy(update={"scoring": "all-or-nothing"})
    assert form_stats("x-A", [all_or_nothing, mc], [[1.0, 1.0], [0.0, 0.0]]).reliability_name == "KR-20"
    scores = pd.DataFrame({1: [2.0, 1.0, 0.0, 2.0]})
    choices = pd.DataFrame({1: ["A,C", "A", "B", "A,C"]}, dtype=object)
    out = item_stats(scores, pd.Series({1: 2.0}), choices, pd.Series({1: "A,C"}, dtype=object)).iloc[0]
    assert (out["share_A"], out["share_B"], out["share_C"], out["facility"]) == (0.75, 0.25, 0.5, 0.625)
