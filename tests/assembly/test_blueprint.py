"""Blueprint files: schema errors with their line, bank checks, exact infeasibility messages."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from exam_builder.assembly.assemble import Infeasible, assemble
from exam_builder.assembly.blueprint import Blueprint, check_blueprint, load_blueprint
from exam_builder.assembly.synthetic import synthetic_bank
from exam_builder.bank import Kind, Status
from exam_builder.errors import ValidationFailed
from exam_builder.settings.policy import ProgramPolicy

POLICY = ProgramPolicy()


@pytest.fixture(autouse=True)
def _bp(blueprint_text):
    global BLUEPRINT
    BLUEPRINT = blueprint_text


@pytest.fixture(scope="module")
def bank():
    return synthetic_bank(200, 9)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "blueprint.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def messages(problems, errors_only=True) -> list[str]:
    return [str(p) for p in problems if p.is_error or not errors_only]


def test_valid_blueprint_has_no_errors(tmp_path, bank):
    problems = check_blueprint(write(tmp_path, BLUEPRINT), *bank, POLICY, "source/syn/blueprint.yaml")
    assert messages(problems) == []
    bp = load_blueprint(write(tmp_path, BLUEPRINT), *bank, POLICY, "bp")
    assert bp.form_points == 2 + 3 + 6 + 2 + 3 + 1 + 3
    assert bp.cut_points() == pytest.approx(0.7 * 20)
    assert bp.time_limit(POLICY) == 180  # the program's default


def test_schema_errors_name_their_line(tmp_path, bank):
    text = (
        "title: Broken\n"                       # 1
        "forms: 0\n"                            # 2
        "seed: 3\n"                             # 3
        "cut_score: seventy\n"                  # 4
        "counts:\n"                             # 5
        "  peer-support: {true_false: 2}\n"     # 6
        "colour: red\n"                         # 7
    )
    problems = check_blueprint(write(tmp_path, text), *bank, POLICY, "bp.yaml")
    by_line = {p.location.line: p.message for p in problems}
    assert set(by_line) == {2, 4, 7}, problems
    assert "forms" in by_line[2] and "1" in by_line[2]
    assert "percent" in by_line[4]
    assert "colour" in by_line[7]
    assert all(p.location.file == "bp.yaml" for p in problems)


def test_yaml_syntax_error_has_line(tmp_path, bank):
    problems = check_blueprint(write(tmp_path, "title: x\ncounts: [a\nseed: 1\n"), *bank, POLICY, "bp.yaml")
    assert len(problems) == 1 and problems[0].location.line == 3
    assert "not valid YAML" in problems[0].message


def test_missing_points_for_open_response(tmp_path, bank):
    text = BLUEPRINT.replace("points: {true_false: 1, multiple_choice: 1, open_response: 6}\n", "")
    problems = check_blueprint(write(tmp_path, text), *bank, POLICY, "bp.yaml")
    assert any("open_response" in p.message and "points" in p.message for p in problems), problems


def test_bank_level_problems(tmp_path, bank):
    items, _ = bank
    draft = next(i.id for i in items.items.values() if i.status is Status.draft)
    text = BLUEPRINT.replace("anchors: [it-0001]", f"anchors: [it-0001, {draft}, nope-1]").replace(
        "  change-agent: {true_false: 1, multiple_choice: 3}\n",
        "  change-agent: {true_false: 1, multiple_choice: 3}\n  community-engagement: {multiple_choice: 2}\n",
    ) + "total_points: 30\n"
    lines = text.splitlines()
    problems = check_blueprint(write(tmp_path, text), *bank, POLICY, "bp.yaml")
    errs = [p for p in problems if p.is_error]
    text_of = "\n".join(map(str, errs))
    assert "unknown competency 'community-engagement'" in text_of
    assert f"anchor '{draft}' is draft, not live" in text_of
    assert "anchor 'nope-1' is not an item of the bank" in text_of
    assert "total_points is 30 but the counts make 22 points" in text_of
    comp = next(p for p in errs if "community-engagement" in p.message)
    assert lines[comp.location.line - 1].strip().startswith("community-engagement")
    anchor = next(p for p in errs if "nope-1" in p.message)
    assert lines[anchor.location.line - 1].startswith("anchors:")


def test_infeasible_category_exact_message(tmp_path, bank):
    items, rubrics = bank
    have = sum(1 for i in items.live() if i.competency == "change-agent" and i.kind is Kind.multiple_choice)
    need = have + 3
    text = BLUEPRINT.replace("change-agent: {true_false: 1, multiple_choice: 3}",
                             f"change-agent: {{true_false: 1, multiple_choice: {need}}}")
    path = write(tmp_path, text)
    expected = f"change-agent / multiple_choice: the blueprint needs {need}, the bank has {have} live items"
    problems = check_blueprint(path, items, rubrics, POLICY, "bp.yaml")
    assert expected in [p.message for p in problems]
    # the assembler itself refuses with the same words
    import yaml
    bp = Blueprint.model_validate(yaml.safe_load(text))
    with pytest.raises(Infeasible) as exc:
        assemble("syn", bp, items, rubrics, POLICY)
    assert str(exc.value).splitlines()[0] == expected


def test_overlap_too_small_for_the_bank(tmp_path):
    items, rubrics = synthetic_bank(60, 2)
    text = BLUEPRINT.replace("forms: 2", "forms: 6").replace("max_overlap: 4", "max_overlap: 1")
    problems = check_blueprint(write(tmp_path, text), items, rubrics, POLICY, "bp.yaml")
    assert any("distinct items" in p.message and "Raise max_overlap" in p.message for p in problems), problems


def test_load_blueprint_raises_validation_failed(tmp_path, bank):
    with pytest.raises(ValidationFailed) as exc:
        load_blueprint(write(tmp_path, "title: x\nseed: 1\ncut_score: 50%\ncounts: {}\n"), *bank, POLICY, "bp.yaml")
    assert "bp.yaml:line 4" in str(exc.value)
    assert "nothing was written" in str(exc.value)


def test_check_command_reports_blueprint_line(syn_course):
    """`exam-builder check` (the bank domain's command) calls check_blueprint with our signature."""
    path = syn_course.root / "source" / "syn" / "blueprint.yaml"
    path.write_text(BLUEPRINT.replace("forms: 2", "forms: many"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "exam_builder", "--course", str(syn_course.root), "check"],
                          capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "source/syn/blueprint.yaml:line 2" in out, out
    assert "Traceback" not in out


# -- hostile and absurd input (issue 11): a located error stating the rule, never a traceback --------
@pytest.mark.parametrize("change,expected", [
    (("open_response: 6}", "open_response: 1e9}"),
     "bp.yaml:line 5:column points.open_response: 'open_response' must be a number above 0 and at most 100 points (it "
     "is 1e9); fix the number"),
    (("cut_score: 70%", "cut_score: .inf"),
     "bp.yaml:line 4:column cut_score: 'cut_score' must be a number above 0 and at most 100000 points, or a percent "
     "('70%') (it is inf); fix the number"),
    (("cut_score: 70%", "cut_score: .nan"),
     "bp.yaml:line 4:column cut_score: 'cut_score' must be a number above 0 and at most 100000 points, or a percent "
     "('70%') (it is nan); fix the number"),
    (("{true_false: 2, multiple_choice: 3, open_response: 1}",
      "{true_false: 100000000000000000000, multiple_choice: 3, open_response: 1}"),
     "bp.yaml:line 7:column counts.peer-support.true_false: 'true_false' must be a whole number from 0 to 1000 items "
     "(it is 100000000000000000000); fix the number"),
    (("{true_false: 2, multiple_choice: 3, open_response: 1}",
      "{true_false: 2, multiple_choice: -3, open_response: 1}"),
     "bp.yaml:line 7:column counts.peer-support.multiple_choice: 'multiple_choice' must be a whole number from 0 to "
     "1000 items (it is -3); fix the number"),
    (("seed: 11", "seed: 99999999999999999999"),
     "bp.yaml:line 3:column seed: 'seed' must be a whole number from 0 to 2147483647 (it is 99999999999999999999); "
     "fix the number"),
    (("max_overlap: 4", "max_overlap: 4\ntime_limit_minutes: 100000"),
     "bp.yaml:line 12:column time_limit_minutes: 'time_limit_minutes' must be a whole number above 0 and at most 1440 "
     "minutes (it is 100000); fix the number"),
    (("max_overlap: 4", "max_overlap: 4\ndifficulty_tolerance: .nan"),
     "bp.yaml:line 12:column difficulty_tolerance: 'difficulty_tolerance' must be a number above 0 and at most 1 (it "
     "is nan); fix the number"),
    (("max_overlap: 4", "max_overlap: 4\ntotal_points: 1e30"),
     "bp.yaml:line 12:column total_points: 'total_points' must be a number above 0 and at most 100000 points (it is "
     "1e30); fix the number"),
    (("max_overlap: 4", "max_overlap: 4\ncounts:\n  peer-support: {true_false: 1}"),
     "bp.yaml:line 12: key 'counts' is given twice (lines 6 and 12); YAML would keep only the second and silently "
     "drop the first: merge them into one"),
    (("anchors: [it-0001]", "anchors: &a [it-0001]\nextra: *a"),
     "bp.yaml:line 10: anchor '&a' is not allowed; rubrics and blueprints do not use YAML anchors (&) or aliases (*): "
     "write the value out in full"),
    (("anchors: [it-0001]", "anchors: [it-0001]\nbomb: " + "[" * 80 + "]" * 80),
     "bp.yaml:line 11: nested more than 50 levels deep; a rubric or blueprint needs fewer than 10"),
], ids=["points-1e9", "cut-inf", "cut-nan", "count-20-digits", "count-negative", "seed-20-digits", "minutes",
        "tolerance-nan", "total-1e30", "duplicate-counts", "alias", "deep"])
def test_hostile_numbers_and_yaml(tmp_path, bank, change, expected):
    old, new = change
    assert old in BLUEPRINT
    problems = check_blueprint(write(tmp_path, BLUEPRINT.replace(old, new)), *bank, POLICY, "bp.yaml")
    assert messages(problems) == [expected]


def test_alias_bomb_is_refused_before_it_expands(tmp_path, bank):
    """Nine levels of nine aliases would be 9**9 strings; the anchor is refused as soon as it is read."""
    bomb = 'lol1: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    prev = "a"
    for n, name in enumerate("bcdefghi", start=2):
        bomb += f"lol{n}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    problems = check_blueprint(write(tmp_path, BLUEPRINT + bomb), *bank, POLICY, "bp.yaml")
    assert messages(problems) == [
        "bp.yaml:line 12: anchor '&a' is not allowed; rubrics and blueprints do not use YAML anchors (&) or aliases "
        "(*): write the value out in full"
    ]
