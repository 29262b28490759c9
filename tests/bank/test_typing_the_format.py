"""Typing the item format in JupyterLab: '|' as the header's separator, a wrong separator said once,
a '|' in a short answer's ``accept:`` list, the doubled list marker JupyterLab's list continuation
types, and the warning about a live item without a recorded approval: all through `exam-builder check`."""
from __future__ import annotations

import json
import re

import nbformat
import pytest
from bank_helpers import REPO, problem_lines, run_cli, write_notebook

HEAD = "competency: peer-support | module: 1 | points: 1 | difficulty: easy | status: draft | author: A. Author"
BODY = "\n\nWhich one?\n\n- [ ] one\n- [x] two\n- [ ] three\n\n> **Rationale:** because."


def _lines(mini_course, *cells: str) -> list[str]:
    path = write_notebook(mini_course / "source/cps/typed.ipynb", *cells)
    result = run_cli(mini_course, "check", str(path))
    return problem_lines(result.stdout)


def test_the_pipe_separates_fields_as_the_dot_does(mini_course):
    lines = _lines(mini_course, f"**[MC] t-mc-01** | {HEAD}{BODY}", f"**[MC] t-mc-02** · {HEAD.replace('|', '·')}"
                   f"{BODY.replace('Which one?', 'Which two?')}")
    assert lines == []
    listed = json.loads(run_cli(mini_course, "bank", "list", "--json",
                                str(mini_course / "source/cps/typed.ipynb")).stdout)
    assert [(r["id"], r["module"], r["author"]) for r in listed] == [("t-mc-01", 1, "A. Author"),
                                                                     ("t-mc-02", 1, "A. Author")]


@pytest.mark.parametrize("sep", [",", ";"])
def test_a_wrong_separator_is_said_once_with_the_fix(mini_course, sep):
    header = HEAD.replace(" |", sep)
    lines = _lines(mini_course, f"**[MC] t-mc-01**{sep} {header}{BODY}")
    assert lines == [f"source/cps/typed.ipynb:cell 1 [t-mc-01]: the header's fields are separated by {sep!r}; "
                     "separate them with ' | ' (or ' · '), e.g. '**[MC] t-mc-01** | competency: peer-support | "
                     "module: 4 | points: 1'"]


def test_a_pipe_in_an_accept_list_is_one_clear_message(mini_course):
    sa = "**[SA] t-sa-01** | {} | accept: peer support | peer-support\n\nWhat is it called?\n\n> **Rationale:** so."
    lines = _lines(mini_course, sa.format(HEAD))
    assert lines == ["source/cps/typed.ipynb:cell 1 [t-sa-01]: accepted answers are separated by ';', not '|' or "
                     "'·' (those separate the header's fields); write 'accept: peer support; peer-support'"]
    assert not any("is not 'name: value'" in line for line in lines)
    # the fix it names passes; and a field after the list is still read as a field
    fixed = "**[SA] t-sa-01** | accept: peer support; peer-support | {}\n\nWhat is it called?\n\n> **Rationale:** so."
    assert _lines(mini_course, fixed.format(HEAD)) == []


def test_a_stray_value_in_a_common_field_is_still_reported(mini_course):
    lines = _lines(mini_course, f"**[MC] t-mc-01** | {HEAD} | live{BODY}")
    assert lines == ["source/cps/typed.ipynb:cell 1 [t-mc-01]: header field 'live' is not 'name: value'; write it "
                     "as e.g. 'points: 1'"]


def test_a_doubled_list_marker_is_read_as_meant_and_the_fix_is_said(mini_course):
    doubled = f"**[MC] t-mc-01** | {HEAD}\n\nWhich one?\n\n- [ ] one\n- [ ] - [x] two\n- [ ] - [ ] three\n\n" \
              "> **Rationale:** because."
    path = write_notebook(mini_course / "source/cps/typed.ipynb", doubled)
    result = run_cli(mini_course, "check", str(path))
    assert result.exit_code == 0  # read as meant: one key, three choices; a warning, not an error
    assert problem_lines(result.stdout) == [
        f"source/cps/typed.ipynb:cell 1 [t-mc-01]: warning: choice {letter} starts with two list markers ('- [ ]' "
        f"before '- [{mark}] {text}'), as JupyterLab's list continuation types them; it is read as '- [{mark}] "
        f"{text}': delete the first '- [ ]' (after Enter, JupyterLab types '- [ ] ' for you: type only the "
        "choice's text)" for letter, mark, text in (("B", "x", "two"), ("C", " ", "three"))]
    item = json.loads(run_cli(mini_course, "bank", "list", "--json", str(path)).stdout)[0]
    assert item["id"] == "t-mc-01"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("- [ ] - [", "- [")  # the fix the message names
    nbformat.write(nb, path)
    assert problem_lines(run_cli(mini_course, "check", str(path)).stdout) == []


def _live(item_id: str) -> str:
    return (f"**[MC] {item_id}** | {HEAD.replace('status: draft', 'status: live')} | reviewer: R. Viewer"
            f"{BODY.replace('Which one?', f'Which one for {item_id}?')}")


def test_a_live_item_without_a_recorded_approval_is_warned_about(mini_course):
    from exam_builder.course import Course

    path = write_notebook(mini_course / "source/cps/typed.ipynb", _live("t-mc-01"), _live("t-mc-02"))
    fresh = run_cli(mini_course, "check", str(path))  # nothing reviewed in the course yet: one note
    assert fresh.exit_code == 0 and problem_lines(fresh.stdout) == []
    assert "note: 2 live item(s) and no review recorded in this course yet" in fresh.stderr.replace("\n", " ")

    Course(mini_course).db.upgrade()
    approved = run_cli(mini_course, "bank", "review", "t-mc-01", "--decision", "approve", "--by", "R. Viewer")
    assert approved.exit_code == 0, approved.stdout + approved.stderr
    result = run_cli(mini_course, "check", str(path))
    assert result.exit_code == 0
    assert problem_lines(result.stdout) == [
        "source/cps/typed.ipynb:cell 2 [t-mc-02]: warning: the header says live but the item is waiting for review, "
        "so it will not be drawn on a form; a reviewer other than its author records approval with `exam-builder "
        "bank review t-mc-02 --decision approve --by NAME`"]
    assert "note:" not in result.stderr

    nb = nbformat.read(path, as_version=4)  # an edit after the approval: changed since approval
    nb.cells[0].source = nb.cells[0].source.replace("- [ ] one", "- [ ] one, edited")
    nbformat.write(nb, path)
    edited = problem_lines(run_cli(mini_course, "check", str(path)).stdout)
    assert re.match(r"source/cps/typed.ipynb:cell 1 \[t-mc-01\]: warning: the header says live but the item is "
                    r"changed since approval by R. Viewer on \d{4}-\d\d-\d\d: waiting for review, so it will not be "
                    r"drawn", edited[0]), edited


GUIDE_MUST_SAY = {
    "every kind": ["`[TF]`", "`[MC]`", "`[MS]`", "`[SA]`", "`[OR]`", "`[SCENARIO]`"],
    "multiple select's scoring": ["scoring: partial"],
    "short answer's rule": ["accept:", "number:", "tolerance:"],
    "the practice pool": ["pool: practice"],
    "review": ["exam-builder bank review", "--decision approve"],
    "the separator": ["`|`"],
    "JupyterLab's list continuation": ["list"],
}


@pytest.mark.parametrize("notebook", sorted((REPO / "source").rglob("*.ipynb")), ids=lambda p: p.name)
def test_each_bank_notebook_guide_covers_the_format(notebook):
    first = nbformat.read(notebook, as_version=4).cells[0].source
    missing = {what: [w for w in words if w not in first] for what, words in GUIDE_MUST_SAY.items()}
    assert not {k: v for k, v in missing.items() if v}, notebook
