"""The item format: parse_cell, parse_notebook, render_item and write_back."""
from __future__ import annotations

import json

import nbformat
import pytest
from bank_helpers import write_notebook

from exam_builder.bank import load_bank
from exam_builder.bank.parse import parse_cell, parse_notebook, read_notebook, render_item, render_scenario, write_back
from exam_builder.model.item import METADATA_KEY, Item, Kind, Scenario, Status, Where

W = Where(file="source/cps/x.ipynb", cell=3)

MC = """**[MC] core-07** · competency: change-agent · module: 7 · points: 2 · difficulty: hard · status: live · author: A. Rivera · reviewer: J. Chen
A peer specialist notices that a unit rule keeps people from calling family.

What is the best response?
- [ ] Ignore it; rules are the staff's business.
- [x] Raise it with the team, bringing the people's own words.
- [ ] None of the above
> **Rationale:** A change agent raises
> what the people affected say."""  # noqa: E501 (an item's header line is one line, as authors write it)


def messages(problems):
    return [p.message for p in problems]


def test_multiple_choice_cell():
    item, problems = parse_cell(MC, W)
    assert problems == []
    assert isinstance(item, Item)
    assert (item.id, item.kind, item.points, item.competency, item.module) == (
        "core-07", Kind.multiple_choice, 2.0, "change-agent", 7)
    assert (item.difficulty, item.status, item.author, item.reviewer) == ("hard", Status.live, "A. Rivera", "J. Chen")
    assert item.stem == ("A peer specialist notices that a unit rule keeps people from calling family.\n\nWhat is the "
                         "best response?")
    assert [c.text for c in item.choices][1] == "Raise it with the team, bringing the people's own words."
    assert item.keys == [1] and item.key == 1
    assert item.choices[2].anchored and not item.choices[0].anchored
    assert item.rationale == "A change agent raises\nwhat the people affected say."
    assert item.where == W


def test_true_false_and_open_response_defaults():
    tf, _ = parse_cell("**[TF] tf-1** · competency: peer-support · module: 1\nHope matters.\n- [x] True\n- [ ] False",
                       W)
    assert tf.kind is Kind.true_false and [c.text for c in tf.choices] == ["True", "False"]
    assert (tf.points, tf.difficulty, tf.status) == (1, "medium", Status.draft)
    orr, _ = parse_cell("**[OR] or-1** | points: 4 | rubric: r-9\nExplain mutuality.", W)
    assert orr.kind is Kind.open_response and orr.rubric_id == "r-9" and orr.points == 4 and orr.choices == ()
    plain, _ = parse_cell("**[OR] or-2** · points: 3\nExplain.", W)
    assert plain.rubric is None and plain.rubric_id == "or-2"


def test_windows_line_endings():
    item, problems = parse_cell(MC.replace("\n", "\r\n"), W)
    assert problems == [] and item == parse_cell(MC, W)[0]


def test_scenario_cell():
    sc, problems = parse_cell("**[SCENARIO] sc-1** · title: A new member\n\nDana joins a group.\n\nShe is quiet.", W)
    assert problems == [] and isinstance(sc, Scenario)
    assert (sc.id, sc.title, sc.text) == ("sc-1", "A new member", "Dana joins a group.\n\nShe is quiet.")
    again, _ = parse_cell(render_scenario(sc), W)
    assert again == sc


@pytest.mark.parametrize("source", ["# Module 4\n\nNotes for authors.", "", "**Bold** text", "Some [x] text"])
def test_notes_are_not_items(source):
    assert parse_cell(source, W) == (None, [])


@pytest.mark.parametrize(
    "source,expected",
    [
        ("**[MC]** · points: 1\nStem", "the header has no id; write it after the kind, e.g. **[MC] core-07**"),
        ("**[XX] a-1**\nStem", "unknown item kind [XX]; use [TF], [MC], [MS], [OR], [SA] or [SCENARIO]"),
        ("**[MC] a-1** · points: x\nStem",
         "points must be a number above 0 and at most 100, not 'x'; write e.g. 'points: 1'"),
        ("**[MC] a-1** · module: four\nStem",
         "module must be a whole number from 1 to 1000, not 'four'; write e.g. 'module: 4'"),
        ("**[MC] a-1** · points: 1 · points: 2\nStem", "header field 'points' is given twice; keep one"),
        ("**[MC] a-1** · key: B\nStem",
         "'key: B' does not go in the header; mark the key among the choices with '- [x]'"),
        ("**[SCENARIO] s-1** · points: 2\nText", "unknown header field 'points'; use one of: title"),
        ("**[MC] a-1**\nStem\n- [x] A\n> **Rationale:** r\n- [ ] B",
         "choice 'B' is below the rationale; put every choice above it"),
        ("**[OR] a-1**\nStem\n> **Rationale:** r\nMore stem",
         "text after the rationale ('More stem'); start every rationale line with '>'"),
        ("**[MC] a-1**\nStem\n- [X] A\n- [ ] B\n* [ ] C", None),  # capital X and '*' bullets are fine
    ],
)
def test_parse_problems(source, expected):
    _, problems = parse_cell(source, W)
    assert messages(problems) == ([expected] if expected else [])
    assert all(p.location.file == W.file and p.location.cell == W.cell for p in problems)


def test_render_is_canonical_and_parses_back():
    item, _ = parse_cell(MC, W)
    text = render_item(item)
    assert text.splitlines()[0] == (
        "**[MC] core-07** · competency: change-agent · module: 7 · points: 2 · difficulty: hard · status: live"
        " · author: A. Rivera · reviewer: J. Chen"
    )
    again, problems = parse_cell(text, W)
    assert problems == [] and again == item
    assert render_item(again) == text


def test_read_notebook_errors(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [\n  {"cell_type": "markdown",\n')
    nb, problems = read_notebook(bad, "bad.ipynb")
    assert nb is None and problems[0].location.line == 3 and "not valid notebook JSON" in problems[0].message
    bad.write_text(json.dumps({"cells": [{"cell_type": "markdown"}], "metadata": {}, "nbformat": 4,
                               "nbformat_minor": 5}))
    nb, problems = read_notebook(bad, "bad.ipynb")
    assert nb is None and problems[0].message.startswith("not a valid notebook (")
    assert "re-save it from JupyterLab" in problems[0].message
    bad.write_bytes(b"\xff\xfe\x00garbage")
    nb, problems = read_notebook(bad, "bad.ipynb")
    assert nb is None and problems[0].message.startswith("cannot read the file")


def test_parse_notebook_cells_and_generated_forms(tmp_path):
    path = write_notebook(
        tmp_path / "items.ipynb",
        "# Notes",
        ("code", "print('not an item')"),
        "**[TF] t-1** · competency: peer-support · module: 1\nStem\n- [x] True\n- [ ] False",
        ("code", "**[MC] m-1** · points: 1\nStem"),
    )
    parsed = parse_notebook(path, "items.ipynb")
    assert [i.id for i in parsed.items] == ["t-1"] and parsed.items[0].where == Where(file="items.ipynb", cell=3)
    assert messages(parsed.problems) == [
        "this code cell starts like an item, so the item is left out of the bank; change the cell type to Markdown"
    ]
    assert parsed.problems[0].location.cell == 4
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata[METADATA_KEY] = {"generated": True}
    nbformat.write(nb, str(path))
    assert parse_notebook(path).generated
    assert load_bank([tmp_path]).items == {}


def test_write_back_stores_metadata_outside_nbgrader(tmp_path):
    authored = MC.replace("\n- [ ] None", "\n- [ ]  None")
    path = write_notebook(tmp_path / "items.ipynb", "# Notes", authored, "**[SCENARIO] s-1** · title: T\n\nText")
    parsed = parse_notebook(path, "items.ipynb")
    assert write_back(path, parsed.items, parsed.scenarios) is True
    nb = nbformat.read(str(path), as_version=4)
    assert METADATA_KEY not in nb.cells[0].metadata
    meta = nb.cells[1].metadata[METADATA_KEY]["item"]
    assert meta["id"] == "core-07" and meta["choices"][1] == {"text": "Raise it with the team, bringing the people's "
                                                                      "own words.", "correct": True}
    assert "where" not in meta and "nbgrader" not in nb.cells[1].metadata
    assert nb.cells[2].metadata[METADATA_KEY] == {"scenario": {"id": "s-1", "title": "T", "text": "Text"}}
    assert nb.cells[1].source == authored  # the author's text is the truth: left as written
    assert write_back(path, parsed.items, parsed.scenarios) is False  # nothing to change the second time
    assert parse_notebook(path, "items.ipynb").items == parsed.items
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_back_normalize_and_stale_cells(tmp_path):
    messy = "**[TF] t-1**|competency: peer-support|module: 1\n\n\nHope matters.\n-   [x] True\n-   [ ] False"
    path = write_notebook(tmp_path / "items.ipynb", messy)
    parsed = parse_notebook(path)
    assert parsed.problems == []
    assert write_back(path, parsed.items, [], normalize=True)
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[0].source == render_item(parsed.items[0])
    assert parse_notebook(path).items == parsed.items
    # the notebook changed since it was parsed: the cell now holds another item, so it is left alone
    nb.cells[0].source = nb.cells[0].source.replace("t-1", "t-2")
    nbformat.write(nb, str(path))
    before = path.read_bytes()
    assert write_back(path, [parsed.items[0].model_copy(update={"stem": "changed"})], []) is False
    assert path.read_bytes() == before
