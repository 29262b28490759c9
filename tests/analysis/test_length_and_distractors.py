"""Issue 25 §2, the last gaps of the program's report's statistics: the test length the binomial models use
(Livingston & Lewis's effective length, rounded and clamped by a stated rule) against a computation written
here from the moments, and the distractor flags (a minimum of choosers; one flag for one fact on a true/false
item) against a hand-built response matrix."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exam_builder.analysis import psychometrics as P


def _by_hand(rows: list[list[float]]) -> tuple[float, float, float]:
    """Mean, sample variance of the totals and coefficient alpha, in plain Python (no pandas, no pingouin)."""
    n, k = len(rows), len(rows[0])
    totals = [sum(r) for r in rows]
    mean = sum(totals) / n

    def var(xs):
        m = sum(xs) / len(xs)
        return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)

    v = var(totals)
    alpha = k / (k - 1) * (1 - sum(var([r[j] for r in rows]) for j in range(k)) / v)
    return mean, v, alpha


def _form(n: int, seed: int, items: int = 6, open_points: float = 4.0, noise: float = 0.3) -> tuple[pd.DataFrame,
                                                                                                      pd.Series]:
    """``items`` one-point items and one open item of ``open_points``, all driven by one ability: strongly
    consistent items give a high alpha, which puts the effective length above the form's points."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(0, 1, n)
    right = (ability[:, None] + rng.normal(0, noise, (n, items)) > np.linspace(-1, 1, items)[None, :]).astype(float)
    open_item = np.clip(np.round(open_points / 2 + 1.5 * ability), 0, open_points)
    scores = pd.DataFrame(np.c_[right, open_item], columns=range(1, items + 2))
    return scores, pd.Series([1.0] * items + [open_points], index=scores.columns)


def test_an_effective_length_above_the_forms_points_is_clamped_to_the_points_and_used_everywhere():
    scores, mp = _form(18, seed=1)
    points = float(mp.sum())  # 10
    mean, var, alpha = _by_hand(scores.to_numpy(float).tolist())
    estimate = (mean * (points - mean) - alpha * var) / (var * (1 - alpha))  # Livingston & Lewis 1995, eq. 2
    assert estimate > points + 0.5  # the premise: the n = 18 case the issue saw (an estimate over the points)
    cut = 6.0
    r = P.reliability(scores, mp, cut, min_n=10)
    assert r.effective_length == pytest.approx(estimate)
    assert r.length.used == r.model_length == 10 and r.length.clamped == "above the form's 10 points"
    assert r.length.sentence == (f"estimated at {P.show(estimate)}, above the form's 10 points, so clamped to 10, "
                                 "which is used")
    # the conditional SEM is Lord's on the length used: c' = c n / max, (max / n) sqrt(c' (n - c') / (n - 1))
    n = 10
    c = cut * n / points
    assert r.csem_at_cut == pytest.approx(points / n * math.sqrt(c * (n - c) / (n - 1)))
    # both consistency methods run on it: the beta-binomial's moments on the 10-item scale
    totals = scores.sum(axis=1).to_numpy(float)
    a, b = mean * (1 / alpha - 1), (n - mean) * (1 / alpha - 1)  # Huynh 1976, the scale is the points here
    bb = P.beta_binomial_classification(a, b, n, math.ceil(c), cut / points)
    got = r.classifications[1]
    assert (got.p0, got.accuracy) == pytest.approx((bb.p0, bb.accuracy))
    assert r.model_cut == 6 and totals.max() <= points


def test_an_effective_length_within_range_is_the_estimate_rounded():
    scores, mp = _form(40, seed=4, items=6, open_points=4.0, noise=1.6)
    points = float(mp.sum())
    mean, var, alpha = _by_hand(scores.to_numpy(float).tolist())
    estimate = (mean * (points - mean) - alpha * var) / (var * (1 - alpha))
    assert 2 <= round(estimate) <= points  # the premise
    r = P.reliability(scores, mp, 6.0, min_n=10)
    assert r.length.used == round(estimate) and r.length.clamped == ""
    assert r.length.sentence == f"estimated at {P.show(estimate)}; rounded, {round(estimate)} is used"


def test_the_length_rule_at_its_bounds_and_for_right_or_wrong_forms():
    low = P.model_length(1.4, 57, 3, dichotomous=False)
    assert (low.used, low.clamped) == (2, "below 2") and "clamped to 2" in low.sentence
    assert P.model_length(0.3, 57, 3, False).used == 2
    assert P.model_length(57.4, 57, 42, False).used == 57 and P.model_length(57.4, 57, 42, False).clamped == ""
    assert P.model_length(57.6, 57, 42, False).used == 57 and P.model_length(57.6, 57, 42, False).clamped
    assert P.model_length(73.31, 57.5, 42, False).used == 57  # whole points only
    none = P.model_length(None, 57, 42, False)
    assert none.used is None and "no binomial model is run" in none.sentence
    assert P.model_length(40.0, 40, 40, dichotomous=True).used == 40  # right-or-wrong: the items, no estimate
    x = pd.DataFrame((np.random.default_rng(2).random((30, 12)) < 0.6).astype(float))
    r = P.reliability(x, pd.Series(1.0, index=x.columns), 7, min_n=10)
    assert r.length.used == 12 and r.length.sentence == "every item is right or wrong, so its 12 items are used"


def _matrix(answers: dict[int, list[str | None]], keys: dict[int, str], n: int) -> tuple[pd.DataFrame, ...]:
    """Scores (1 for the key) and choices of ``n`` candidates, plus filler items that set who is strong."""
    choices = pd.DataFrame(answers, dtype=object)
    scores = pd.DataFrame({i: [1.0 if v == keys[i] else 0.0 for v in col] for i, col in answers.items()})
    # six filler items: candidate j answers j // 3 of them right, so the later candidates are the strong ones
    for f in range(6):
        scores[100 + f] = [1.0 if f < j // 3 else 0.0 for j in range(n)]
    return scores, pd.Series(1.0, index=scores.columns), choices.reindex(columns=scores.columns), pd.Series(
        keys, dtype=object)


def test_a_distractor_chosen_by_fewer_than_the_minimum_is_never_flagged():
    n = 18
    # item 1 (key A): D is chosen by one candidate, the strongest; C by the three strongest after them
    item1: list[str | None] = ["B"] * 5 + ["A"] * 9 + ["C"] * 3 + ["D"]
    # item 2 (key A): B by two strong candidates only
    item2: list[str | None] = ["C"] * 4 + ["A"] * 12 + ["B"] * 2
    scores, mp, choices, keys = _matrix({1: item1, 2: item2}, {1: "A", 2: "A"}, n)
    rest = scores.sum(axis=1) - scores[1]
    rpb_d = np.corrcoef([v == "D" for v in item1], rest)[0, 1]
    rpb_c = np.corrcoef([v == "C" for v in item1], rest)[0, 1]
    assert rpb_d > 0 and rpb_c > 0  # the premise: both pull strong candidates
    out = P.item_stats(scores, mp, choices, keys, min_n=10, options={1: 4, 2: 4}, min_choosers=3).set_index("item")
    assert out.loc[1, "rpb_D"] == pytest.approx(rpb_d) and out.loc[1, "rpb_C"] == pytest.approx(rpb_c)
    assert "distractor C chosen more by strong candidates" in out.loc[1, "flags"]
    assert "distractor D" not in out.loc[1, "flags"]  # one candidate: a fact about them, not the option
    assert "distractor B" not in out.loc[2, "flags"]  # two candidates, under the minimum of 3
    loose = P.item_stats(scores, mp, choices, keys, min_n=10, options={1: 4, 2: 4}, min_choosers=1).set_index("item")
    assert "distractor D chosen more" in loose.loc[1, "flags"] and "distractor B chosen more" in loose.loc[2, "flags"]


def test_a_true_false_item_gets_one_flag_for_one_fact_and_no_options_it_does_not_offer():
    n = 18
    # key A; the six strongest answer B: negative discrimination, and B "chosen more by strong candidates"
    tf: list[str | None] = ["A"] * 12 + ["B"] * 6
    mc: list[str | None] = ["C"] + ["A"] * 11 + ["B"] * 6  # much the same on a four-option item: two facts, two flags
    scores, mp, choices, keys = _matrix({1: tf, 2: mc}, {1: "A", 2: "A"}, n)
    rest = scores.sum(axis=1) - scores[1]
    assert np.corrcoef(scores[1], rest)[0, 1] < 0 < np.corrcoef([v == "B" for v in tf], rest)[0, 1]
    out = P.item_stats(scores, mp, choices, keys, min_n=10, options={1: 2, 2: 4}).set_index("item")
    assert out.loc[1, "flags"] == "negative discrimination (small sample, n = 18)"
    assert out.loc[2, "flags"].count("; ") == 1 and "distractor B" in out.loc[2, "flags"]
    assert pd.isna(out.loc[1, "share_C"]) and pd.isna(out.loc[1, "rpb_C"])  # true/false offers A and B only
    assert out.loc[2, "share_C"] == pytest.approx(1 / 18) and out.loc[1, "share_B"] == pytest.approx(6 / 18)
    # without the options (``exam-builder analyse``'s call), the former reading stands
    plain = P.item_stats(scores, mp, choices, keys, min_n=10).set_index("item")
    assert "distractor B" in plain.loc[1, "flags"]


def test_show_writes_every_figure_with_two_decimals_and_counts_whole():
    assert [P.show(v) for v in (0.8, 0.804, 1.0, -0.0001, np.float64(0.5), 3, np.int64(19), None, float("nan"))] \
        == ["0.80", "0.80", "1.00", "0.00", "0.50", "3", "19", "", ""]
    assert [P.whole(v) for v in (57.0, 2.0, 38.9, 12)] == ["57", "2", "38.90", "12"]
    assert [P.pct(v) for v in (0.05, 0.4167, 0.2, 1.0)] == ["5%", "42%", "20%", "100%"]
