"""Walk 3 findings 9-11 on the program's report: the board can trace the cut (the study, the decision in force,
each form's cut and where it came from, re-cuts, key decisions), every rate has its interval (checked against
statsmodels' Wilson and scipy's t, computed here), the pass-rate figure has error bars, the competencies keep the
policy's order, and a difference the forms' interval shows is read as one, with what the program does about it."""
from __future__ import annotations

import re

import pandas as pd
from report_synthetic import big_window, trace
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from exam_builder.analysis import psychometrics as pm
from exam_builder.analysis.report import CUT_TABLE, CutTrace, random_groups_rows, render_html, sections


def _secs(d):
    return {s.title: s for s in sections(d)}


def test_the_board_can_trace_every_cut():
    d = big_window(n=18)
    sec = _secs(d)["How the cut was set"]
    text = " ".join(sec.text)
    assert ("the board's decision 1 on study 2, \"Spring panel\" (Modified Angoff): decided on 2026-03-01 by the "
            "board (recorded by Carla Coordinator, 2026-03-01 10:00 EST), adopting 60%") in text
    assert "the panel recommended 62% after round 2" in text
    cuts = dict(sec.tables)[CUT_TABLE].set_index("form")
    assert cuts.loc["A", "source"] == "re-cut on 2026-03-02 09:00 EST by Carla Coordinator from decision 1 (was 8.50)"
    assert cuts.loc["B", "source"] == ("frozen when the form was built on 2026-02-01 09:00 EST (before the decision "
                                       "in force; not re-cut)")
    keys = dict(sec.tables)["Key decisions, oldest first"]
    assert keys.item.tolist() == ["core-02"] and keys.applied.tolist() == ["2026-03-03 09:05 EST"]
    assert "Key validation closed 2026-03-04 09:00 EST by Carla Coordinator" in text
    # no study at all: says so, never a blank section
    d.cut_trace = CutTrace(forms=trace().forms)
    text = " ".join(_secs(d)["How the cut was set"].text)
    assert "No standard-setting study is recorded" in text and "Key validation is not closed" in text
    page = render_html(d, sections(d), "Program")
    assert '<h2 id="s2">How the cut was set</h2>' in page


def test_every_rate_has_its_interval_and_the_figure_its_error_bars():
    d = big_window(n=18)
    secs = _secs(d)
    decided = d.decided
    firsts = decided[decided.attempt == 1]
    k, n = int((firsts.result == "pass").sum()), len(firsts)
    lo, hi = proportion_confint(k, n, method="wilson")
    assert (f"Pass rate on the first attempt: {k} of {n} ({pm.pct(k / n)}, 95% interval {pm.pct(lo)} to "
            f"{pm.pct(hi)})") in " ".join(secs["Cohort"].text)
    by_attempt = dict(secs["Cohort"].tables)["Results by attempt"]
    for r in by_attempt.itertuples():
        lo, hi = proportion_confint(r.passed, r.sittings, method="wilson")
        assert (r.pass_ci_low, r.pass_ci_high) == (round(lo, 2), round(hi, 2))
    scores = dict(secs["Scores"].tables)
    share = decided.total / decided.max_total
    for r in scores["Scores by attempt (share of the form's points)"].itertuples():
        x = share[decided.attempt == r.attempt]
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert (r.mean_ci_low, r.mean_ci_high) == (round(lo, 2), round(hi, 2))
        passed = int((decided[decided.attempt == r.attempt].result == "pass").sum())
        lo, hi = proportion_confint(passed, len(x), method="wilson")
        assert (r.pass_ci_low, r.pass_ci_high) == (round(lo, 2), round(hi, 2))
    comp = scores["Mean share of points per competency"]
    for r in comp.itertuples():
        x = decided[decided.form == r.form]["sub:Recovery"]
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert (r.mean_ci_low, r.mean_ci_high) == (round(lo, 2), round(hi, 2))
    bar = next(f for f in secs["Cohort"].figures if f.alt.startswith("Bar chart of the pass rate"))
    assert "error bar" in bar.alt and re.search(r"2026-fall / A: \d+% of \d+ \(\d+% to \d+%\)", bar.caption)


def test_competencies_keep_the_policys_order_as_results_does():
    d = big_window(n=18)
    d.results = d.results.assign(**{"sub:zeta": 0.5, "sub:alpha": 0.4})
    d.results = d.results[[c for c in d.results.columns if c not in ("sub:Recovery",)] + ["sub:Recovery"]]
    d.competency_names = {"zeta": "Zeta first", "Recovery": "Recovery", "alpha": "Alpha last"}
    comp = dict(_secs(d)["Scores"].tables)["Mean share of points per competency"]
    assert comp[comp.form == "A"].competency.tolist() == ["Zeta first", "Recovery", "Alpha last"]


def test_a_difference_the_interval_shows_says_what_the_program_does():
    d = big_window(n=18)
    d.results.loc[d.results.form == "B", "total"] += 5  # form B reads easier by 5 points (of 14)
    rows = pd.DataFrame(random_groups_rows(d))
    reading = rows.iloc[0].reading
    assert reading.startswith("the forms differ") and "which excludes 0" in reading
    # form B kept its built cut: nothing yet allows for the difference, and the reading says what would
    assert "were not both set from a standard-setting study" in reading and "standard recut" in reading
    t = d.cut_trace
    t.recuts.append({**t.recuts[0], "form": "B"})
    reading = pd.DataFrame(random_groups_rows(d)).iloc[0].reading
    assert "each form has its own cut from the standard-setting study (form A: 8.00 points, form B: 8.00)" in reading
