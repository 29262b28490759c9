"""The corpus: one broken file per realistic author mistake, and exactly what `check` must say.

Each case copies one file of ``corpus/`` into a tiny valid course (``base_course/``: notebooks go
to ``source/cps/``, YAML files to ``rubrics/``) and runs the real ``exam-builder check`` on the
whole course. The expected lines are the complete output (file, cell or line, item id and
message), so a new false alarm fails a case as surely as a missing one.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bank_helpers import CORPUS, problem_lines, run_cli, run_script

# (corpus file, exit code, every problem line, in the order printed)
CASES = [
    ('all-of-the-above-first.ipynb', 1, [
        "source/cps/all-of-the-above-first.ipynb:cell 2 [mc-aota-first]: choice A ('All of the above') must come "
        "last; 'all/none of the above' stays last when choices are shuffled",
    ]),
    ('bad-id.ipynb', 1, [
        "source/cps/bad-id.ipynb:cell 2 [Core 07]: id 'Core 07' may use only lower-case letters, digits, '.', '_' and "
        "'-' (starting with a letter or digit), not 'C' (U+0043) at character 1; rename it",
    ]),
    ('cell-not-mapping.ipynb', 1, [
        'source/cps/cell-not-mapping.ipynb:cell 2: the cell is text, not a mapping; re-save the notebook from '
        'JupyterLab',
    ]),
    ('choice-box-typo.ipynb', 1, [
        'source/cps/choice-box-typo.ipynb:cell 2 [mc-box-typo]: choice box \'[]\' in "- [] Explain the program\'s '
        'rules" is not understood; write \'- [ ]\' for a distractor and \'- [x]\' for the key',
        "source/cps/choice-box-typo.ipynb:cell 2 [mc-box-typo]: choice box '[v]' in '- [v] Listen to what the person "
        "wants' is not understood; write '- [ ]' for a distractor and '- [x]' for the key",
        "source/cps/choice-box-typo.ipynb:cell 2 [mc-box-typo]: no choice is marked as the key; mark the right answer "
        "'- [x]'",
    ]),
    ('code-cell-item.ipynb', 1, [
        'source/cps/code-cell-item.ipynb:cell 2 [mc-in-code-cell]: this code cell starts like an item, so the item is '
        'left out of the bank; change the cell type to Markdown',
    ]),
    ('community-engagement.ipynb', 1, [
        "source/cps/community-engagement.ipynb:cell 2 [mc-community]: unknown competency 'community-engagement'; use "
        "one of peer-support, in-but-not-of, change-agent (the vocabulary is c.ProgramPolicy.competencies)",
    ]),
    ('competency-name.ipynb', 1, [
        "source/cps/competency-name.ipynb:cell 2 [mc-comp-name]: write the competency 'Peer Support' as its slug: "
        "'competency: peer-support'",
    ]),
    ('copied-item.ipynb', 0, [
        "source/cps/copied-item.ipynb:cell 2 [base-mc-02]: warning: same question and choices as 'base-mc-01' at "
        "source/cps/base.ipynb:cell 3; a copied item not yet edited? change it or remove it",
    ]),
    ('deep-json.ipynb', 1, [
        'source/cps/deep-json.ipynb:line 17: notebook JSON nested more than 100 levels deep, which no real file is; '
        'open it in JupyterLab or restore it from git',
    ]),
    ('difficulty-typo.ipynb', 1, [
        "source/cps/difficulty-typo.ipynb:cell 2 [mc-difficulty]: unknown difficulty 'moderate'; use one of easy, "
        "medium, hard",
    ]),
    ('duplicate-choice.ipynb', 1, [
        "source/cps/duplicate-choice.ipynb:cell 2 [mc-dup-choice]: choices A and C are the same ('peer support.'); "
        "reword or remove one",
    ]),
    ('duplicate-id.ipynb', 1, [
        "source/cps/base.ipynb:cell 3 [base-mc-01]: item id 'base-mc-01' is also used at "
        "source/cps/duplicate-id.ipynb:cell 2; give each item and scenario its own id",
        "source/cps/duplicate-id.ipynb:cell 2 [base-mc-01]: item id 'base-mc-01' is also used at "
        "source/cps/base.ipynb:cell 3; give each item and scenario its own id",
    ]),
    ('empty-choice.ipynb', 1, [
        'source/cps/empty-choice.ipynb:cell 2 [mc-empty-choice]: choice C is empty; write its text or remove the line',
    ]),
    ('empty-file.ipynb', 1, [
        'source/cps/empty-file.ipynb:line 1: not valid notebook JSON (Expecting value, column 1); open it in '
        'JupyterLab or restore it from git',
    ]),
    ('empty-stem.ipynb', 1, [
        'source/cps/empty-stem.ipynb:cell 2 [mc-empty-stem]: the item has no question (stem); write it on the lines '
        'below the header',
    ]),
    ('exam-builder-metadata-text.ipynb', 1, [
        "source/cps/exam-builder-metadata-text.ipynb: the notebook's metadata.exam_builder is text, not a mapping; "
        "re-save the notebook from JupyterLab",
    ]),
    ('header-typo.ipynb', 1, [
        "source/cps/header-typo.ipynb:cell 2 [mc-header-typo]: no competency; add 'competency: <one of peer-support, "
        "in-but-not-of, change-agent>' to the header",
        "source/cps/header-typo.ipynb:cell 2 [mc-header-typo]: unknown header field 'competence'; use one of: "
        "competency, module, points, difficulty, status, pool, author, reviewer, rubric, scenario",
    ]),
    ('item-before-scenario.ipynb', 0, [
        "source/cps/item-before-scenario.ipynb:cell 2 [sc-late-a]: warning: scenario 'sc-late' is at "
        "source/cps/item-before-scenario.ipynb:cell 3; put its items right after it",
    ]),
    ('key-in-header.ipynb', 1, [
        "source/cps/key-in-header.ipynb:cell 2 [mc-key-header]: 'key: B' does not go in the header; mark the key "
        "among the choices with '- [x]'",
        "source/cps/key-in-header.ipynb:cell 2 [mc-key-header]: no choice is marked as the key; mark the right answer "
        "'- [x]'",
    ]),
    ('mc-two-choices.ipynb', 0, [
        'source/cps/mc-two-choices.ipynb:cell 2 [mc-two-choices]: warning: only 2 choices; add a plausible distractor '
        '(at least 3) or make it [TF]',
    ]),
    ('mc-with-rubric.ipynb', 1, [
        "source/cps/mc-with-rubric.ipynb:cell 2 [mc-with-rubric]: only open-response items have a rubric; remove "
        "'rubric: base-or-01' or make it [OR]",
    ]),
    ('metadata-list.ipynb', 1, [
        "source/cps/metadata-list.ipynb:cell 2: the cell's metadata is a list, not a mapping; re-save the notebook "
        "from JupyterLab",
    ]),
    ('missing-colon.ipynb', 1, [
        "source/cps/missing-colon.ipynb:cell 2 [mc-missing-colon]: header field 'points 1' is not 'name: value'; "
        "write it as e.g. 'points: 1'",
    ]),
    ('module-out-of-range.ipynb', 1, [
        'source/cps/module-out-of-range.ipynb:cell 2 [mc-module-12]: unknown module 12; use one of 1, 2, 3, 4, 5, 6, '
        '7, 8, 9 (the vocabulary is c.ProgramPolicy.modules)',
    ]),
    ('nbgrader-metadata-list.ipynb', 1, [
        "source/cps/nbgrader-metadata-list.ipynb:cell 2: the cell's metadata.nbgrader is a list, not a mapping; "
        "re-save the notebook from JupyterLab",
    ]),
    ('no-key.ipynb', 1, [
        "source/cps/no-key.ipynb:cell 2 [mc-no-key]: no choice is marked as the key; mark the right answer '- [x]'",
    ]),
    ('not-a-notebook.ipynb', 1, [
        'source/cps/not-a-notebook.ipynb: not a notebook (the file has no list of cells); re-save it from JupyterLab',
    ]),
    ('notebook-metadata-list.ipynb', 1, [
        "source/cps/notebook-metadata-list.ipynb: the notebook's metadata is a list, not a mapping; re-save the "
        "notebook from JupyterLab",
    ]),
    ('or-no-rubric.ipynb', 1, [
        "source/cps/or-no-rubric.ipynb:cell 2 [or-no-rubric]: no rubric 'or-no-rubric' in rubrics/ (by default the "
        "item's id names it); write rubrics/or-no-rubric.yaml with id: or-no-rubric",
    ]),
    ('or-points-mismatch.ipynb', 1, [
        "source/cps/or-points-mismatch.ipynb:cell 2 [or-points-mismatch]: rubric 'base-or-01' "
        "(rubrics/base-or-01.yaml) is worth 4 points but the item is worth 5; make them equal",
    ]),
    ('or-with-choices.ipynb', 1, [
        "source/cps/or-with-choices.ipynb:cell 2 [base-or-choices]: an open-response item has no choices; remove the "
        "'- [ ]' lines or make it [MC]",
    ]),
    ('points-huge.ipynb', 1, [
        "source/cps/points-huge.ipynb:cell 2 [mc-points-huge]: points must be above 0 and at most 100, not '1e9'; "
        "write e.g. 'points: 1'",
    ]),
    ('points-inf.ipynb', 1, [
        "source/cps/points-inf.ipynb:cell 2 [mc-points-inf]: points must be a number above 0 and at most 100, not "
        "'inf'; write e.g. 'points: 1'",
    ]),
    ('points-nan.ipynb', 1, [
        "source/cps/points-nan.ipynb:cell 2 [mc-points-nan]: points must be a number above 0 and at most 100, not "
        "'nan'; write e.g. 'points: 1'",
    ]),
    ('points-word.ipynb', 1, [
        "source/cps/points-word.ipynb:cell 2 [mc-points-word]: points must be a number above 0 and at most 100, not "
        "'one'; write e.g. 'points: 1'",
    ]),
    ('rubric-alias-bomb.yaml', 1, [
        "rubrics/rubric-alias-bomb.yaml:line 8: anchor '&a' is not allowed; rubrics and blueprints do not use YAML "
        "anchors (&) or aliases (*): write the value out in full",
    ]),
    ('rubric-alias-reuse.yaml', 1, [
        "rubrics/rubric-alias-reuse.yaml:line 5: anchor '&levels' is not allowed; rubrics and blueprints do not use "
        "YAML anchors (&) or aliases (*): write the value out in full",
    ]),
    ('rubric-deep.yaml', 1, [
        'rubrics/rubric-deep.yaml:line 2: nested more than 50 levels deep; a rubric or blueprint needs fewer than 10',
    ]),
    ('rubric-duplicate-criterion.yaml', 1, [
        "rubrics/rubric-duplicate-criterion.yaml:line 2:column criteria [rubric-duplicate-criterion]: criterion id "
        "'voice' is used twice; give each criterion its own id",
    ]),
    ('rubric-duplicate-id.yaml', 1, [
        "rubrics/rubric-duplicate-id.yaml:line 1 [base-or-01]: rubric id 'base-or-01' is also used by "
        "rubrics/base-or-01.yaml; give each rubric its own id",
    ]),
    ('rubric-duplicate-key.yaml', 1, [
        "rubrics/rubric-duplicate-key.yaml:line 9: key 'criteria' is given twice (lines 2 and 9); YAML would keep "
        "only the second and silently drop the first: merge them into one",
    ]),
    ('rubric-duplicate-level-key.yaml', 1, [
        "rubrics/rubric-duplicate-level-key.yaml:line 9: key 'points' is given twice (lines 7 and 9); YAML would keep "
        "only the second and silently drop the first: merge them into one",
    ]),
    ('rubric-empty-descriptor.yaml', 1, [
        "rubrics/rubric-empty-descriptor.yaml:line 6:column criteria.0.levels.0.descriptor [rubric-empty-descriptor]: "
        "'descriptor' is empty; write it",
    ]),
    ('rubric-empty.yaml', 1, [
        "rubrics/rubric-empty.yaml:line 1: a rubric file must be a mapping with 'id:' and 'criteria:'; start from "
        "another file in rubrics/",
    ]),
    ('rubric-key-typo.yaml', 1, [
        "rubrics/rubric-key-typo.yaml:line 7:column criteria.0.levels.0.descripton [rubric-key-typo]: unknown key "
        "'descripton' (a typo?); rename it to 'descriptor'",
    ]),
    ('rubric-list.yaml', 1, [
        "rubrics/rubric-list.yaml:line 1: a rubric file must be a mapping with 'id:' and 'criteria:'; start from "
        "another file in rubrics/",
    ]),
    ('rubric-many-levels.yaml', 1, [
        "rubrics/rubric-many-levels.yaml:line 5:column criteria.0.levels [rubric-many-levels]: 'levels' may have at "
        "most 20 entries (it has 25); is the file what you meant?",
    ]),
    ('rubric-negative-points.yaml', 1, [
        "rubrics/rubric-negative-points.yaml:line 6:column criteria.0.levels.0.points [rubric-negative-points]: "
        "'points' must be a number from 0 to 100 points (it is -1); fix the number",
    ]),
    ('rubric-no-criteria.yaml', 1, [
        "rubrics/rubric-no-criteria.yaml:line 1:column criteria [rubric-no-criteria]: 'criteria' is missing; add it",
    ]),
    ('rubric-one-level.yaml', 1, [
        "rubrics/rubric-one-level.yaml:line 5:column criteria.0.levels [rubric-one-level]: 'levels' needs at least 2 "
        "entries (it has 1); add more",
    ]),
    ('rubric-points-huge.yaml', 1, [
        "rubrics/rubric-points-huge.yaml:line 7:column criteria.0.levels.1.points [rubric-points-huge]: 'points' must "
        "be a number from 0 to 100 points (it is 1e9); fix the number",
    ]),
    ('rubric-points-inf.yaml', 1, [
        "rubrics/rubric-points-inf.yaml:line 7:column criteria.0.levels.1.points [rubric-points-inf]: 'points' must "
        "be a number from 0 to 100 points (it is inf); fix the number",
    ]),
    ('rubric-points-nan.yaml', 1, [
        "rubrics/rubric-points-nan.yaml:line 6:column criteria.0.levels.0.points [rubric-points-nan]: 'points' must "
        "be a number from 0 to 100 points (it is nan); fix the number",
    ]),
    ('rubric-points-word.yaml', 1, [
        "rubrics/rubric-points-word.yaml:line 6:column criteria.0.levels.0.points [rubric-points-word]: 'points' must "
        "be a number (it is 'zero'); write e.g. 'points: 2'",
    ]),
    ('rubric-same-points.yaml', 1, [
        'rubrics/rubric-same-points.yaml:line 5:column criteria.0.levels [rubric-same-points]: two levels have the '
        'same points; give each level its own points',
    ]),
    ('rubric-tab-indent.yaml', 1, [
        "rubrics/rubric-tab-indent.yaml:line 4: not valid YAML (found character '\\t' that cannot start any token); "
        "fix the indentation or quoting",
    ]),
    ('rubric-unused.yaml', 0, [
        "rubrics/rubric-unused.yaml:line 1 [rubric-unused]: warning: rubric 'rubric-unused' scores no item; give an "
        "[OR] item the id 'rubric-unused' or 'rubric: rubric-unused', or remove the file",
    ]),
    ('scenario-empty.ipynb', 1, [
        'source/cps/scenario-empty.ipynb:cell 2 [sc-empty]: the scenario has no vignette; write it on the lines below '
        'the header',
    ]),
    ('scenario-typo.ipynb', 1, [
        "source/cps/scenario-typo.ipynb:cell 2 [sc-typo-a]: unknown scenario 'base-sc-1' (did you mean "
        "'base-sc-01'?); write its [SCENARIO] cell or fix 'scenario:'",
    ]),
    ('scenario-unused.ipynb', 1, [
        "source/cps/scenario-unused.ipynb:cell 2 [sc-housing]: no item uses scenario 'sc-housing'; add 'scenario: "
        "sc-housing' to the header of each item that belongs to it, or remove the cell",
    ]),
    ('self-reviewed.ipynb', 0, [
        'source/cps/self-reviewed.ipynb:cell 2 [mc-self-reviewed]: warning: R. Alvarez is both author and reviewer; '
        'ask someone else to review it',
    ]),
    ('short-answer-mistakes.ipynb', 1, [
        "source/cps/short-answer-mistakes.ipynb:cell 3 [sa-no-answer]: no accepted answer; write 'accept: answer; "
        "other answer' or 'number: 42 · tolerance: 0.5'",
        "source/cps/short-answer-mistakes.ipynb:cell 4 [sa-empty-answer]: accepted answer 2 is empty once normalised "
        "(''); write a word or number between the ';' separators",
        "source/cps/short-answer-mistakes.ipynb:cell 5 [sa-same-answers]: warning: accepted answers 1 and 2 are the "
        "same once case, spacing and end punctuation are ignored ('mutuality.'); keep one",
        "source/cps/short-answer-mistakes.ipynb:cell 6 [sa-bad-number]: number 'nine' is not a number; write e.g. "
        "'number: 42' (digits and a decimal point)",
        "source/cps/short-answer-mistakes.ipynb:cell 6 [sa-bad-number]: tolerance '-1' is not a number of 0 or more; "
        "write e.g. 'tolerance: 0.5' (digits and a decimal point)",
        "source/cps/short-answer-mistakes.ipynb:cell 7 [sa-both]: write either 'accept:' (accepted words) or "
        "'number:' (a number and its tolerance), not both",
        "source/cps/short-answer-mistakes.ipynb:cell 8 [sa-with-choices]: a short-answer item has no choices; remove "
        "the '- [ ]' lines and write the accepted answers in the header ('accept: answer; other answer'), or make it "
        "[MC]",
    ]),
    ('source-number.ipynb', 1, [
        "source/cps/source-number.ipynb:cell 2: the cell's source is a number, not text; re-save the notebook from "
        "JupyterLab",
    ]),
    ('status-typo.ipynb', 1, [
        "source/cps/status-typo.ipynb:cell 2 [mc-status-typo]: status 'final' is unknown; use draft, reviewed, live "
        "or retired",
    ]),
    ('text-after-choices.ipynb', 1, [
        "source/cps/text-after-choices.ipynb:cell 2 [mc-text-after]: text after the choices ('Choose the best "
        "answer.'); put the stem above the choices",
    ]),
    ('tf-reversed.ipynb', 1, [
        'source/cps/tf-reversed.ipynb:cell 2 [tf-reversed]: a true/false item lists True first, then False; swap the '
        'two choices',
    ]),
    ('tf-yes-no.ipynb', 1, [
        "source/cps/tf-yes-no.ipynb:cell 2 [tf-yes-no]: a true/false item has exactly the choices True and False (it "
        "has 'Yes', 'No'); use those two, or make it [MC]",
        "source/cps/tf-yes-no.ipynb:cell 2 [tf-yes-no]: the key 'No' is not True or False; mark True or False '- [x]'",
    ]),
    ('truncated.ipynb', 1, [
        'source/cps/truncated.ipynb:line 31: not valid notebook JSON (Expecting property name enclosed in double '
        'quotes, column 1); open it in JupyterLab or restore it from git',
    ]),
    ('two-keys.ipynb', 1, [
        "source/cps/two-keys.ipynb:cell 2 [mc-two-keys]: 2 choices are marked as the key (A and C); an item has one "
        "key: keep one '- [x]'",
    ]),
    ('unknown-kind.ipynb', 1, [
        'source/cps/unknown-kind.ipynb:cell 2 [mc-unknown-kind]: unknown item kind [MCQ]; use [TF], [MC], [MS], [OR], '
        '[SA] or [SCENARIO]',
    ]),
    ('zero-points.ipynb', 1, [
        "source/cps/zero-points.ipynb:cell 2 [mc-zero-points]: points must be above 0 and at most 100, not '0'; write "
        "e.g. 'points: 1'",
    ]),
]

# a few cases also go through the installed console script, as an author would run it
SCRIPT_CASES = {"truncated.ipynb", "two-keys.ipynb", "rubric-tab-indent.yaml", "self-reviewed.ipynb",
                "rubric-alias-bomb.yaml", "deep-json.ipynb"}


def _place(course: Path, name: str) -> None:
    target = course / ("source/cps" if name.endswith(".ipynb") else "rubrics") / name
    shutil.copy(CORPUS / name, target)


def _expect(output: str, code: int, exit_code: int, lines: list[str]) -> None:
    assert problem_lines(output) == lines
    errors = sum(1 for line in lines if ": warning: " not in line)
    summary = output.strip().splitlines()[-1]
    assert summary.startswith("checked ") and summary.endswith(f"{errors} error(s), {len(lines) - errors} warning(s)")
    assert exit_code == code == (1 if errors else 0)


def test_corpus_is_complete():
    """Every file of the corpus has its case, and the corpus is large enough to mean something."""
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(name for name, _, _ in CASES)
    assert len(CASES) >= 25
    assert sum(name.endswith(".yaml") for name, _, _ in CASES) >= 10


def test_base_course_is_clean(mini_course):
    result = run_cli(mini_course, "check")
    assert result.exit_code == 0, result.stdout
    assert problem_lines(result.stdout) == []
    assert ("checked 1 notebook(s) (5 items, 1 scenarios), 1 rubric(s), 0 blueprint(s): 0 error(s), 0 "
            "warning(s)") in result.stdout


@pytest.mark.parametrize("name,code,lines", CASES, ids=[c[0] for c in CASES])
def test_corpus_case(mini_course, name, code, lines):
    _place(mini_course, name)
    result = run_cli(mini_course, "check")
    _expect(result.stdout, code, result.exit_code, lines)
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(SCRIPT_CASES))
def test_corpus_case_through_console_script(mini_course, name):
    (case,) = [c for c in CASES if c[0] == name]
    _place(mini_course, name)
    proc = run_script(mini_course, "check")
    _expect(proc.stdout, case[1], proc.returncode, case[2])
    assert "Traceback" not in proc.stdout + proc.stderr


def test_only_the_named_file_is_reported(mini_course):
    """`check FILE` reads the course as context (the base rubric) but reports that file only."""
    for name in ("two-keys.ipynb", "or-points-mismatch.ipynb", "duplicate-id.ipynb"):
        _place(mini_course, name)
    result = run_cli(mini_course, "check", str(mini_course / "source/cps/duplicate-id.ipynb"))
    assert problem_lines(result.stdout) == [
        "source/cps/duplicate-id.ipynb:cell 2 [base-mc-01]: item id 'base-mc-01' is also used at "
        "source/cps/base.ipynb:cell 3; give each item and scenario its own id",
    ]
    assert result.exit_code == 1
    assert re.search(r"checked 1 notebook\(s\) \(1 items, 0 scenarios\)", result.stdout)


def test_every_problem_at_once_sorted(mini_course):
    """Several broken files: every problem is reported in one run, sorted by file then cell."""
    names = [name for name, _, _ in CASES]
    for name in names:
        _place(mini_course, name)
    result = run_cli(mini_course, "check")
    lines = problem_lines(result.stdout)
    assert result.exit_code == 1
    files = [line.split(":", 1)[0] for line in lines]
    assert files == sorted(files)
    for name, _, expected in CASES:
        if name in ("duplicate-id.ipynb", "rubric-duplicate-id.yaml", "copied-item.ipynb", "or-with-choices.ipynb"):
            continue  # these interact with other cases (more duplicates, a shared rubric)
        for line in expected:
            assert line in lines, line


def test_a_live_item_needs_a_header_reviewer_only_when_review_is_not_recorded(mini_course):
    """With recorded review (the default) the approval is a record, so a live item's header needs
    no ``reviewer:``; with ``require_recorded_review = False`` the header is the review."""
    target = mini_course / "source/cps/live-no-reviewer.ipynb"
    shutil.copy(Path(__file__).with_name("live-no-reviewer.ipynb"), target)
    assert run_cli(mini_course, "check").exit_code == 0
    config = mini_course / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.BankSettings.require_recorded_review = False\n")
    result = run_cli(mini_course, "check")
    _expect(result.output, 1, result.exit_code, [
        "source/cps/live-no-reviewer.ipynb:cell 2 [mc-no-reviewer]: a live item needs a reviewer; add 'reviewer: "
        "<name>' "
        "or set 'status: reviewed' until it is reviewed",
    ])
