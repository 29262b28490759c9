"""Short answer through the kind seam: authoring, check, form cells, answers as data, scoring = nbgrader."""
from __future__ import annotations

import pytest
from test_kinds import HEAD, W, entry_for, parsed, problems_of, run_test_cell

from exam_builder.bank.parse import parse_cell, render_item
from exam_builder.kinds import kind_for
from exam_builder.model.item import Item

WORDS = (f"**[SA] sa-1** · {HEAD} · accept: peer support; Peer-Support\nWhat is it called?\n"
         "> **Rationale:** Lived experience.")
NUMBER = f"**[SA] sa-2** · {HEAD} · number: 988 · tolerance: 0.5\nWhich number?"
SA = kind_for("short_answer")


def test_short_answer_parses_renders_and_validates():
    for text in (WORDS, NUMBER):
        item = parsed(text)
        assert item.choices == () and item.own and problems_of(item) == []
        again, problems = parse_cell(render_item(item), W)
        assert problems == [] and again == item and again.content_hash() == item.content_hash()
    assert parsed(WORDS).own == {"accept": ("peer support", "Peer-Support")}
    assert parsed(NUMBER).own == {"number": 988.0, "tolerance": 0.5}
    assert "accept: peer support; Peer-Support" in render_item(parsed(WORDS))
    assert not SA.rated and SA.typed and SA.dichotomous() and SA.tag == "SA"


@pytest.mark.parametrize("text, message", [
    (WORDS.replace(" · accept: peer support; Peer-Support", ""), "no accepted answer"),
    (WORDS.replace("peer support; Peer-Support", "peer support; ;"), "accepted answer 2 is empty"),
    (WORDS.replace("Peer-Support", "PEER support."), "accepted answers 1 and 2 are the same"),
    (NUMBER.replace("988", "nine"), "number 'nine' is not a number"),
    (NUMBER.replace("0.5", "-1"), "tolerance '-1' is not a number of 0 or more"),
    (NUMBER.replace(" · number: 988", ""), "'tolerance:' goes with 'number:'"),
    (NUMBER.replace("number: 988", "number: 988 · accept: x"), "not both"),
    (WORDS.replace("What is it called?", "What is it called?\n- [x] peer support"), "has no choices"),
])
def test_short_answer_mistakes_are_located(text, message):
    item, problems = parse_cell(text, W)
    bank_problems = []
    if item is not None:
        from exam_builder.bank import Bank
        from exam_builder.bank.validate import validate
        from exam_builder.settings.policy import ProgramPolicy

        bank_problems = [str(p) for p in validate(Bank(items={item.id: item}), {}, ProgramPolicy())]
    found = [str(p) for p in problems] + bank_problems
    assert any(message in f and "source/x.ipynb:cell 2" in f for f in found), found


def test_normalisation_rules():
    key = SA.form_key(parsed(WORDS), ())
    for right in ("peer support", "Peer Support", "  peer   support ", "peer support.", "PEER-SUPPORT!",
                  "peer\tsupport?", "peer support ...", "Peer-support;"):
        assert SA.score(right, key, 2.0) == 2.0, right
    for wrong in ("peer", "peersupport", "peer  supports", "support peer", "", None, "peer support x"):
        assert SA.score(wrong, key, 2.0) == 0.0, wrong
    key = SA.form_key(parsed(NUMBER), ())
    for right in ("988", "988.5", "987.5", " 988. ", "+988", "9.88e2", "988.0"):
        assert SA.score(right, key, 1.0) == 1.0, right
    for wrong in ("988.51", "987", "nine eight eight", "988 calls", "9,88", "inf", "nan", "1e999", ""):
        assert SA.score(wrong, key, 1.0) == 0.0, wrong


ANSWERS = ["peer support", "Peer Support.", "  PEER   support ", "peer", "", "peer support\nagain",
           'it\'s "quoted"', "988", "988.5", "988.6", "987.5 ", "1e3", "9.88E2", "ünïcødé ✓", "\\x00", None,
           "__import__('os').system('false')"]


@pytest.mark.parametrize("cell", [WORDS, NUMBER])
@pytest.mark.parametrize("points", [1.0, 2.5])
def test_short_answer_score_equals_the_nbgrader_test_cell(cell, points):
    item = parsed(cell).model_copy(update={"points": points})
    entry = entry_for(item, ())
    answer_cell, check = SA.answer_cells(entry, "q03", "q03-answer", "q03")
    test = check.source.removeprefix("### BEGIN HIDDEN TESTS\n").removesuffix("\n### END HIDDEN TESTS")
    assert "_sa_right(q03," in test and check.grade and check.locked and answer_cell.solution
    solution = answer_cell.source.split("\n")[1]
    read = SA.read_answer(solution, SA.answer_pattern("q03"), (), 3)
    assert SA.score(read.answer, entry.key, points) == points  # the solution earns full points
    for answer in ANSWERS:
        source = SA.answer_source("q03", answer) if answer is not None else "q03 = None"
        read = SA.read_answer(source, SA.answer_pattern("q03"), (), 3)
        assert read.flag is None and read.answer == answer  # read back as data, exactly
        ours = SA.score(read.answer, entry.key, points)
        assert ours == run_test_cell(test, "q03", answer, points), (answer, ours)


def test_answers_are_literals_and_anything_else_is_junk():
    assert SA.answer_source("q01", 'a"b\'c\n') == "q01 = 'a\"b\\'c\\n'"
    for junk in ("q01 = 42", "q01 = f'{1}'", "q01 = 'a'; import os", "q01 = open('x').read()", "q02 = 'a'",
                 "q01 = ('a')[0]", "q01 =", "import os"):
        read = SA.read_answer(junk, SA.answer_pattern("q01"), (), 1)
        assert read.answer is None and read.flag == "junk_answer", junk


def test_stored_answer_is_one_trimmed_line():
    assert SA.clean_answer("  peer\nsupport \r\n", ()) == "peer support"
    assert SA.clean_answer("   ", ()) is None and SA.clean_answer(None, ()) is None
    with pytest.raises(ValueError):
        SA.clean_answer("x" * 201, ())
    with pytest.raises(ValueError):
        SA.clean_answer(["a"], ())


def test_control_is_a_labelled_text_input():
    import ipywidgets as w

    ctrl = SA.control(4, [], "peer support")
    assert isinstance(ctrl, w.Text) and ctrl.value == "peer support"
    assert ctrl.description == "Answer to question 4 (type your answer)"
    assert SA.control_answer("  x ") == "x" and SA.control_answer("") is None


def test_key_in_words_and_lint():
    from exam_builder.errors import Location

    item = parsed(WORDS)
    entry = entry_for(item, ())
    assert SA.key_text(entry, item) == "peer support; Peer-Support"
    assert SA.key_words(item, (), entry.key) == "peer support or Peer-Support"  # a candidate reads "or", not ";"
    assert SA.lint(entry, item, Location("m.json"), "x-A", {}) == []
    other = Item(id="sa-1", kind="short_answer", own={"accept": ("other",)})
    assert "does not match" in SA.lint(entry, other, Location("m.json"), "x-A", {})[0].message
    num = parsed(NUMBER)
    assert SA.key_text(entry_for(num, ()), num) == "988 ± 0.5"
    assert SA.key_words(num, (), entry_for(num, ()).key) == "988, give or take 0.5"
    assert SA.said("Peer Support.") == "You wrote “Peer Support.”"
    assert SA.said("peer support") == "You wrote “peer support”."


def test_collect_writes_a_typed_answer_as_a_literal_that_grading_reads_back():
    """The submission ``collect`` writes: the stored answer as a string literal, read back as data."""
    import nbformat

    from exam_builder.delivery.collect import submission_notebook
    from exam_builder.delivery.form_view import FormView, ItemView

    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "# YOUR CODE HERE\nraise NotImplementedError()", metadata={"exam_builder": {"role": "answer", "number": 1}})])
    view = FormView("x-A", items=[ItemView(1, "sa-1", "short_answer", 1.0, "What is it called?")])
    hostile = "peer support'); import os; os.system('false'); ('"
    for stored in ("Peer Support.", hostile, None):
        nb, problems = submission_notebook(released, view, {"sa-1": stored}, "x.ipynb")
        assert problems == []
        source = nb.cells[0].source
        assert source == ("q01 = None" if stored is None else f"q01 = {stored!r}")
        assert SA.read_answer(source, SA.answer_pattern("q01"), (), 1).answer == stored
    # a journal value the kind would not have stored (two lines) is not written: the sitting needs review
    nb, problems = submission_notebook(released, view, {"sa-1": "two\nlines"}, "x.ipynb")
    assert problems and "not a valid answer" in problems[0].message


def test_item_statistics_of_short_answer_are_dichotomous():
    """0 or full points: KR-20 applies, facility is the share right; no options, so no option shares."""
    import pandas as pd
    from test_kinds import CELLS

    from exam_builder.analysis.items import form_stats
    from exam_builder.analysis.psychometrics import item_stats

    sa = entry_for(parsed(WORDS), (), number=1)
    mc = entry_for(parsed(CELLS["MC"]), (0, 1, 2), number=2)
    stats = form_stats("x-A", [sa, mc], [[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert stats.reliability_name == "KR-20" and stats.items[0].facility == 0.75
    assert SA.dichotomous() and SA.picks("peer support") == () and not SA.offers_options
    scores = pd.DataFrame({1: [1.0, 0.0, 1.0, 1.0], 2: [1.0, 0.0, 0.0, 1.0]})
    choices = pd.DataFrame({1: [None] * 4, 2: ["B", "A", "C", "B"]}, dtype=object)  # as the report passes them
    out = item_stats(scores, pd.Series({1: 1.0, 2: 1.0}), choices, pd.Series({2: "B"}, dtype=object))
    row = out.set_index("item").loc[1]
    assert row["facility"] == 0.75 and pd.isna(row["key"])
    assert "share_B" in out.columns and out.set_index("item").loc[2]["share_B"] == 0.5
