"""The README's "Your own course, from the sample", step by step through the CLI (walk 4, issue 22).

A first-time coordinator copied the sample, ran the three `bank review --all-pending` commands the
README shows, and `bank list --waiting` still listed `ibno-mc-31` (a "status: reviewed" item, never
drawn) and eleven other drafts and retired items, although `build` then succeeded. `--waiting` lists
what a reviewer has to act on: live items not approved, the set `--all-pending` reviews and `build`
draws from; an item its author does not offer says "not offered" in `bank list`.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from bank_helpers import REPO, run_cli
from coursekit import new_course_dir

from exam_builder.bank import load_bank
from exam_builder.bank.review import gate
from exam_builder.course import Course


def readme_review_commands() -> list[list[str]]:
    """The commands of the README's step "Review the items", as the reader types them."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your own course, from the sample", 1)[1].split("\n## ", 1)[0]
    step = section.split("**Review the items.**", 1)[1]
    block = re.search(r"```\n(.*?)```", step, re.S).group(1)
    commands = [shlex.split(line) for line in block.splitlines() if line.strip()]
    assert commands and all(c[0] == "exam-builder" for c in commands)
    return [c[1:] for c in commands]


def test_the_readme_review_steps_leave_nothing_waiting(tmp_path: Path):
    root = new_course_dir(tmp_path / "course", with_bank=True)  # step 1: the sample's authored files
    assert run_cli(root, "db", "upgrade").exit_code == 0  # step 3
    before = json.loads(run_cli(root, "bank", "list", "--waiting", "--json").stdout)
    assert before and all(r["status"] == "live" for r in before)  # only what --all-pending will review
    for args in readme_review_commands():  # step 4
        result = run_cli(root, *args)
        assert result.exit_code == 0, (args, result.output)

    result = run_cli(root, "bank", "list", "--waiting")
    assert result.exit_code == 0, result.output
    assert "No live item waits for review" in result.stdout
    assert json.loads(run_cli(root, "bank", "list", "--waiting", "--json").stdout) == []
    listed = run_cli(root, "bank", "list", "--json")
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert rows["ibno-mc-31"]["status"] == "reviewed" and rows["ibno-mc-31"]["waiting_for_review"] is False
    assert rows["ibno-mc-31"]["review"].startswith("not offered (status: reviewed)")
    assert "0 item(s) wait for review" in run_cli(root, "bank", "list").stdout

    # what build draws from: every live certification item approved; the items not offered never drawn
    course = Course(root)
    bank = gate(course, load_bank([course.source_dir]))
    offered = [i for i in bank.offered() if not i.practice]
    assert offered and bank.live() == offered
    assert not bank.is_live(bank.items["ibno-mc-31"])
    course.db.dispose()
