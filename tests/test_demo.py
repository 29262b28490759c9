"""`make demo`, the README's first command, whole: every stage of `exam-builder demo`, through the
console script, as `make demo` runs it (from the checkout, on a fresh folder), and a demo with a
stage missing refuses to run instead of printing "demo complete".

The stage tests in tests/bank and tests/records stay: they check one stage's output on a small
course and its failure, which a whole run on the sample course cannot.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

import exam_builder.demo as demo
from exam_builder.cli import cli
from exam_builder.errors import ExamBuilderError

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "exam-builder"
STAGE_LINE = re.compile(r"^(\w+): \d+\.\d s$", re.M)  # what the demo prints after each stage


def test_the_whole_demo_runs_every_stage(tmp_path):
    """Bank to report, the rehearsal's real exam server included; exit 0 only when all nine ran."""
    if not EXE.exists():
        pytest.skip("the exam-builder console script is not installed next to this Python")
    target = tmp_path / "demo-course"
    env = {k: v for k, v in os.environ.items() if k not in ("EXAM_BUILDER_COURSE", "EXAM_BUILDER_DB_URL")}
    proc = subprocess.run([str(EXE), "demo", "--dir", str(target)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=840)  # under `make test`'s --timeout 900
    out = proc.stdout
    assert proc.returncode == 0, (out + proc.stderr)[-6000:]
    assert "Traceback" not in out + proc.stderr
    ran = [name for name in STAGE_LINE.findall(out) if name in demo.STAGE_NAMES]
    assert ran == list(demo.STAGE_NAMES) and len(ran) == 9, out[-6000:]
    assert "demo complete: 9 of 9 stages in " in out
    for title in (title for _name, title in demo.STAGES):
        assert title in out, title
    # what the stages leave behind: released forms, score reports, the program's report
    assert sorted(p.name for p in (target / "release").iterdir()) == ["cps-A", "cps-B", "cps-C"]
    assert any((target / "feedback").iterdir())
    assert (target / "reports" / "out" / "cps" / "report.html").stat().st_size > 0
    assert "audit trail intact" in out and "answers lost" in out
    # the delivery stage's fire alarm: the room paused and resumed, the time kept to the second
    assert re.search(r"room paused \(fire alarm\) for 12 minutes: \d+ sitting\(s\) paused, \d+ resumed; an answer "
                     r"given while paused was refused; \S+ resumed with \d:\d\d:\d\d left, as at the pause", " ".join(out.split())), out[-6000:]


def _invoke(*args: str):
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("change, message", [
    (lambda s: s + [("debrief", "A stage nobody wrote")],
     "stage 'debrief' is in the demo's stage list but exam_builder/demo/stages/debrief.py does not exist"),
    (lambda s: [st for st in s if st[0] != "report"],
     "exam_builder/demo/stages/report.py is not in the demo's stage list (STAGES in exam_builder/demo/__init__.py)"),
    (lambda s: s + [s[0]], "stage 'bank' is listed 2 times"),
], ids=["a listed stage without its module", "a module not listed", "a stage listed twice"])
def test_a_demo_with_a_stage_missing_exits_1_and_runs_nothing(tmp_path, monkeypatch, change, message):
    monkeypatch.setattr(demo, "STAGES", change(list(demo.STAGES)))
    result = _invoke("--course", str(REPO), "demo", "--dir", str(tmp_path / "demo-course"))
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split()), result.output
    assert "demo complete" not in result.output and "Nothing was run." in result.output
    assert not (tmp_path / "demo-course").exists()


def test_stage_help_lists_every_stage_and_refuses_others(tmp_path):
    help_text = " ".join(_invoke("demo", "--help").output.split())
    assert "order: " + ", ".join(demo.STAGE_NAMES) + ")" in help_text
    assert "[" + "|".join(demo.STAGE_NAMES) + "]" in help_text
    result = _invoke("--course", str(REPO), "demo", "--dir", str(tmp_path / "d"), "--stage", "debrief")
    assert result.exit_code == 2 and "'debrief' is not one of 'bank', 'records'" in result.output
    assert not (tmp_path / "d").exists()
    with pytest.raises(ExamBuilderError) as err:  # called as a function, not through the CLI's choice
        demo.run(tmp_path / "d", REPO, Console(file=io.StringIO()), ["bank", "debrief"])
    assert str(err.value) == "no demo stage 'debrief'; the stages are " + ", ".join(demo.STAGE_NAMES)
    assert not (tmp_path / "d").exists()
