"""The program's report at the demo's size (18-19 candidates a form): every figure published with its
interval and a warning, the pooled figures, what the answers hold (omitted, not reached, time, sittings cut
short at the deadline), censored "eventually passed", and the presentation rules (headers in words, one
rounding, no None, the same bins, version and data hash). Each number against a direct computation here."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import numpy as np
import pandas as pd
import pytest
from report_synthetic import big_window

from exam_builder.analysis import psychometrics as pm
from exam_builder.analysis.report import data_hash, display, hist_bins, render_html, sections


def small_window(n: int = 18, cut_short: int = 2):
    """big_window at n a form, with answers (who answered which item) and times: the first ``cut_short``
    sittings of form A stop after item 3 and are submitted at their deadline."""
    d = big_window(n=n)
    start = dt.datetime(2026, 3, 2, 9)
    d.results = d.results.assign(started_at=start, deadline=start + dt.timedelta(minutes=90),
                                 submitted_at=start + dt.timedelta(minutes=60), paused_seconds=0.0)
    for f in d.forms:
        answered = pd.DataFrame(True, index=f.scores.index, columns=f.scores.columns)
        first = f.scores.index[0]
        answered.loc[first, [2]] = False  # omitted: blank, a later item answered
        f.answered = answered
    a = d.forms[0]
    for sid in a.scores.index[1:1 + cut_short]:
        a.answered.loc[sid, a.answered.columns[3:]] = False  # stopped after item 3: not reached
        d.results.loc[d.results.sitting == sid, "submitted_at"] = start + dt.timedelta(minutes=90)
    return d


def test_every_figure_is_published_at_n_18_with_intervals_and_a_warning():
    d = small_window(cut_short=0)
    secs = {s.title: s for s in sections(d)}
    rel = secs["Reliability and decision consistency"]
    per_form = dict(rel.tables)["Per form"].set_index("form")
    for f in d.forms:
        row = per_form.loc[f.label]
        direct = pm.reliability(f.scores, f.max_points, f.cut, min_n=3)
        assert row.n == 18 and row.alpha == round(direct.alpha, 2)
        lo, hi = direct.alpha_ci
        assert row.alpha_ci == f"{pm.show(lo)} to {pm.show(hi)}"
        assert row.csem_at_cut == round(direct.csem_at_cut, 2)
        total = f.scores.sum(axis=1)
        band = 1.96 * direct.csem_at_cut
        assert row.within_band == int(((total >= f.cut - band) & (total <= f.cut + band)).sum())
        assert row.note.startswith("small sample (n = 18)")
    pooled = per_form.loc["all 2 forms pooled"]
    assert pooled.n == 36 and pooled.alpha == round(
        pm.pooled_reliability([(f.scores, f.max_points, f.cut) for f in d.forms]).alpha, 2)
    classes = dict(rel.tables)["Decision consistency and accuracy"]
    assert set(classes.method) == {"Subkoviak", "Livingston-Lewis / Huynh beta-binomial", pm.RUDNER}
    assert set(classes.form) == {"A", "B", "all 2 forms pooled"}
    assert any("Warning: form(s) A, B have fewer than 30" in t for t in rel.text)
    items = dict(secs["Items"].tables)["Facility, discrimination, distractors and flags"]
    assert len(items) == 22 and items.discrimination.notna().any() and items.facility_low.notna().all()
    raters = dict(secs["Raters"].tables)["Agreement per item and rater pair"]
    assert raters.iloc[0]["item"] == "(all items)" and raters.iloc[0].n == 36 and pd.notna(raters.iloc[0].icc)
    groups = dict(secs["Form comparability"].tables)[
        "Forms as randomly equivalent groups: difference and equivalence test"].iloc[0]
    ta, tb = d.forms[0].scores.sum(axis=1), d.forms[1].scores.sum(axis=1)
    assert groups.difference == round(tb.mean() - ta.mean(), 2)
    assert groups.margin == "-0.70 to 0.70"  # 5% of 14 points, with two decimals as every such figure
    # under 10 candidates: what n is needed, never a figure
    tiny = {s.title: s for s in sections(big_window(n=8))}
    rows = dict(tiny["Reliability and decision consistency"].tables)["Per form"]
    assert rows.note.tolist()[:2] == ["too few candidates (n = 8; needs 10)"] * 2 and rows.alpha[:2].isna().all()
    assert rows.form.tolist()[2] == "all 2 forms pooled" and rows.n.tolist()[2] == 16  # pooling speaks for them
    assert pd.notna(rows.alpha.tolist()[2])


def test_omitted_not_reached_time_and_sittings_cut_short_at_the_deadline():
    d = small_window(cut_short=2)
    secs = {s.title: s for s in sections(d)}
    ans = secs["Answers and time"]
    per_form = dict(ans.tables)["Omitted and not-reached answers, and time used, per form"].set_index("form")
    k = d.forms[0].scores.shape[1]
    assert per_form.loc["A", "omitted"] == 1 and per_form.loc["A", "not_reached"] == 2 * (k - 3)
    assert per_form.loc["A", "sittings_not_reaching_the_end"] == 2
    assert per_form.loc["B", "omitted"] == 1 and per_form.loc["B", "not_reached"] == 0
    assert per_form.loc["A", "median_minutes"] == 60 and per_form.loc["A", "longest_minutes"] == 90
    per_item = dict(ans.tables)["Items left blank (omitted or not reached)"]
    assert per_item[(per_item.form == "A") & (per_item.number == k)].not_reached.tolist() == [2]
    flagged = dict(ans.tables)["Flagged: submitted at the deadline with most answers blank"]
    assert flagged.sitting.tolist() == list(d.forms[0].scores.index[1:3]) and (flagged.answered == 3).all()
    per_rel = dict(secs["Reliability and decision consistency"].tables)["Per form"].set_index("form")
    without = per_rel.loc["A without 2 flagged sitting(s)"]
    a = d.forms[0]
    direct = pm.reliability(a.scores.drop(a.scores.index[1:3]), a.max_points, a.cut, min_n=3)
    assert without.n == 16 and without.alpha == round(direct.alpha, 2)
    # a sitting submitted early with most answers blank is not flagged: it is not a deadline case
    d2 = small_window(cut_short=2)
    d2.results.loc[d2.results.sitting.isin(a.scores.index[1:3]), "submitted_at"] = dt.datetime(2026, 3, 2, 9, 30)
    assert dict({s.title: s for s in sections(d2)}["Answers and time"].tables).get(
        "Flagged: submitted at the deadline with most answers blank") is None


def test_eventually_passed_counts_only_candidates_whose_attempts_are_over():
    d = small_window(cut_short=0)
    d.max_attempts = 2
    r = d.results[d.results.result.isin(["pass", "fail"])]
    per = r.groupby("candidate").agg(passed=("result", lambda x: (x == "pass").any()), attempts=("attempt", "max"))
    out_of = {c for c, b in zip(d.standing.candidate, d.standing.barriers, strict=True) if "no_attempts" in b}
    over = per.passed | (per.attempts >= 2) | per.index.isin(list(out_of))
    done = per[over]
    text = " ".join({s.title: s for s in sections(d)}["Cohort"].text)
    k, n = int(done.passed.sum()), len(done)
    assert f"eventually, among the candidates whose attempts are over: {k} of {n} ({pm.pct(k / n)})" in text
    assert f"{int((~over).sum())} candidate(s) who have not passed are still within 2 attempts" in text
    assert 0 < (~over).sum() < len(per)


def test_eventually_passed_is_not_known_while_nobody_has_failed_out():
    """With three attempts allowed and nobody at the third yet, every candidate whose attempts are over passed:
    "100%" would hold by construction. The report says it is not known yet, and how many are still sitting."""
    d = small_window(cut_short=0)
    d.max_attempts = 3
    d.standing = d.standing.iloc[0:0]  # nobody is out of attempts by today's standing either
    r = d.results[d.results.result.isin(["pass", "fail"])]
    per = r.groupby("candidate").agg(passed=("result", lambda x: (x == "pass").any()), attempts=("attempt", "max"))
    assert (per.attempts < 3).all() and 0 < (~per.passed).sum()  # the premise: nobody failed out yet
    text = " ".join({s.title: s for s in sections(d)}["Cohort"].text)
    still = int((~per.passed).sum())
    assert (f"eventually passed: not known yet (no candidate who has not passed has used all 3 attempts; {still} "
            f"still within them; {int(per.passed.sum())} passed so far)") in text
    assert "eventually, among" not in text


def test_presentation_words_one_rounding_no_none_same_bins_version_and_hash():
    d = small_window()
    secs = sections(d)
    html = render_html(d, secs, "Program")
    text = re.sub(r"<[^>]+>", " ", html)
    assert "None" not in text.split() and "nan" not in text.lower().split()
    for sec in secs:
        for name, df in sec.tables:
            shown = display(df)
            assert not any("_" in c for c in shown.columns), (name, list(shown.columns))
            for col in df.columns:  # one rounding: every float in every table has at most 2 decimals
                for v in df[col]:
                    if isinstance(v, float) and np.isfinite(v):
                        assert v == round(v, 2), (name, col, v)
    assert display(pd.DataFrame({"sd": [1.0], "qwk": [None], "share_B": [0.255]})).to_dict("records") == [
        {"standard deviation": "1.00", "quadratic-weighted kappa": "", "chose B": "0.26"}]
    from exam_builder import __version__

    assert f"exam-builder {__version__} from data with SHA-256 <code>{data_hash(d)[:16]}</code>" in html
    assert data_hash(d) == data_hash(small_window()) != data_hash(small_window(cut_short=1))
    assert list(hist_bins([14.0, 14.0])) == list(np.arange(0, 15.0))
    assert list(hist_bins([57.0, 60.0])) == list(np.arange(0, 62.0, 2))
    assert "every form on the same bins of 1 point(s) from 0 to 14" in html


@pytest.mark.parametrize("n", [10, 19])
def test_the_report_renders_at_the_publishing_floor(n):
    d = big_window(n=n)
    html = render_html(d, sections(d), "Program")
    assert "too few candidates (n = " not in re.sub(r"leniency.*", "", html.split("Per form")[1].split("</table>")[0])


def test_report_settings_refuse_nonsense_naming_the_setting(tmp_path):
    from exam_builder.course import Course
    from exam_builder.errors import ExamBuilderError

    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.ReportSettings.min_n_publish = 12\n"
                                             "c.ReportSettings.subscore_min_reliability = 0.8\n")
    s = Course(root).report_settings
    th = pm.Thresholds.from_settings(s)
    assert (th.min_publish, th.min_stable, th.subscore_min_reliability) == (12, 30, 0.8)
    for line, words in (("c.ReportSettings.min_n_publish = 1", "a statistic needs at least 3 candidates"),
                        ("c.ReportSettings.equivalence_margin = 5", "a share between 0 and 1")):
        (root / "nbgrader_config.py").write_text(f"c = get_config()\n{line}\n")
        with pytest.raises(ExamBuilderError) as err:
            Course(root).report_settings  # noqa: B018 (reading it is the check)
        assert line.split(" = ")[0] in str(err.value) and "nbgrader_config.py" in str(err.value)
        assert words in str(err.value)


def test_minutes_used_are_not_recorded_where_no_answering_time_was_kept():
    """Walk finding 9: the demo's scripted sittings are submitted seconds after they start and paper has no clock;
    their time is "not recorded", never a median of 0 minutes, and a form's timed sittings are counted."""
    d = small_window()
    start = d.results.started_at
    b = d.results.form == "B"
    d.results.loc[b, "submitted_at"] = start[b] + dt.timedelta(seconds=2)  # scripted: no answering time
    a_ids = d.results[d.results.form == "A"].sitting.tolist()
    d.results.loc[d.results.sitting == a_ids[0], "submitted_at"] = start[d.results.sitting == a_ids[0]] \
        + dt.timedelta(seconds=5)
    d.results["mode"] = "online"
    d.results.loc[d.results.sitting == a_ids[1], "mode"] = "paper"
    per_form = dict({s.title: s for s in sections(d)}["Answers and time"].tables)[
        "Omitted and not-reached answers, and time used, per form"].set_index("form")
    assert per_form.loc["B", "median_minutes"] == per_form.loc["B", "longest_minutes"] == "not recorded"
    assert per_form.loc["B", "timed"] == 0
    assert per_form.loc["A", "timed"] == len(a_ids) - 2 and per_form.loc["A", "median_minutes"] == 60
    page = htmllib.unescape(render_html(d, sections(d), "Program"))
    assert "not recorded" in page and "scripted, as the demo's candidates are" in " ".join(page.split())
