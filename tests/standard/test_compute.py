"""The standard-setting study's numbers against independent hand computations and a published example.

The small worked example (3 panelists, 3 one-point items and a 4-point open response) is worked
by hand in the comments; the intraclass correlations are checked against Shrout & Fleiss (1979),
Table 2 (6 targets x 4 judges): ICC(2,1) = .29 and ICC(2,4) = .62.
"""
from __future__ import annotations

import math

import pytest

from exam_builder.standard import compute as c

ITEMS = [c.RatedItem("q1", 1), c.RatedItem("q2", 1), c.RatedItem("q3", 1), c.RatedItem("or1", 4, rated=True)]
RAW = {"P1": {"q1": 60, "q2": 70, "q3": 50, "or1": 2.0},
       "P2": {"q1": 70, "q2": 80, "q3": 40, "or1": 2.5},
       "P3": {"q1": 50, "q2": 60, "q3": 60, "or1": 3.0}}


def _matrix(raw, items):
    by = {i.item_id: i for i in items}
    return {p: {k: c.expected_points(v, by[k]) for k, v in row.items()} for p, row in raw.items()}


def test_cuts_se_and_spread_by_hand():
    m = _matrix(RAW, ITEMS)
    # panelists' cuts: .6+.7+.5+2 = 3.8; .7+.8+.4+2.5 = 4.4; .5+.6+.6+3 = 4.7
    cuts = c.panelist_cuts(m, ITEMS)
    assert cuts == pytest.approx({"P1": 3.8, "P2": 4.4, "P3": 4.7})
    # recommended: item means .6 + .7 + .5 + 2.5 = 4.3 (= the mean of the panelists' cuts, 12.9 / 3)
    assert c.recommended_cut(m, ITEMS) == pytest.approx(4.3)
    # SD of the cuts: deviations -.5, .1, .4; squares .42; / (3-1) = .21; SE = sqrt(.21 / 3) = sqrt(.07)
    assert c.standard_error(list(cuts.values())) == pytest.approx(math.sqrt(0.07))
    assert c.standard_error([4.0]) is None
    # spread as shares: q1 .6 .7 .5 (SD .1); or1 2/4, 2.5/4, 3/4 = .5 .625 .75 (SD .125): flagged above .11
    spread = {s.item_id: s for s in c.item_spread(m, ITEMS, 0.11)}
    assert spread["q1"].sd == pytest.approx(0.1) and not spread["q1"].flagged
    assert spread["or1"].sd == pytest.approx(0.125) and spread["or1"].flagged
    assert (spread["or1"].mean, spread["or1"].low, spread["or1"].high) == pytest.approx((0.625, 0.5, 0.75))
    assert [s.item_id for s in spread.values() if s.flagged] == ["or1"]


def test_impact_at_the_cut_and_one_and_two_se():
    se = math.sqrt(0.07)  # 0.2646
    scores = [2, 3, 4, 4.3, 5, 6]
    rows = c.impact(scores, 4.3, se)
    # cuts 3.771, 4.035, 4.3, 4.565, 4.829: passing 4/6 (4, 4.3, 5, 6), 3/6, 3/6 (4.3 counts: total >= cut), 2/6, 2/6
    assert [r[0] for r in rows] == ["-2 SE", "-1 SE", "recommended", "+1 SE", "+2 SE"]
    assert [r[1] for r in rows] == pytest.approx([4.3 - 2 * se, 4.3 - se, 4.3, 4.3 + se, 4.3 + 2 * se])
    assert [r[2] for r in rows] == pytest.approx([4 / 6, 3 / 6, 3 / 6, 2 / 6, 2 / 6])
    assert c.pass_rate([], 3) is None


def test_rating_rules():
    mc, orr = ITEMS[0], ITEMS[3]
    assert c.rating_problem(65, mc, "modified_angoff") is None
    assert "steps of 5" in c.rating_problem(62, mc, "modified_angoff")
    assert "steps of 5" in c.rating_problem(105, mc, "modified_angoff")
    assert c.rating_problem(100, mc, "yes_no") is None and "100 (yes) or 0" in c.rating_problem(50, mc, "yes_no")
    assert c.rating_problem(2.75, orr, "modified_angoff") is None
    assert "from 0 to 4" in c.rating_problem(4.5, orr, "modified_angoff")
    assert c.expected_points(65, c.RatedItem("x", 2)) == pytest.approx(1.3)


def test_icc_against_shrout_and_fleiss_1979_table_2():
    table = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    single, panel = c.icc2(table)
    assert round(single, 2) == 0.29 and round(panel, 2) == 0.62
    assert c.icc2([[1, 2]]) is None


def test_an_outlier_panelist_by_hand():
    items = [c.RatedItem(f"q{n}", 1) for n in (1, 2, 3)]
    raw = {"A": [50, 60, 70], "B": [50, 60, 80], "C": [60, 60, 80], "D": [60, 70, 80], "E": [90, 95, 95]}
    m = {p: {f"q{n}": v / 100 for n, v in zip((1, 2, 3), row, strict=True)} for p, row in raw.items()}
    checks = {x.panelist: x for x in c.panelist_checks(m, items)}
    # E: 2.8 against the others' 1.8 1.9 2.0 2.1 (mean 1.95, SD sqrt(.05/3) = .1291): z = .85 / .1291 = 6.58
    assert checks["E"].z == pytest.approx(0.85 / math.sqrt(0.05 / 3)) and checks["E"].flagged
    # A: 1.8 against 1.9 2.0 2.1 2.8 (mean 2.2, SD sqrt(.5/3) = .4082): z = -.98, not an outlier
    assert checks["A"].z == pytest.approx(-0.4 / math.sqrt(0.5 / 3)) and not checks["A"].flagged
    assert [p for p, x in checks.items() if x.flagged] == ["E"]
    # the same E on a panel of three: the others' SD rests on two cuts, so nobody is named (z not shown)
    small = {p: m[p] for p in ("A", "B", "E")}
    assert c.MIN_PANEL_FOR_OUTLIERS == 5
    assert all(not x.flagged and x.z is None for x in c.panelist_checks(small, items))


def test_a_harder_form_gets_a_lower_raw_cut_for_the_same_standard():
    # form 1 rec 4.3 of 7 points; the board adopts 55% where the panel recommended 60% over the scope
    assert c.adopted_form_cut(4.3, 7, 0.60, 0.55) == pytest.approx(3.95)
    # adopting the recommendation leaves each form at its own sum of mean ratings
    assert c.adopted_form_cut(4.3, 7, 0.6, 0.6) == 4.3 and c.adopted_form_cut(3.9, 7, 0.6, 0.6) == 3.9


def test_an_sd_exactly_at_the_flag_is_not_above_it_and_reads_as_the_flag():
    """SDs of exactly 15% of the points (three ratings 15 points apart, by hand: deviations -15, 0, +15, variance
    450 / 2 = 225) are never flagged "above 15%" and read "15%", whatever the float arithmetic leaves in the last
    digit (walk3: one such item read "15.000000%" and was flagged, another, also 15%, was not)."""
    from exam_builder.standard.report import sd_shown

    triples = [(lo, lo + 15, lo + 30) for lo in range(0, 75, 5)]
    items = [c.RatedItem(f"q{n}", 1) for n in range(len(triples))] + [c.RatedItem("or1", 6, rated=True)]
    raw = {f"P{k}": {**{f"q{n}": t[k] for n, t in enumerate(triples)}, "or1": (1.5, 2.4, 3.3)[k]} for k in range(3)}
    spread = c.item_spread(_matrix(raw, items), items, 0.15)
    assert [it.item_id for it in spread if it.flagged] == []
    assert {sd_shown(it.sd, 0.15) for it in spread} == {"15%"}
    above = c.item_spread(_matrix(raw, items), items, 0.149)
    assert all(it.flagged for it in above) and {sd_shown(it.sd, 0.149) for it in above} == {"15.0%"}


def test_a_raw_cut_is_written_with_two_decimals_everywhere():
    """A form's raw cut is kept to hundredths (``adopted_form_cut``) and written so: "38.90" beside "37.29", never
    "38.9" (``:g``) or "39.0" (``:.1f``) for a cut in the same table (walk3 finding 13). Every f-string that formats
    a cut in the package does it with ``:.2f`` (the blueprint's own ``cut_score``, quoted as written, aside)."""
    import re
    from pathlib import Path

    root = Path(__file__).parents[2] / "exam_builder"
    pattern = re.compile(r"\{[\w.\[\]()]*cut[\w.\[\]()]*:(g|\.1f|\.0f)\}")
    found = [f"{p.relative_to(root)}:{n}: {line.strip()}" for p in sorted(root.rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line) and "bp.form_points" not in line]
    assert found == [], found
