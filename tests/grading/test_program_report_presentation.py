"""Issue 25 §2 "Presentation" and "never print a claim the data cannot carry", on the rendered program's report
(a made-up window at the demo's size, ``report_synthetic``): the test length the models used said in a sentence
beside the table, accuracy by two named methods (no blank cell), short alt texts whose data are in a
linked table, one rounding for every figure (a regex over the whole page), competencies by name, and the
distractor minimum as a setting."""
from __future__ import annotations

import html as htmllib
import re

import numpy as np
import pytest
from report_synthetic import big_window

from exam_builder.analysis import psychometrics as pm
from exam_builder.analysis.report import ALT_MAX, NOT_GIVEN, equating_rows, render_html, sections

#: A decimal number in the page's text: the digits after the point are the rounding it was printed with
#: (a version "0.1.0" or a date is not one: no digit or point may touch it).
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.(\d+)(?![\w.])")


def _window(n: int = 18):
    d = big_window(n=n)
    d.results = d.results.rename(columns={"sub:Recovery": "sub:peer-support"})
    d.competency_names = {"peer-support": "Peer Support", "change-agent": "Change Agent"}
    return d


def _page(d) -> str:
    return render_html(d, sections(d), "Program")


@pytest.fixture(scope="module")
def shown():
    """The window and its page, rendered once for the tests that only read it."""
    d = _window()
    return d, _page(d)


def _text(page: str) -> str:
    page = re.sub(r'src="data:image/png;base64,[^"]*"', "", page)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def _table(page: str, name: str) -> list[list[str]]:
    """The rendered table under the heading ``name``: its rows of cell texts, the header row first."""
    part = page.split(f">{htmllib.escape(name)}</h3>", 1)[1].split("</table>", 1)[0]
    return [[htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r,
                                                                                   flags=re.S)]
            for r in re.findall(r"<tr[^>]*>(.*?)</tr>", part, flags=re.S)]


def test_the_page_says_what_the_effective_test_length_is_and_which_value_each_form_used():
    d = _window()
    page = _page(d)
    text = " ".join(_text(page).split())
    assert "the effective test length, the number of right-or-wrong, equally hard, independent items" in text
    assert "Livingston & Lewis 1995" in text and "Hanson & Brennan 1990" in text
    assert ("((mean - lowest) x (points - mean) - r x variance) / (variance x (1 - r)) with r the form's alpha and "
            "the lowest possible score 0 (Livingston & Lewis 1995)") in text
    rows = _table(page, "Per form")
    head = rows[0]
    for f in d.forms:
        direct = pm.reliability(f.scores, f.max_points, f.cut, min_n=10)
        assert f"Form {f.label}: {direct.length.sentence}." in text
        row = dict(zip(head, next(r for r in rows if r[0] == f.label), strict=True))
        used = str(direct.length.used) + (f" (clamped: estimate {direct.length.clamped})" if direct.length.clamped
                                          else "")
        assert row["test length used by the models"] == used
        assert row["effective test length (estimate)"] == pm.show(direct.effective_length)
    # a form whose estimate runs past its points says so in its row and its sentence
    a = d.forms[0]
    strong = a.scores.copy()
    ability = strong.sum(axis=1).rank(method="first").to_numpy() / len(strong)
    for j, col in enumerate(strong.columns[:-1]):
        strong[col] = (ability > (j + 1) / (len(strong.columns) + 1)).astype(float)
    strong[strong.columns[-1]] = (ability * 4).round().clip(0, 4)
    a.scores = strong
    direct = pm.reliability(a.scores, a.max_points, a.cut, min_n=10)
    assert direct.length.clamped == "above the form's 14 points"  # the premise
    text = " ".join(_text(_page(d)).split())
    assert f"Form A: estimated at {pm.show(direct.effective_length)}, above the form's 14 points, so clamped to 14, " \
           "which is used." in text


def test_accuracy_by_two_named_methods_side_by_side_and_no_cell_is_blank(shown):
    d, page = shown
    rows = _table(page, "Decision consistency and accuracy")
    head = rows[0]
    assert len(rows) == 1 + 3 * 3  # two forms and the pooled figure, by three methods
    for r in rows[1:]:
        row = dict(zip(head, r, strict=True))
        pooled = row["form"].endswith("pooled")
        # no blank cell, no "None": only the pooled rows and the figures a method does not give have no interval
        assert all(v or (k.endswith("95% interval") and (pooled or k.split(" ")[0] in ("accuracy", "false")
                                                         and row["method"] == "Subkoviak"
                                                         or k.split(" ")[0] in ("consistency", "kappa")
                                                         and row["method"] == pm.RUDNER))
                   for k, v in row.items()), row
        if row["method"] == "Subkoviak":
            assert row["accuracy"] == row["false passes"] == row["false fails"] == NOT_GIVEN
        elif row["method"] == pm.RUDNER:
            assert row["consistency (p0)"] == row["kappa (beyond chance)"] == NOT_GIVEN
            assert re.fullmatch(r"\d\.\d\d", row["accuracy"])
        else:
            assert row["method"] == "Livingston-Lewis / Huynh beta-binomial"
            assert re.fullmatch(r"\d\.\d\d", row["accuracy"])
    for f in d.forms:  # Rudner's row is the engine's, beside the beta-binomial's, for every form
        direct = pm.reliability(f.scores.dropna(), f.max_points, f.cut, min_n=10)
        want = next(c for c in direct.classifications if c.method == pm.RUDNER)
        row = dict(zip(head, next(r for r in rows if r[0] == f.label and r[1] == pm.RUDNER), strict=True))
        assert [row["accuracy"], row["false passes"], row["false fails"]] == [
            pm.show(want.accuracy), pm.show(want.false_pass), pm.show(want.false_fail)]
        assert row["cut the model used (points)"] == pm.show(f.cut)  # it compares scores in points
        # the binomial models' cut, on the test length, put back in points: one unit in the column
        bb = dict(zip(head, next(r for r in rows if r[0] == f.label and r[1] == "Subkoviak"), strict=True))
        assert bb["cut the model used (points)"] == pm.show(direct.model_cut * f.max_total / direct.model_length)
        # each figure's interval: an independent percentile bootstrap over candidates (same seeded draws)
        data = f.scores.dropna()
        rng = np.random.default_rng(0)
        p0s, accs = [], []
        for _ in range(pm.CLASSIFICATION_REPLICATES):
            draw = data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)
            got = pm.reliability(draw, f.max_points, f.cut, min_n=2).classifications
            p0s.append(next(c.p0 for c in got if c.method == "Subkoviak"))
            accs.append(next(c.accuracy for c in got if c.method == pm.RUDNER))
        assert bb["consistency 95% interval"] == f"{pm.show(np.percentile(p0s, 2.5))} to " \
                                                 f"{pm.show(np.percentile(p0s, 97.5))}"
        assert row["accuracy 95% interval"] == f"{pm.show(np.percentile(accs, 2.5))} to " \
                                               f"{pm.show(np.percentile(accs, 97.5))}"
    text = " ".join(_text(page).split())
    assert "come from two methods, the beta-binomial model and Rudner's, each in its own row" in text
    assert "Rudner's (2001, 2005), which needs no model of the true scores" in text
    assert "None" not in text.split()


def test_alt_texts_are_short_and_the_data_are_in_a_linked_table(shown):
    _d, page = shown
    figures = re.findall(r'<figure><img [^>]*alt="([^"]*)"><figcaption>(.*?)</figcaption></figure>', page, flags=re.S)
    assert len(figures) >= 4
    for alt, caption in figures:
        alt = htmllib.unescape(alt)
        words = htmllib.unescape(re.sub(r"<[^>]+>", "", caption))
        assert len(alt) < ALT_MAX and 1 <= alt.count(". ") + alt.endswith(".") <= 2, alt
        assert alt not in words and words not in alt  # the caption is not the alt again
        target = re.search(r'<a href="#([^"]+)">', caption)
        assert target and f'<h3 id="{target.group(1)}">' in page, caption  # the data: a table on the page
        assert f"tables/{target.group(1)}.csv" in words
    items = next((a, c) for a, c in figures if a.startswith("Scatter plot of facility against discrimination"))
    assert "Facility, discrimination, distractors and flags" in items[1]


def test_one_rounding_for_every_figure_on_the_page(shown):
    """Every decimal printed anywhere on the page (tables, sentences, captions, alt texts) has two places:
    0.80, never 0.8; a coefficient of 1 reads 1.00 (checked in the coefficient columns)."""
    _d, page = shown
    text = _text(page) + " " + " ".join(re.findall(r'alt="([^"]*)"', page))
    found = DECIMAL.findall(text)
    assert len(found) > 300 and {len(places) for places in found} == {2}, sorted(
        {m.group(0) for m in DECIMAL.finditer(text) if len(m.group(1)) != 2})[:20]
    coefficients = {"reliability", "consistency (p0)", "kappa (beyond chance)", "accuracy", "facility",
                    "discrimination", "exact agreement", "agreement within one level", "quadratic-weighted kappa",
                    "intraclass correlation", "pass rate"}
    seen = 0
    for name in ("Per form", "Decision consistency and accuracy", "Facility, discrimination, distractors and flags",
                 "Agreement per item and rater pair", "Pass rate per cohort and form (decided sittings)"):
        rows = _table(page, name)
        for col, head in enumerate(rows[0]):
            if head in coefficients:
                for r in rows[1:]:
                    assert r[col] in ("", NOT_GIVEN) or re.fullmatch(r"-?\d\.\d\d", r[col]), (
                        name, head, r)
                    seen += bool(r[col])
    assert seen > 50
    assert pm.show(1.0) == "1.00" and pm.show(0.8) == "0.80"  # the one path the page's numbers take


def test_competencies_are_named_in_words_never_by_slug(shown):
    _d, page = shown
    d = _window()
    rows = _table(page, "Mean share of points per competency")
    assert rows[0] == ["form", "competency", "candidates", "mean share of the points", "mean 95% low", "mean 95% high"]
    assert {r[1] for r in rows[1:]} == {"Peer Support"}
    assert "peer-support" not in _text(page)
    # an anchor that leaves a competency out names it in words
    a, b = d.forms
    for f in (a, b):
        f.competencies = {num: ("peer-support" if num <= 4 else "change-agent") for num in f.scores.columns}
    reading = [r["reading"] for r in equating_rows(d.forms, pm.Thresholds(), d.competency_names)]
    assert reading == ["the shared items leave out Change Agent: not content-representative, so not an anchor"]


def test_the_distractor_minimum_is_a_setting_and_the_page_states_it(tmp_path):
    from exam_builder.course import Course
    from exam_builder.errors import ExamBuilderError

    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.ReportSettings.distractor_min_choosers = 5\n")
    th = pm.Thresholds.from_settings(Course(root).report_settings)
    assert th.distractor_min_choosers == 5
    d = _window()
    d.thresholds = th
    secs = {s.title: s for s in sections(d)}
    assert "only when at least 5 candidates chose it (c.ReportSettings.distractor_min_choosers)" in " ".join(
        secs["Items"].text)

    def few(th) -> int:
        """Distractor flags on fewer than 5 choosers, over both forms, under ``th``."""
        d.thresholds = th
        items = dict({s.title: s for s in sections(d)}["Items"].tables)[
            "Facility, discrimination, distractors and flags"]
        count = 0
        for f in d.forms:
            rows = items[items.form == f.label].set_index("number")
            for num, flags in rows["flags"].items():
                count += sum((f.choices[num] == lab).sum() < 5 for lab in re.findall(r"distractor (\w) chosen", flags))
        return count

    assert few(pm.Thresholds(distractor_min_choosers=1)) > 0  # the premise: such flags are raised without it
    assert few(th) == 0
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.ReportSettings.distractor_min_choosers = 0\n")
    with pytest.raises(ExamBuilderError) as err:
        Course(root).report_settings  # noqa: B018 (reading it is the check)
    assert "c.ReportSettings.distractor_min_choosers = 0 in nbgrader_config.py" in str(err.value)
