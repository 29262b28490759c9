"""`check` says when a cell looks like an item but does not parse as one (a lost ``**``), and a
copied notebook's own mistakes come first, its duplicate ids said once."""
from __future__ import annotations

import nbformat
import pytest
from bank_helpers import run_cli
from coursekit import new_course_dir

from exam_builder.bank.parse import looks_like_item

ORIGINAL = "source/cps/01-recovery-and-hope.ipynb"


@pytest.mark.parametrize("source, why", [
    ("**[TF] ps-tf-09 · competency: peer-support\nHope is...\n- [x] True\n- [ ] False", "starts with [TF]"),
    ("[MC] ps-mc-09 · competency: peer-support\nWhat...", "starts with [MC]"),
    ("**[MC ps-mc-09** · module: 1\nWhat...", "starts with [MC]"),
    ("*[scenario] sc-1*\nA vignette", "starts with [scenario]"),
    ("What is the first thing to say?\n- [ ] Nothing\n- [x] Ask what helps", "2 choices with a key"),
])
def test_cells_that_look_like_items(source, why):
    assert why in looks_like_item(source)


@pytest.mark.parametrize("source", [
    "**[MC] ps-mc-09** · competency: peer-support\nWhat?\n- [ ] a\n- [x] b",  # an item: the parser's
    "# Notes\nA reminder for authors.",
    "Write items like this:\n```\n**[MC] id** · ...\n- [ ] a\n- [x] b\n```",  # shown in a fence on purpose
    "To do:\n- [x] draft the module 3 items",  # one checked box is a to-do list
    "[Link text] is not a kind",
])
def test_cells_that_do_not(source):
    assert looks_like_item(source) is None


def _copy_with_two_mistakes(root) -> str:
    nb = nbformat.read(root / ORIGINAL, as_version=4)
    for cell in nb.cells:
        if "**[TF] ps-tf-01**" in cell.source:
            cell.source = cell.source.replace("**[TF] ps-tf-01**", "**[TF] ps-tf-01", 1)  # a lost **
        if "**[MC] ca-mc-01**" in cell.source:
            cell.source = cell.source.replace("competency: change-agent", "competency: change-agnet", 1)
    nbformat.write(nb, root / "source/cps/01-copy.ipynb")
    return "source/cps/01-copy.ipynb"


def test_a_copy_reports_its_own_mistakes_first_and_its_duplicates_once(tmp_path):
    root = new_course_dir(tmp_path / "course", with_bank=True)
    copy = _copy_with_two_mistakes(root)
    result = run_cli(root, "check", str(root / copy))
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith(copy)]
    assert lines[0].startswith(f"{copy}:cell 4: warning: this cell looks like an item (its first line starts with "
                               "[TF])")
    assert lines[1].startswith(f"{copy}:cell 6 [ca-mc-01]: unknown competency 'change-agnet'")
    assert lines[2].startswith(f"{copy}: 20 items and 3 scenarios have the same ids as in {ORIGINAL}: is this a copy?")
    assert len(lines) == 3 and "is also used at" not in result.stdout
    assert "2 error(s), 1 warning(s)" in result.stdout


def test_checking_the_whole_course_says_it_once_per_notebook(tmp_path):
    root = new_course_dir(tmp_path / "course", with_bank=True)
    copy = _copy_with_two_mistakes(root)
    result = run_cli(root, "check")
    summaries = [line for line in result.stdout.splitlines() if "have the same ids as in" in line]
    assert summaries == [
        f"{copy}: 20 items and 3 scenarios have the same ids as in {ORIGINAL}: is one of the two a copy? "
        "Give the copy's items and scenarios ids of their own, or remove it ('ps-mc-01', 'ps-mc-02', 'ca-mc-01', ...)",
        f"{ORIGINAL}: 20 items and 3 scenarios have the same ids as in {copy}: is one of the two a copy? "
        "Give the copy's items and scenarios ids of their own, or remove it ('ps-mc-01', 'ps-mc-02', 'ca-mc-01', ...)",
    ]
    assert "is also used at" not in result.stdout


def test_two_shared_ids_are_reported_one_by_one(tmp_path):
    root = new_course_dir(tmp_path / "course", with_bank=True)
    nb = nbformat.read(root / ORIGINAL, as_version=4)
    keep = [c for c in nb.cells if "**[MC] ps-mc-01**" in c.source or "**[TF] ps-tf-01**" in c.source
            or "[SCENARIO]" not in c.source and c.cell_type == "code"]
    nb.cells = keep
    nbformat.write(nb, root / "source/cps/two.ipynb")
    result = run_cli(root, "check", str(root / "source/cps/two.ipynb"))
    assert result.stdout.count("is also used at") == 2 and "have the same ids" not in result.stdout
