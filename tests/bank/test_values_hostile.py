"""Issue 23: numbers, text and keys in authored files, each through the real `exam-builder check`
(and `bank list` / `bank sync` where the issue saw a crash): a located error naming the file, the
cell or line, the field, and what to do; exit 1; no traceback; nothing written.

New variations of each class, not only the cases the issue names: item headers whose numbers
Python's ``float()``/``int()`` would have read (``0_5``, ``6_5``, other scripts' digits, ``0x1``),
YAML numbers and yes/no values the lax schema took for each other, keys YAML read as one
(``1``/``01``, ``true``/``True``, ``1``/``1.0``), hidden characters and look-alike ids in every
text an author writes, and the loader's old bookkeeping keys (``file``, ``line``, ``__line__``).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from bank_helpers import problem_lines, run_cli

NB = "source/cps/base.ipynb"
RUBRIC = "rubrics/base-or-01.yaml"
BLUEPRINT = "source/cps/blueprint.yaml"
TF = "**[TF] base-tf-01** · competency: peer-support · module: 1 · points: 1 · difficulty: medium · status: live"
MC_CHOICE = "- [ ] Community engagement"
RULE = "may use only lower-case letters, digits, '.', '_' and '-' (starting with a letter or digit)"


def edit_notebook(course: Path, old: str, new: str) -> None:
    """Replace ``old`` with ``new`` in the cells' source, written back as JSON with \\u escapes (so a lone
    surrogate is written the way a notebook carries one: as a JSON escape)."""
    path = course / NB
    nb = json.loads(path.read_text(encoding="utf-8"))
    hits = 0
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if old in source:
            cell["source"] = source.replace(old, new, 1)
            hits += 1
    assert hits == 1, old
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=True), encoding="ascii")


def snapshot(course: Path) -> dict[str, bytes]:
    """The authored files byte for byte (the course lock and database a changing command opens are not)."""
    return {str(p.relative_to(course)): p.read_bytes() for p in sorted(course.rglob("*"))
            if p.is_file() and p.suffix in (".ipynb", ".yaml", ".py")}


def check(course: Path) -> tuple[int, list[str]]:
    result = run_cli(course, "check")
    out = result.stdout + result.stderr
    assert "Traceback" not in out and "\x1b" not in out and "\u202e" not in out
    return result.exit_code, problem_lines(result.stdout)


# -- numbers in item headers -------------------------------------------------------------------------

@pytest.mark.parametrize("old,new,message", [
    ("points: 1", "points: 0_5", "points must be a number above 0 and at most 100, not '0_5'; write e.g. 'points: 1'"),
    ("points: 1", "points: 6_5", "points must be a number above 0 and at most 100, not '6_5'; write e.g. 'points: 1'"),
    ("points: 1", "points: \u0665",
     "points must be a number above 0 and at most 100, not '\u0665'; write e.g. 'points: 1'"),
    ("points: 1", "points: \uff11",
     "points must be a number above 0 and at most 100, not '\uff11'; write e.g. 'points: 1'"),
    ("points: 1", "points: 0x1", "points must be a number above 0 and at most 100, not '0x1'; write e.g. 'points: 1'"),
    ("points: 1", "points: 1e3", "points must be above 0 and at most 100, not '1e3'; write e.g. 'points: 1'"),
    ("points: 1", "points: -0", "points must be above 0 and at most 100, not '-0'; write e.g. 'points: 1'"),
    ("points: 1", "points: Infinity",
     "points must be a number above 0 and at most 100, not 'Infinity'; write e.g. 'points: 1'"),
    ("module: 1", "module: \u0663",
     "module must be a whole number from 1 to 1000, not '\u0663'; write e.g. 'module: 4'"),
    ("module: 1", "module: 1_0", "module must be a whole number from 1 to 1000, not '1_0'; write e.g. 'module: 4'"),
    ("module: 1", "module: 1.0", "module must be a whole number from 1 to 1000, not '1.0'; write e.g. 'module: 4'"),
    ("module: 1", "module: 99999999999999999999",
     "module must be from 1 to 1000, not '99999999999999999999'; write e.g. 'module: 4'"),
], ids=["underscore", "underscore-65", "arabic-indic", "fullwidth", "hex", "exponent-out-of-range", "minus-zero",
        "infinity", "module-arabic-indic", "module-underscore", "module-decimal", "module-20-digits"])
def test_header_numbers_follow_the_one_rule(mini_course, old, new, message):
    edit_notebook(mini_course, TF, TF.replace(old, new))
    before = snapshot(mini_course)
    assert check(mini_course) == (1, [f"{NB}:cell 2 [base-tf-01]: {message}"])
    result = run_cli(mini_course, "bank", "sync")  # a command that writes: refused, nothing written
    assert result.exit_code == 1 and "nothing was written" in result.stdout + result.stderr
    assert snapshot(mini_course) == before


def test_header_numbers_in_their_plain_forms_still_read(mini_course):
    edit_notebook(mini_course, TF, TF.replace("module: 1", "module: +01").replace("points: 1", "points: 1.0"))
    assert check(mini_course)[0] == 0


# -- text in items: the one text rule, everywhere an author writes -----------------------------------

@pytest.mark.parametrize("old,new,message", [
    ("Hope is a central theme", "Hope \ud800 is a central theme",
     "the stem has a lone surrogate (half of a character, not text) (U+D800) at character 6; delete it"),
    ("Hope is a central theme", "Hope \x1b[2J is a central theme",
     "the stem has a control character (U+001B) at character 6; delete it"),
    ("Hope is a central theme", "Hope \x9b31m is a central theme",
     "the stem has a control character (U+009B) at character 6; delete it"),
    ("Peer specialists model", "Peer \u2067specialists model",
     "the rationale has a bidirectional-text override (U+2067) at character 6; delete it"),
    ("- [ ] Community engagement", "- [ ] Community \u202eengagement",
     "choice A has a bidirectional-text override (U+202E) at character 11; delete it"),
    ("- [ ] Medication management", "- [ ] Medication\ufffe management",
     "choice C has a Unicode noncharacter (U+FFFE) at character 11; delete it"),
    ("author: R. Alvarez · reviewer: J. Chen\n\nHope", "author: R. \u202dAlvarez · reviewer: J. Chen\n\nHope",
     "header field 'author' has a bidirectional-text override (U+202D) at character 4; delete it"),
    ("**[TF] base-tf-01**", "**[TF] base-tf-01\u202e**",
     f"id 'base-tf-01\\u202e' {RULE}, not '\\u202e' (U+202E) at character 11; rename it"),
    ("**[TF] base-tf-01**", "**[TF] base-tf-01\udcff**",
     f"id 'base-tf-01\\udcff' {RULE}, not '\\udcff' (U+DCFF) at character 11; rename it"),
], ids=["stem-lone-surrogate", "stem-escape-sequence", "stem-c1-csi", "rationale-bidi-isolate", "choice-bidi-override",
        "choice-noncharacter", "author-bidi", "id-bidi", "id-lone-surrogate"])
def test_hidden_characters_in_an_item_are_located_and_never_reach_a_command(mini_course, old, new, message):
    edit_notebook(mini_course, old, new)
    item = (new.split("**")[1].split("] ")[1].encode("ascii", "backslashreplace").decode() if "**[TF]" in old
            else "base-mc-01" if "- [ ]" in old else "base-tf-01")
    cell = 3 if item == "base-mc-01" else 2
    assert check(mini_course) == (1, [f"{NB}:cell {cell} [{item}]: {message}"])
    before = snapshot(mini_course)
    listed = run_cli(mini_course, "bank", "list")  # the issue: a lone surrogate crashed bank list
    assert listed.exit_code == 0 and "Traceback" not in listed.stdout + listed.stderr
    assert "1 problem(s) in the bank" in listed.stderr
    assert not any(ch in listed.stdout for ch in "\x1b\x9b\u202e\u202d\u2067\ufffe\udcff")
    as_json = run_cli(mini_course, "bank", "list", "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)
    synced = run_cli(mini_course, "bank", "sync")  # ... and bank sync
    assert synced.exit_code == 1 and "Traceback" not in synced.stdout + synced.stderr
    assert message in synced.stdout + synced.stderr and "nothing was written" in synced.stdout + synced.stderr
    assert snapshot(mini_course) == before


@pytest.mark.parametrize("new,message", [
    ("scenario: base-s\u0441-01",
     f"scenario 'base-s\u0441-01' {RULE}, not '\u0441' (U+0441) at character 7; rename it"),
    ("scenario: Base-SC-01", f"scenario 'Base-SC-01' {RULE}, not 'B' (U+0042) at character 1; rename it"),
], ids=["cyrillic-look-alike", "upper-case"])
def test_an_id_an_item_names_follows_the_id_rule(mini_course, new, message):
    edit_notebook(mini_course, "scenario: base-sc-01\n\nWhat is", f"{new}\n\nWhat is")
    code, lines = check(mini_course)
    assert code == 1 and lines == [  # reported once, as an id; the scenario is then left with one item
        f"{NB}:cell 4 [base-sc-01]: warning: only one item uses this scenario; a scenario is shared by several items "
        "(add another, or fold the vignette into the item's stem)",
        f"{NB}:cell 5 [base-sc-01a]: {message}",
    ]


def test_a_scenario_vignette_and_title_follow_the_text_rule(mini_course):
    edit_notebook(mini_course, "title: A new group member", "title: A new \u2066group member")
    edit_notebook(mini_course, "Dana joins a peer", "Dana\x07 joins a peer")
    assert check(mini_course) == (1, [
        f"{NB}:cell 4 [base-sc-01]: header field 'title' has a bidirectional-text override (U+2066) at character 7; "
        "delete it",
        f"{NB}:cell 4 [base-sc-01]: the vignette has a control character (U+0007) at character 5; delete it",
    ])


# -- rubrics: strict numbers and yes/no, ids, text, no bookkeeping keys ------------------------------

LEVEL = "{points: 0, descriptor: No step}"


@pytest.mark.parametrize("old,new,line,message", [
    (LEVEL, "{points: yes, descriptor: No step}", 14,
     ":column criteria.1.levels.0.points [base-or-01]: 'points' must be a number (it is a yes/no value, true); write "
     "e.g. 'points: 2'"),
    (LEVEL, "{points: off, descriptor: No step}", 14,
     ":column criteria.1.levels.0.points [base-or-01]: 'points' must be a number (it is a yes/no value, false); write "
     "e.g. 'points: 2'"),
    (LEVEL, "{points: '0', descriptor: No step}", 14,
     ":column criteria.1.levels.0.points [base-or-01]: 'points' must be a number (it is '0'); write e.g. 'points: 2'"),
    (LEVEL, "{points: 0_0, descriptor: No step}", 14,
     ":column criteria.1.levels.0.points [base-or-01]: 'points' must be a number (it is '0_0'); write e.g. 'points: "
     "2'"),
    (LEVEL, "{points: 0x0, descriptor: No step}", 14,
     ":column criteria.1.levels.0.points [base-or-01]: 'points' must be a number (it is '0x0'); write e.g. 'points: "
     "2'"),
    (LEVEL, "{points: \u0660, descriptor: No step}", 14,
     ":column criteria.1.levels.0.points [base-or-01]: 'points' must be a number (it is '\u0660'); write e.g. "
     "'points: 2'"),
    (LEVEL, "{points: 1e3, descriptor: No step}", 14,
     ":column criteria.1.levels.0.points [base-or-01]: 'points' must be a number from 0 to 100 points (it is 1000); "
     "fix the number"),
    ("- id: step", '- id: "st\u0435p"', 11,
     f":column criteria.1.id [base-or-01]: 'id' is 'st\u0435p', which {RULE}, not '\u0435' (U+0435) at character 3; "
     "rename it"),
    ("- id: step", '- id: "step\\u202e"', 11,
     f":column criteria.1.id [base-or-01]: 'id' is 'step\\u202e', which {RULE}, not '\\u202e' (U+202E) at character "
     "5; rename it"),
    ("- id: step", "- id: Step 2", 11,
     f":column criteria.1.id [base-or-01]: 'id' is 'Step 2', which {RULE}, not 'S' (U+0053) at character 1; rename it"),
    ("title: Raising", "item: Base-OR-01\ntitle: Raising", 2,
     f":column item [base-or-01]: 'item' is 'Base-OR-01', which {RULE}, not 'B' (U+0042) at character 1; rename it"),
    ("name: A concrete step", 'name: "A concrete\\e[2J step"', 12,
     ":column criteria.1.name [base-or-01]: 'name' has a control character (U+001B) at character 11; delete it"),
    ("name: A concrete step", 'name: "A concrete\\nstep"', 12,
     ":column criteria.1.name [base-or-01]: 'name' has a line break (U+000A) at character 11; delete it"),
    (LEVEL, '{points: 0, descriptor: "No \\u202Estep"}', 14,
     ":column criteria.1.levels.0.descriptor [base-or-01]: 'descriptor' has a bidirectional-text override (U+202E) at "
     "character 4; delete it"),
    ("notes: Made-up sample rubric.", 'notes: "Made-up \\x85sample\\x9b rubric."', 3,
     ":column notes [base-or-01]: 'notes' has a control character (U+009B) at character 16; delete it"),
], ids=["points-yes", "points-off", "points-quoted", "points-underscore", "points-hex", "points-arabic-indic",
        "points-exponent-range", "criterion-id-cyrillic", "criterion-id-bidi", "criterion-id-upper-case",
        "item-id-upper-case", "name-escape", "name-line-break", "descriptor-bidi", "notes-c1"])
def test_rubric_values_follow_the_one_rule(mini_course, old, new, line, message):
    path = mini_course / RUBRIC
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, lines = check(mini_course)
    assert code == 1 and lines == [
        f"{RUBRIC}:line {line}{message}",
        f"{NB}:cell 7 [base-or-01]: rubric 'base-or-01' has errors ({RUBRIC}); fix them first",
    ]


@pytest.mark.parametrize("key,value,where,line,allowed", [
    ("file", "other.yaml", "top", 4, "id, title, item, notes, criteria"),
    ("line", "1", "top", 4, "id, title, item, notes, criteria"),
    ("__line__", "3", "top", 4, "id, title, item, notes, criteria"),
    ("__lines__", "{id: 1}", "top", 4, "id, title, item, notes, criteria"),
    ("line", "2", "criterion", 13, "id, name, description, levels"),
    ("__lines__", "{}", "criterion", 13, "id, name, description, levels"),
], ids=["file", "line", "__line__", "__lines__", "criterion-line", "criterion-__lines__"])
def test_the_loaders_bookkeeping_keys_are_unknown_keys_like_any_other(mini_course, key, value, where, line, allowed):
    path = mini_course / RUBRIC
    text = path.read_text(encoding="utf-8")
    if where == "top":
        text = text.replace("notes: Made-up sample rubric.\n", f"notes: Made-up sample rubric.\n{key}: {value}\n")
        column = key
    else:
        text = text.replace("    name: A concrete step\n", f"    name: A concrete step\n    {key}: {value}\n")
        column = f"criteria.1.{key}"
    path.write_text(text, encoding="utf-8")
    code, lines = check(mini_course)
    assert code == 1 and lines[0] == (f"{RUBRIC}:line {line}:column {column} [base-or-01]: unknown key '{key}' (a "
                                      "typo?); "
                                      f"use one of: {allowed}")


@pytest.mark.parametrize("mapping,line,message", [
    ("{points: 0, descriptor: No step, 1: a, 01: b}", 14,
     "key '01' is given twice (line 14: '1' and '01' are the same key)"),
    ("{points: 0, descriptor: No step, 1: a, 1.0: b}", 14,
     "key '1.0' is given twice (line 14: '1' and '1.0' are the same key)"),
    ("{points: 0, descriptor: No step, true: a, True: b}", 14,
     "key 'True' is given twice (line 14: 'true' and 'True' are the same key)"),
    ("{points: 0, descriptor: No step, yes: a, on: b}", 14,
     "key 'on' is given twice (line 14: 'yes' and 'on' are the same key)"),
    ("{points: 0, descriptor: No step, ~: a, null: b}", 14,
     "key 'null' is given twice (line 14: '~' and 'null' are the same key)"),
    ("{points: 0, 'points': 1, descriptor: No step}", 14, "key 'points' is given twice (line 14)"),
], ids=["1-01", "1-1.0", "true-True", "yes-on", "null", "quoted"])
def test_keys_are_compared_by_value_not_by_spelling(mini_course, mapping, line, message):
    path = mini_course / RUBRIC
    path.write_text(path.read_text(encoding="utf-8").replace(LEVEL, mapping, 1), encoding="utf-8")
    code, lines = check(mini_course)
    assert code == 1 and lines[0] == (f"{RUBRIC}:line {line}: {message}; YAML would keep only the second and silently "
                                      "drop the first: merge them into one")


# -- blueprints: strict numbers and yes/no, keys by value ---------------------------------------------

MINI_BLUEPRINT = """\
title: Mini exam
forms: 1
seed: 1
cut_score: 70%
points: {true_false: 1, multiple_choice: 1, open_response: 4}
counts:
  peer-support: {true_false: 1}
"""


@pytest.mark.parametrize("old,new,expected", [
    ("cut_score: 70%", "cut_score: yes", "line 4:column cut_score: 'cut_score' must be a number above 0 and at most "
                                          "100000 points, or a percent ('70%') (it is a yes/no value, true); fix the "
                                          "number"),
    ("cut_score: 70%", "cut_score: on", "line 4:column cut_score: 'cut_score' must be a number above 0 and at most "
                                         "100000 points, or a percent ('70%') (it is a yes/no value, true); fix the "
                                         "number"),
    ("cut_score: 70%", "cut_score: 6_5%", "line 4:column cut_score: 'cut_score' must be a percent above 0 and at most "
                                           "100, not '6_5%'; write e.g. '70%'"),
    ("cut_score: 70%", "cut_score: \u0667\u0660%", "line 4:column cut_score: 'cut_score' must be a percent above 0 and "
                                                   "at most 100, not '\u0667\u0660%'; write e.g. '70%'"),
    ("cut_score: 70%", "cut_score: '70'", "line 4:column cut_score: write the cut score as points (42) or a percent "
                                           "('70%'), not '70'"),
    ("seed: 1", "seed: 1\ntime_limit_minutes: on", "line 4:column time_limit_minutes: 'time_limit_minutes' must be a "
                                                    "whole number (it is a yes/no value, true); write e.g. "
                                                    "'time_limit_minutes: 2'"),
    ("forms: 1", "forms: 1.0",
     "line 2:column forms: 'forms' must be a whole number (it is 1.0); write e.g. 'forms: 2'"),
    ("seed: 1", "seed: 0x1F", "line 3:column seed: 'seed' must be a whole number (it is '0x1F'); write e.g. 'seed: 2'"),
    ("seed: 1", "seed: 1:30", "line 3:column seed: 'seed' must be a whole number (it is '1:30'); write e.g. 'seed: 2'"),
    ("seed: 1", "seed: 1\nmax_overlap: \u0661", "line 4:column max_overlap: 'max_overlap' must be a whole number "
                                                 "(it is '\u0661'); write e.g. 'max_overlap: 2'"),
    ("true_false: 1, multiple", "true_false: yes, multiple", "line 5:column points.true_false: 'true_false' must be a "
                                                              "number (it is a yes/no value, true); write e.g. "
                                                              "'true_false: 2'"),
    ("{true_false: 1}", "{true_false: on}",
     "line 7:column counts.peer-support.true_false: 'true_false' must be a whole "
                                            "number (it is a yes/no value, true); write e.g. 'true_false: 2'"),
    ("seed: 1", "seed: 1\nshuffle: {items: 1}", "line 4:column shuffle.items: 'items' must be true or false (it is 1); "
                                                 "write e.g. 'items: true'"),
    ("seed: 1", "seed: 1\nshuffle: {choices: 'no'}", "line 4:column shuffle.choices: 'choices' must be true or false "
                                                      "(it is 'no'); write e.g. 'choices: true'"),
    ("seed: 1", "seed: 1\nmodules: {1: 1, 01: 1}", "line 4: key '01' is given twice (line 4: '1' and '01' are the same "
                                                    "key); YAML would keep only the second and silently drop the "
                                                    "first: "
                                                    "merge them into one"),
    ("seed: 1", "seed: 1\nmodules: {'1': 1}", "line 4:column modules.1.[key]: the key of 'modules' must be a whole "
                                               "number (it is '1'); fix the key"),
    ("seed: 1", "seed: 1\nanchors: [b\u0430se-tf-01]",
     f"line 4:column anchors.0: 'anchors' is 'b\u0430se-tf-01', which "
                                                        f"{RULE}, not '\u0430' (U+0430) at character 2; rename it"),
    ("title: Mini exam", 'title: "Mini \\e[2J exam"',
     "line 1:column title: 'title' has a control character (U+001B) at "
                                                      "character 6; delete it"),
    ("  peer-support:", '  "\\u202epeer-support":',
     "line 7:column counts.\\u202epeer-support.[key]: the key of 'counts' "
                                                    "has a bidirectional-text override (U+202E) at character 1; "
                                                    "delete it"),
    ("seed: 1", "seed: 1\nline: 3", "line 4:column line: unknown key 'line' (a typo?); use one of: title, "
                                    "time_limit_minutes, forms, seed, counts, modules, points, total_points, "
                                    "cut_score, standard, "
                                    "anchors, max_overlap, scenario_sets, shuffle, difficulty_tolerance"),
], ids=["cut-yes", "cut-on", "cut-underscore-percent", "cut-arabic-indic-percent", "cut-quoted", "minutes-on",
        "forms-2.0", "seed-hex", "seed-base-60", "overlap-arabic-indic", "points-yes", "count-on", "shuffle-1",
        "shuffle-quoted-no", "modules-1-01", "modules-quoted-key", "anchor-cyrillic", "title-escape",
        "competency-bidi", "line-key"])
def test_blueprint_values_follow_the_one_rule(mini_course, old, new, expected):
    assert old in MINI_BLUEPRINT
    (mini_course / BLUEPRINT).write_text(MINI_BLUEPRINT.replace(old, new, 1), encoding="utf-8")
    assert check(mini_course) == (1, [f"{BLUEPRINT}:{expected}"])


def test_the_mini_blueprint_itself_passes(mini_course):
    (mini_course / BLUEPRINT).write_text(MINI_BLUEPRINT + "shuffle: {items: yes, choices: off}\n", encoding="utf-8")
    assert check(mini_course)[0] == 0
