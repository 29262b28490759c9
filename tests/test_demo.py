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
import stat
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


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One whole `exam-builder demo`, shared by the tests that read what it did and left behind.

    Run with umask 000, the most permissive a person could have: whatever is private is private
    because the program made it so, not because of the umask."""
    if not EXE.exists():
        pytest.skip("the exam-builder console script is not installed next to this Python")
    target = tmp_path_factory.mktemp("demo") / "demo-course"
    env = {k: v for k, v in os.environ.items() if k not in ("EXAM_BUILDER_COURSE", "EXAM_BUILDER_DB_URL")}
    proc = subprocess.run([str(EXE), "demo", "--dir", str(target)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=840,  # under `make test`'s --timeout 900
                          preexec_fn=lambda: os.umask(0))
    return target, proc


def test_the_whole_demo_runs_every_stage(demo_run):
    """Bank to report, the rehearsal's real exam server included; exit 0 only when all nine ran."""
    target, proc = demo_run
    out = proc.stdout
    assert proc.returncode == 0, (out + proc.stderr)[-6000:]
    assert "Traceback" not in out + proc.stderr
    ran = [name for name in STAGE_LINE.findall(out) if name in demo.STAGE_NAMES]
    assert ran == list(demo.STAGE_NAMES) and len(ran) == len(demo.STAGES), out[-6000:]
    assert f"demo complete: {len(demo.STAGES)} of {len(demo.STAGES)} stages in " in out
    for title in (title for _name, title in demo.STAGES):
        assert title in out, title
    # what the stages leave behind: released forms, score reports, the program's report
    assert sorted(p.name for p in (target / "release").iterdir()) == ["cps-A", "cps-B", "cps-C"]
    assert any((target / "feedback").iterdir())
    assert (target / "reports" / "out" / "cps" / "report.html").stat().st_size > 0
    assert "audit trail intact" in out and "answers lost" in out
    flat = " ".join(out.split())
    # a no-show: absent at the window's close, not an attempt (CPS), and eligible with no attempt used
    assert re.search(r"cps26-\d+ never arrived: when the sign-in closed \(.+?\) sitting \d+ became absent "
                     r"\(decided by exam-builder, audited\); under the CPS policy it is not an attempt", flat), flat
    assert re.search(r"cps26-\d+'s eligibility now: eligible, 0 attempt\(s\) used, 3 left", flat)
    assert re.search(r"the proctor's room view would show: .*, 1 absent", flat)
    # adjudications finished by the configured person (the demo course's coordinator) at the grader's desk
    assert "who adjudicates: adjudications are done by the coordinator (Carla Coordinator)" in flat
    assert re.search(r"Grader Ana's desk says: .*responses? waits? for adjudication by the coordinator "
                     r"\(Carla Coordinator\)", flat)
    done = re.search(r"Carla Coordinator \(the coordinator\) finished (\d+) of (\d+) waiting adjudication\(s\) at "
                     r"the grader's desk; nothing waits now", flat)
    assert done and done.group(1) == done.group(2) != "0", flat
    # the delivery stage's fire alarm: the room paused and resumed, the time kept to the second
    assert re.search(r"room paused \(fire alarm\) for 12 minutes: \d+ sitting\(s\) paused, \d+ resumed; an answer "
                     r"given while paused was refused; \S+ resumed with \d:\d\d:\d\d left, as at the pause",
                     " ".join(out.split())), out[-6000:]


def _public(rel_path: Path, exams: set[str]) -> bool:
    """What is not private by design: the authored files (the bank's notebooks in source/<exam>/, the
    rubrics, nbgrader_config.py: the author's, in git, with the author's modes), the released forms
    (what candidates receive: no key), and the course folder and source/ that hold them."""
    parts = rel_path.parts
    if not parts or parts == ("source",) or parts == ("nbgrader_config.py",):
        return True
    if parts[0] in ("rubrics", "release"):
        return True
    return parts[0] == "source" and parts[1] in exams


def test_the_demo_leaves_every_private_file_0600_in_a_0700_folder(demo_run):
    """Candidate data, keys and codes (submitted/, autograded/, feedback/, exports/ with exports/qti/ and
    the seat cards, reports/, rosters/, assembled forms in source/<form>/, .exam-builder/, the database):
    every folder 0700 and every file 0600 after a whole demo run under umask 000. Anything not on the
    short list of what is public by design (``_public``) is held to it, so a new producer is caught too."""
    target, proc = demo_run
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    exams = {p.parent.name for p in (target / "source").glob("*/blueprint.yaml")}
    assert exams == {"cps"}
    checked, offenders = 0, []
    for top, dirs, files in os.walk(target):
        for name in [*dirs, *files]:
            path = Path(top) / name
            rel_path = path.relative_to(target)
            if _public(rel_path, exams):
                continue
            st = path.lstat()
            want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            checked += 1
            if stat.S_IMODE(st.st_mode) != want or stat.S_ISLNK(st.st_mode):
                offenders.append(f"{rel_path} {stat.S_IMODE(st.st_mode):04o} (want {want:04o})")
    assert not offenders, "not private:\n" + "\n".join(sorted(offenders))
    for folder in ("submitted", "autograded", "feedback", "exports", "exports/qti", "exports/cps", "reports",
                   "rosters", ".exam-builder", "source/cps-A"):  # each was walked, not skipped
        assert stat.S_IMODE((target / folder).stat().st_mode) == 0o700, folder
    assert any((target / "exports").glob("seat-cards-*.html")) and any((target / "autograded").iterdir())
    assert checked > 300, checked


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


def test_demo_dir_is_the_course_itself_as_the_readme_says(tmp_path):
    """`exam-builder demo --dir DIR` makes DIR the demo course (no demo-course/ inside it)."""
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "`exam-builder demo --dir DIR` puts the demo course directly in DIR" in readme
    mine = tmp_path / "mine"
    result = _invoke("--course", str(REPO), "demo", "--dir", str(mine), "--stage", "bank")
    assert result.exit_code == 0, result.output
    assert (mine / "source").is_dir() and (mine / "nbgrader_config.py").is_file()
    assert not (mine / "demo-course").exists()
    assert 'c.GradingSettings.adjudicator = "coordinator"' in (mine / "nbgrader_config.py").read_text()


def test_the_demo_shows_a_comment_a_key_corrected_before_results_and_a_blind_appeal(demo_run):
    """Issue 26: a candidate's comment on a miskeyed item, read blind; key validation that accepts a second answer,
    its impact shown before it is applied and at least one result changed by it; an appeal re-rated blind and
    decided; key validation closed, so the score reports are no longer provisional; the audit trail intact."""
    target, proc = demo_run
    flat = " ".join(proc.stdout.split())
    assert re.search(r"\d+ candidate\(s\) left a comment on a question", flat), flat[-4000:]
    assert re.search(r"\d+ comment\(s\) on \d+ question\(s\), read after the exam, by item and form \(no name, no "
                     r"sitting\): \S+, form [A-C]: \"I chose [A-E]\.", flat)
    before = re.search(r"impact BEFORE applying decision (\d+): (\S+) accepts ([A-E]) on form [A-C] as well", flat)
    assert before, flat[-6000:]
    table = flat[before.end():flat.index("applied:", before.end())]  # shown before it is applied
    assert "fail -> pass" in table, "no result changed by the key decision: " + table
    applied = re.search(r"applied: (\d+) grade\(s\) re-scored in nbgrader's gradebook \(sealed\), (\d+) outcome\(s\) "
                        r"changed \(sitting \d+: fail -> pass[^)]*\), \d+ score report\(s\) written again; "
                        r"applied again: nothing changed", flat)
    assert applied and int(applied.group(1)) > 0 and int(applied.group(2)) >= 1, flat[-6000:]
    assert re.search(r"appeal \d+: cps26-\d+ \(sitting \d+\) appealed their score; \d+ written answer\(s\) re-rated "
                     r"blind by Grader Cy \(no name, no earlier rating shown\); decided partly upheld", flat)
    assert re.search(r"key validation closed \(closure \d+\): results final, \d+ score report\(s\) written again", flat)
    reports = list((target / "feedback").glob("*/*/cps-*.html"))
    assert reports and not any("Provisional result." in p.read_text() for p in reports)
    assert list((target / "feedback").glob("*/*/appeal-*.html"))
    report = (target / "reports" / "out" / "cps" / "report.html").read_text()
    assert "Appeals by category and decision" in report
