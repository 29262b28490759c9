"""`exam-builder check`, `bank list`, `bank sync` and the demo stage, on real files."""
from __future__ import annotations

import io
import json
import shutil

import nbformat
import pytest
from bank_helpers import CORPUS, problem_lines, run_cli, run_script
from rich.console import Console

from exam_builder.bank.check import check
from exam_builder.course import Course
from exam_builder.demo import DemoContext
from exam_builder.errors import ExamBuilderError, Location, Problem, ValidationFailed
from exam_builder.model.item import METADATA_KEY


def test_bank_list_json(mini_course):
    result = run_cli(mini_course, "bank", "list", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["base-tf-01", "base-mc-01", "base-sc-01a", "base-sc-01b", "base-or-01"]
    assert {r["kind"] for r in rows} == {"true_false", "multiple_choice", "open_response"}
    first = rows[0]
    assert {k: first[k] for k in ("id", "kind", "competency", "module", "points", "status", "file", "cell")} == {
        "id": "base-tf-01", "kind": "true_false", "competency": "peer-support", "module": 1, "points": 1,
        "status": "live", "file": "source/cps/base.ipynb", "cell": 2,
    }
    assert rows[4]["points"] == 4 and rows[4]["rubric"] == "base-or-01" and rows[2]["scenario"] == "base-sc-01"
    assert all("key" not in r and "choices" not in r for r in rows)  # a listing, not a key sheet


def test_bank_list_table_and_problems(mini_course):
    shutil.copy(CORPUS / "two-keys.ipynb", mini_course / "source/cps")
    result = run_cli(mini_course, "bank", "list")
    assert result.exit_code == 0
    assert "6 items" in result.stdout and "base-or-01" in result.stdout and "mc-two-keys" in result.stdout
    missing = run_cli(mini_course, "bank", "list", str(mini_course / "nowhere"))
    assert missing.exit_code == 1
    assert "nowhere: no such file or folder; check the path" in missing.stderr


def test_check_bad_paths(mini_course):
    (mini_course / "notes.txt").write_text("to do")
    result = run_cli(mini_course, "check", str(mini_course / "nowhere.ipynb"), str(mini_course / "notes.txt"),
                     str(mini_course / "source"))
    assert result.exit_code == 1
    assert problem_lines(result.stdout) == [
        "notes.txt: not a notebook (.ipynb), rubric (.yaml) or blueprint.yaml; check the path",
        "nowhere.ipynb: no such file or folder; check the path",
    ]
    assert "checked 1 notebook(s) (5 items, 1 scenarios), 0 rubric(s)" in result.stdout


def test_check_course_without_source(tmp_path):
    proc = run_script(tmp_path, "check")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[0] == (f"rubrics: no such file or folder; is {tmp_path} the course folder? (see "
                                           "--course)")


def test_blueprints_go_to_the_checker_the_caller_gives(mini_course):
    """bank.check reads no blueprint itself (assembly is a layer above): a blueprint.yaml is handed, with
    the bank, the rubrics and the policy, to the checker its caller passes; without one it is not read."""
    (mini_course / "source/cps/blueprint.yaml").write_text("items: 5\n")
    calls = []

    def check_blueprint(path, bank, rubrics, policy, label):
        calls.append((path.name, sorted(bank.items), sorted(rubrics), type(policy).__name__, label))
        return [Problem(Location(label, line=1), "needs 6 live items, the bank has 5", "error")]

    report = check(Course(mini_course), blueprint_check=check_blueprint)
    assert calls == [("blueprint.yaml", ["base-mc-01", "base-or-01", "base-sc-01a", "base-sc-01b", "base-tf-01"],
                      ["base-or-01"], "ProgramPolicy", "source/cps/blueprint.yaml")]
    assert [str(p) for p in report.errors] == ["source/cps/blueprint.yaml:line 1: needs 6 live items, the bank has 5"]
    assert report.checked["blueprints"] == 1
    unread = check(Course(mini_course))
    assert unread.errors == [] and unread.checked["blueprints"] == 0 and len(calls) == 1


def test_the_check_command_checks_blueprints_with_the_assembly_checker(mini_course):
    """`exam-builder check` passes assembly.blueprint.check_blueprint: a blueprint's problems are reported."""
    (mini_course / "source/cps/blueprint.yaml").write_text("items: 5\n")
    result = run_cli(mini_course, "check")
    lines = problem_lines(result.stdout)
    assert lines and all(line.startswith("source/cps/blueprint.yaml") for line in lines), result.stdout
    assert result.exit_code == 1 and "1 blueprint(s)" in result.stdout


def test_sync_writes_metadata(mini_course):
    path = mini_course / "source/cps/base.ipynb"
    result = run_cli(mini_course, "bank", "sync")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["updated source/cps/base.ipynb", "1 notebook(s) updated"]
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[1].metadata[METADATA_KEY]["item"]["id"] == "base-tf-01"
    assert nb.cells[3].metadata[METADATA_KEY]["scenario"]["id"] == "base-sc-01"
    assert run_cli(mini_course, "bank", "sync").stdout.splitlines() == ["0 notebook(s) updated"]
    assert run_cli(mini_course, "check").exit_code == 0


def test_sync_refuses_on_errors_and_writes_nothing(mini_course):
    shutil.copy(CORPUS / "two-keys.ipynb", mini_course / "source/cps")
    before = {p: p.read_bytes() for p in (mini_course / "source").rglob("*.ipynb")}
    result = run_cli(mini_course, "bank", "sync", "--normalize")
    assert result.exit_code == 1
    assert "source/cps/two-keys.ipynb:cell 2 [mc-two-keys]: 2 choices are marked as the key (A and C)" in result.stderr
    assert "1 error(s); nothing was written" in result.stderr
    assert {p: p.read_bytes() for p in before} == before
    # only the file named is written; the broken one beside it is context, not a target
    (mini_course / "source/cps/two-keys.ipynb").unlink()
    shutil.copy(CORPUS / "self-reviewed.ipynb", mini_course / "source/cps")
    result = run_cli(mini_course, "bank", "sync", str(mini_course / "source/cps/self-reviewed.ipynb"))
    assert result.stdout.splitlines()[-2:] == ["updated source/cps/self-reviewed.ipynb", "1 notebook(s) updated"]
    assert (mini_course / "source/cps/base.ipynb").read_bytes() == before[mini_course / "source/cps/base.ipynb"]


def _demo(course_root):
    out = io.StringIO()
    ctx = DemoContext(course=Course(course_root), console=Console(file=out, width=120))
    from exam_builder.demo.stages import bank as stage

    return ctx, out, stage


def test_demo_stage_summarizes(mini_course):
    ctx, out, stage = _demo(mini_course)
    ctx.course.db.upgrade()  # the stage records the demo's reviews
    stage.run(ctx)
    text = out.getvalue()
    assert "Self-review refused: source/cps/base.ipynb:cell 2 [base-tf-01]: " in text
    assert "J. Demo-Reviewer approved the current content of 5 live items" in text
    assert sorted(ctx.state["approved"]) == sorted(ctx.state["bank"].items)
    assert "checked 1 notebook(s) (5 items, 1 scenarios), 1 rubric(s), 0 blueprint(s): 0 error(s), 0 warning(s)" in text
    assert "Items by competency and kind" in text and "Items by training module" in text
    assert "By status: draft 0, reviewed 0, live 5, retired 0" in text
    assert "Scenario items: 2 of 5 (40%) in 1 scenarios" in text
    assert sorted(ctx.state["bank"].items) == ["base-mc-01", "base-or-01", "base-sc-01a", "base-sc-01b", "base-tf-01"]
    assert list(ctx.state["rubrics"]) == ["base-or-01"] and ctx.state["bank_warnings"] == []


def test_demo_stage_fails_on_errors(mini_course):
    shutil.copy(CORPUS / "no-key.ipynb", mini_course / "source/cps")
    ctx, _, stage = _demo(mini_course)
    with pytest.raises(ValidationFailed) as exc:
        stage.run(ctx)
    assert [str(p) for p in exc.value.problems] == [
        "source/cps/no-key.ipynb:cell 2 [mc-no-key]: no choice is marked as the key; mark the right answer '- [x]'"
    ]
    assert "bank" not in ctx.state



def test_demo_outside_a_course_uses_the_checkout_or_says_what_is_missing(tmp_path, monkeypatch):
    """`exam-builder demo` run from a folder that is not a course: the checkout's sample course
    (an editable install), or a located error, never a FileNotFoundError traceback."""
    import exam_builder.demo as demo

    empty = tmp_path / "not-a-course"
    empty.mkdir()
    assert demo.find_origin(empty) == demo.CHECKOUT
    monkeypatch.setattr(demo, "CHECKOUT", tmp_path / "no-checkout")
    with pytest.raises(ExamBuilderError) as exc:
        demo.prepare(tmp_path / "demo-course", empty)
    assert str(exc.value) == (f"{empty}: not a course folder (no source, rubrics, nbgrader_config.py). The demo "
                              "copies a course's authored files: run it in the exam-builder checkout, or give one "
                              "with --course DIR")
    assert not (tmp_path / "demo-course").exists()


def test_a_rubric_edited_between_two_checks_in_one_process_is_read_again(mini_course):
    """The rubric loader keeps what it parsed by the file's text (a grading run reads the same files for every
    response): an edit in between, of the same length, is read again, and undoing it reads the first again."""
    path = mini_course / "rubrics" / "base-or-01.yaml"
    first = run_cli(mini_course, "check")
    assert first.exit_code == 0, first.stdout
    good = path.read_text(encoding="utf-8")
    bad = good.replace("{points: 2, descriptor: Brings", "{points: 9, descriptor: Brings")  # same length
    assert len(bad) == len(good) and bad != good
    path.write_text(bad, encoding="utf-8")
    edited = run_cli(mini_course, "check")
    assert edited.exit_code == 1 and "base-or-01" in " ".join(problem_lines(edited.stdout)), edited.stdout
    path.write_text(good, encoding="utf-8")
    assert run_cli(mini_course, "check").exit_code == 0
