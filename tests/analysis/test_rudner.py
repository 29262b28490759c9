"""Issue 25 §2, classification accuracy by a second method: Rudner's (2001, 2005) expected accuracy without IRT
(each candidate's true score normal around their observed score, the conditional SEM at that score as its SD),
checked against computations written here that share nothing with the code: the normal density integrated
numerically in plain Python, a Monte Carlo draw of true scores, values read from the standard normal table, and
Lord's conditional SEM by hand. No published worked example of the observed-score form was at hand (Rudner's
papers illustrate the IRT form); the standard normal table's 0.975 at z = 1.96 anchors the hand values."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exam_builder.analysis import psychometrics as P


def _above(x: float, s: float, cut: float, steps: int = 20000) -> float:
    """P(true score >= cut) for a true score normal with mean x and SD s: the density integrated by Simpson's rule
    from the cut to 12 SDs past the larger of the two (plain Python, no scipy)."""
    if s == 0:
        return 1.0 if x >= cut else 0.0
    lo, hi = cut, max(cut, x) + 12 * s
    h = (hi - lo) / steps

    def pdf(t: float) -> float:
        return math.exp(-0.5 * ((t - x) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    total = pdf(lo) + pdf(hi) + sum((4 if i % 2 else 2) * pdf(lo + i * h) for i in range(1, steps))
    return total * h / 3


def _by_integration(xs, ss, cut):
    above = [_above(x, s, cut) for x, s in zip(xs, ss, strict=True)]
    n = len(xs)
    false_pass = sum(1 - a for x, a in zip(xs, above, strict=True) if x >= cut) / n
    false_fail = sum(a for x, a in zip(xs, above, strict=True) if x < cut) / n
    return 1 - false_pass - false_fail, false_pass, false_fail


def test_rudner_against_numerical_integration_of_the_normal_density():
    rng = np.random.default_rng(7)
    xs = rng.integers(0, 41, 25).astype(float)
    ss = np.array([math.sqrt(x * (40 - x) / 39) for x in xs])  # any spread will do; zeros at the ends
    cut = 26.0
    got = P.rudner_classification(xs, ss, cut)
    acc, fp, ff = _by_integration(xs.tolist(), ss.tolist(), cut)
    assert got.method == P.RUDNER and got.p0 is None and got.kappa is None  # accuracy only
    assert (got.accuracy, got.false_pass, got.false_fail) == pytest.approx((acc, fp, ff), abs=1e-9)
    assert got.accuracy + got.false_pass + got.false_fail == pytest.approx(1)


def test_rudner_against_a_monte_carlo_draw_of_true_scores():
    """Draw each candidate's true score from N(score, CSEM) many times and count those on the other side of the cut
    from their result: the shares match the closed form within the draw's error."""
    rng = np.random.default_rng(11)
    xs = np.round(rng.normal(30, 5, 18), 1)
    ss = rng.uniform(1.0, 3.0, 18)
    cut = 31.5
    draws = 200_000
    true = rng.normal(xs[:, None], ss[:, None], (18, draws))
    passed = (xs >= cut)[:, None]
    fp = float(np.mean(passed & (true < cut)))
    ff = float(np.mean(~passed & (true >= cut)))
    got = P.rudner_classification(xs, ss, cut)
    assert got.false_pass == pytest.approx(fp, abs=2e-3)
    assert got.false_fail == pytest.approx(ff, abs=2e-3)
    assert got.accuracy == pytest.approx(1 - fp - ff, abs=3e-3)


def test_rudner_by_the_normal_table():
    """A candidate at the cut passes and is a true pass by half (z = 0); one 1.96 SEMs above it is a false pass
    with chance 0.025, one 1.96 SEMs below a false fail with chance 0.025 (Phi(1.96) = 0.975 in any table); a
    score with no error (a CSEM of 0, at an end of the scale) is taken as it is."""
    at_cut = P.rudner_classification([20.0], [2.0], 20.0)
    assert (at_cut.accuracy, at_cut.false_pass, at_cut.false_fail) == pytest.approx((0.5, 0.5, 0.0))
    above = P.rudner_classification([20 + 1.96 * 2], [2.0], 20.0)
    assert above.false_pass == pytest.approx(0.025, abs=5e-5) and above.false_fail == 0
    below = P.rudner_classification([20 - 1.96 * 2], [2.0], 20.0)
    assert below.false_fail == pytest.approx(0.025, abs=5e-5) and below.false_pass == 0
    four = P.rudner_classification([20.0, 20 + 1.96 * 2, 20 - 1.96 * 2, 40.0], [2.0, 2.0, 2.0, 0.0], 20.0)
    assert four.false_pass == pytest.approx((0.5 + 0.025) / 4, abs=5e-5)
    assert four.false_fail == pytest.approx(0.025 / 4, abs=5e-5)
    assert P.rudner_classification([0.0, 40.0], [0.0, 0.0], 20.0).accuracy == 1.0
    assert P.rudner_classification([], [], 20.0).accuracy is None


def _rasch(n, k=40, seed=1):
    rng = np.random.default_rng(seed)
    th = rng.normal(size=n)
    b = np.linspace(-2, 1, k)
    x = (rng.random((n, k)) < 1 / (1 + np.exp(-(th[:, None] - b)))).astype(float)
    cols = list(range(1, k + 1))
    return pd.DataFrame(x, columns=cols), pd.Series(1.0, index=cols)


def test_the_form_reports_rudners_accuracy_beside_the_beta_binomials_on_lords_csem():
    """On a form of right-or-wrong items, Rudner's row uses each candidate's number right and Lord's
    sqrt(x (k - x) / (k - 1)) at it, worked here by hand; the same rule gives the CSEM at the cut."""
    x, mp = _rasch(18)
    r = P.reliability(x, mp, 26, min_n=10)
    assert [c.method for c in r.classifications] == ["Subkoviak", "Livingston-Lewis / Huynh beta-binomial", P.RUDNER]
    totals = x.sum(axis=1).tolist()
    acc, fp, ff = _by_integration(totals, [math.sqrt(t * (40 - t) / 39) for t in totals], 26.0)
    rud = r.classifications[2]
    assert (rud.accuracy, rud.false_pass, rud.false_fail) == pytest.approx((acc, fp, ff), abs=1e-9)
    assert P.model_csem([26.0], 40, 40.0)[0] == pytest.approx(r.csem_at_cut)


def test_on_the_effective_length_the_csem_is_scaled_back_to_points_and_pooling_keeps_accuracy_only():
    """A form of unequal items: each total is put on the length used (x n / max), Lord's CSEM taken there and
    scaled back to points, as at the cut. Pooled over forms, Rudner's accuracy is the forms' weighted by their
    candidates, and it stays accuracy only (no p0 or kappa invented)."""
    rng = np.random.default_rng(3)
    forms = []
    for n in (18, 15):
        ability = rng.normal(0, 1, n)
        right = (ability[:, None] + rng.normal(0, 1.0, (n, 8)) > np.linspace(-1, 1, 8)[None, :]).astype(float)
        open_item = np.clip(np.round(2 + 1.2 * ability + rng.normal(0, 0.8, n)), 0, 4)
        scores = pd.DataFrame(np.c_[right, open_item], columns=range(1, 10))
        forms.append((scores, pd.Series([1.0] * 8 + [4.0], index=scores.columns), 7.0))
    rels = [P.reliability(s, mp, cut, min_n=10) for s, mp, cut in forms]
    for (scores, _mp, cut), r in zip(forms, rels, strict=True):
        n = r.model_length
        assert n is not None and r.length.estimate is not None and r.k == 9
        totals = scores.sum(axis=1).tolist()
        csem = [12 / n * math.sqrt((t * n / 12) * (n - t * n / 12) / (n - 1)) for t in totals]
        acc, fp, ff = _by_integration(totals, csem, cut)
        rud = next(c for c in r.classifications if c.method == P.RUDNER)
        assert (rud.accuracy, rud.false_pass, rud.false_fail) == pytest.approx((acc, fp, ff), abs=1e-9)
    pooled = P.pooled_reliability(forms)
    rud = next(c for c in pooled.classifications if c.method == P.RUDNER)
    per = [next(c for c in r.classifications if c.method == P.RUDNER) for r in rels]
    assert rud.accuracy == pytest.approx(np.average([p.accuracy for p in per], weights=[18, 15]))
    assert rud.p0 is None and rud.kappa is None
