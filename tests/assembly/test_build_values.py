"""Issue 23 through `exam-builder build`: a blueprint or item-statistics value the lax readers took for
another (``cut_score: yes`` as a cut of 1 point, ``time_limit_minutes: on`` as one minute, ``1_1`` as
11, ``4:`` and ``04:`` as one key, ``0_5`` as a p-value of 5) is refused with its file, line or row
and field; exit 1; nothing built, nothing stored, no file changed."""
from __future__ import annotations

import pytest
from test_build import run_cli, snapshot, stored

BP = "source/syn/blueprint.yaml"


@pytest.mark.parametrize("old,new,expected", [
    ("cut_score: 70%", "cut_score: yes", f"{BP}:line 4:column cut_score: 'cut_score' must be a number above 0 and at "
                                          "most 100000 points, or a percent ('70%') (it is a yes/no value, true); fix "
                                          "the number"),
    ("seed: 11", "seed: 11\ntime_limit_minutes: on",
     f"{BP}:line 4:column time_limit_minutes: 'time_limit_minutes' must "
                                                      "be a whole number (it is a yes/no value, true); write e.g. "
                                                      "'time_limit_minutes: 2'"),
    ("seed: 11", "seed: 1_1",
     f"{BP}:line 3:column seed: 'seed' must be a whole number (it is '1_1'); write e.g. 'seed: 2'"),
    ("forms: 2", "forms: 02.0",
     f"{BP}:line 2:column forms: 'forms' must be a whole number (it is 2.0); write e.g. 'forms: 2'"),
    ("max_overlap: 4", "max_overlap: 4\nmodules: {4: 1, 04: 2}",
     f"{BP}:line 12: key '04' is given twice (line 12: '4' and '04' are the same key); YAML would keep only the second "
     "and silently drop the first: merge them into one"),
    ("open_response: 6}", "open_response: on}", f"{BP}:line 5:column points.open_response: 'open_response' must be a "
                                                 "number (it is a yes/no value, true); write e.g. 'open_response: 2'"),
], ids=["cut-yes", "minutes-on", "seed-underscore", "forms-decimal", "modules-4-04", "points-on"])
def test_build_refuses_a_blueprint_value_the_lax_reader_took(syn_course, blueprint_text, old, new, expected):
    assert old in blueprint_text
    (syn_course.exam_dir("syn") / "blueprint.yaml").write_text(blueprint_text.replace(old, new, 1), encoding="utf-8")
    before = snapshot(syn_course)
    proc = run_cli(syn_course, "build", "syn")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and expected in out and "Traceback" not in out, out
    assert stored(syn_course) == {} and snapshot(syn_course) == before


@pytest.mark.parametrize("value", ["0_5", "\u0660.\u0665", ".5e", "0x1"])
def test_build_refuses_an_item_statistic_the_lax_reader_took(syn_course, tmp_path, value):
    stats = tmp_path / "stats.csv"
    stats.write_text(f"item_id,p_value\nit-0002,0.8\nit-0003,{value}\n", encoding="utf-8")
    before = snapshot(syn_course)
    proc = run_cli(syn_course, "build", "syn", "--item-stats", str(stats))
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert (f"stats.csv:row 2:column p_value [it-0003]: p_value {value!r} is not a proportion between 0 and "
            "1") in proc.stderr
    assert stored(syn_course) == {} and snapshot(syn_course) == before
