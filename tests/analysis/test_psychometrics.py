"""exam_builder.analysis.psychometrics against independent computations on fixed data."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from exam_builder.analysis import psychometrics as P
from exam_builder.analysis.psychometrics import MIN_N, TooFew

# A Guttman pattern: 5 candidates x 4 items. By hand: p = .8 .6 .4 .2, sum pq = .16+.24+.24+.16 = .80;
# totals 4 3 2 1 0, mean 2, variance (population) 2; KR-20 = 4/3 (1 - .8/2) = 0.8.
GUTTMAN = [[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]


def guttman(times=6) -> tuple[pd.DataFrame, pd.Series]:
    x = pd.DataFrame(np.tile(GUTTMAN, (times, 1)).astype(float), columns=["i1", "i2", "i3", "i4"])
    return x, pd.Series(1.0, index=x.columns)


def rasch(n=400, k=20, seed=1):
    rng = np.random.default_rng(seed)
    th = rng.normal(size=n)
    b = np.linspace(-2, 2, k)
    x = (rng.random((n, k)) < 1 / (1 + np.exp(-(th[:, None] - b)))).astype(float)
    cols = [f"q{i}" for i in range(k)]
    return pd.DataFrame(x, columns=cols), pd.Series(1.0, index=cols)


def test_too_few_reads_plainly():
    assert str(TooFew(12, 30)) == "too few candidates (n = 12; needs 30)"
    assert MIN_N == 30


# ---------------------------------------------------------------------------------------------- reliability

def test_kr20_hand_computed_guttman():
    x, mp = guttman()
    r = P.reliability(x, mp, cut=3)
    assert r.n == 30 and r.k == 4 and r.alpha_name == "KR-20"
    assert r.alpha == pytest.approx(0.8, abs=1e-12)
    sd = np.tile([4, 3, 2, 1, 0], 6).std(ddof=1)
    assert r.sd == pytest.approx(sd)
    assert r.sem == pytest.approx(sd * math.sqrt(0.2))
    # Feldt's interval, computed directly from the F distribution
    lo = 1 - 0.2 * stats.f.ppf(0.975, 29, 29 * 3)
    hi = 1 - 0.2 * stats.f.ppf(0.025, 29, 29 * 3)
    assert r.alpha_ci == pytest.approx((lo, hi), abs=6e-4)  # pingouin rounds to 3 decimals
    assert P.feldt_ci(0.8, 30, 4) == pytest.approx((lo, hi))
    # Lord's binomial CSEM at cut 3 of 4 items: sqrt(3 * 1 / 3) = 1
    assert r.csem_at_cut == pytest.approx(1.0)
    assert r.pass_rate == pytest.approx(0.4)


def test_kr20_equals_textbook_formula_on_simulated_items():
    x, mp = rasch()
    r = P.reliability(x, mp, cut=12)
    p = x.mean()
    k = x.shape[1]
    kr20 = k / (k - 1) * (1 - (p * (1 - p)).sum() / x.sum(axis=1).var(ddof=0))
    assert r.alpha == pytest.approx(kr20, abs=1e-12)
    assert r.csem_at_cut == pytest.approx(math.sqrt(12 * 8 / 19))


def test_alpha_polytomous_matches_covariance_formula():
    rng = np.random.default_rng(3)
    th = rng.normal(size=120)
    x = pd.DataFrame(np.clip(np.rint(2 + th[:, None] + rng.normal(size=(120, 6))), 0, 4),
                     columns=list("abcdef"))
    mp = pd.Series(4.0, index=x.columns)
    r = P.reliability(x, mp, cut=14)
    c = x.cov().to_numpy()
    assert r.alpha_name == "alpha"
    assert r.alpha == pytest.approx(6 / 5 * (1 - np.trace(c) / c.sum()))
    assert r.p0 is not None and 0.5 < r.p0 <= 1 and r.kappa is not None
    assert r.csem_at_cut is not None and r.csem_at_cut > 0


def test_livingston_lewis_length_is_k_for_kr21():
    x, _ = rasch()
    t = x.sum(axis=1)
    m, v = t.mean(), t.var(ddof=1)
    r21 = P.kr21(m, v, 20)
    assert P.effective_length(m, v, r21, 0, 20) == pytest.approx(20)


def test_subkoviak_against_simulated_parallel_forms():
    """Beta true scores, two binomial parallel forms (fixed seed): the single-administration
    estimate from form 1 matches the agreement actually seen between forms 1 and 2."""
    rng = np.random.default_rng(2024)
    n, k, cut = 20000, 40, 26
    p = rng.beta(8, 5, n)
    f1, f2 = rng.binomial(k, p), rng.binomial(k, p)
    pass1, pass2 = f1 >= cut, f2 >= cut
    p0_true = np.mean(pass1 == pass2)
    pc = pass1.mean() * pass2.mean() + (1 - pass1.mean()) * (1 - pass2.mean())
    kappa_true = (p0_true - pc) / (1 - pc)
    r21 = P.kr21(f1.mean(), f1.var(ddof=1), k)
    p0, kappa = P.subkoviak(f1, k, cut, r21)
    # the method is known to be conservative (point estimates of p_i): within a few points below
    assert p0_true - 0.04 <= p0 <= p0_true
    assert kappa_true - 0.08 <= kappa <= kappa_true
    # its binomial step is exact: with each candidate's true p, the formula gives the observed agreement
    Pi = stats.binom.sf(cut - 1, k, p)
    assert np.mean(Pi ** 2 + (1 - Pi) ** 2) == pytest.approx(p0_true, abs=0.01)


def test_subkoviak_formula_by_hand():
    # r = 1: p_i = x_i / n; with n = 2, cut 2: P_i = p_i^2.
    x = np.array([0.0, 1.0, 2.0])
    P_ = np.array([0.0, 0.25, 1.0])
    p0_hand = np.mean(P_ ** 2 + (1 - P_) ** 2)
    pbar = P_.mean()
    pc = pbar ** 2 + (1 - pbar) ** 2
    p0, kappa = P.subkoviak(x, 2, 2, 1.0)
    assert p0 == pytest.approx(p0_hand)
    assert kappa == pytest.approx((p0_hand - pc) / (1 - pc))
    # r = 0: everyone is the mean, so agreement is all chance
    assert P.subkoviak(x, 2, 2, 0.0)[1] == pytest.approx(0.0, abs=1e-12)


def test_reliability_on_the_dataset_through_subkoviak():
    x, mp = rasch()
    r = P.reliability(x, mp, cut=12)
    t = x.sum(axis=1).to_numpy()
    assert (r.p0, r.kappa) == pytest.approx(P.subkoviak(t, 20, 12, P.kr21(t.mean(), t.var(ddof=1), 20)))
    assert r.model_reliability < r.alpha  # KR-21 <= KR-20


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_reliability_zero_variance_all_wrong_all_right(value):
    x = pd.DataFrame(value, index=range(40), columns=list("abcd"))
    r = P.reliability(x, pd.Series(1.0, index=x.columns), cut=3)
    assert r.alpha is None and r.sem is None and r.alpha_ci is None
    assert r.p0 is None and r.kappa is None
    assert r.pass_rate == (1.0 if value else 0.0)
    assert r.notes


def test_reliability_too_few_one_candidate_nan_and_empty():
    x, mp = guttman()
    assert P.reliability(x.iloc[:1], mp, 3) == TooFew(1, 30)
    assert P.reliability(x.iloc[:0], mp, 3) == TooFew(0, 30)
    y = x.copy()
    y.iloc[0, 0] = np.nan  # a pending score: candidate left out, not read as 0
    assert P.reliability(y, mp, 3) == TooFew(29, 30)
    one = P.reliability(x[["i1"]], mp[["i1"]], 1)
    assert one.alpha is None


# ---------------------------------------------------------------------------------------------- items

def test_item_stats_against_direct_computation():
    x, mp = rasch(n=300, k=8, seed=5)
    rng = np.random.default_rng(5)
    choices = pd.DataFrame(np.where(x == 1, "A", rng.choice(["B", "C", "D"], size=x.shape)), columns=x.columns)
    keys = pd.Series("A", index=x.columns)
    # q3: a distractor the strong choose: strongest wrong candidates pick C
    total = x.sum(axis=1)
    wrong = x["q3"] == 0
    choices.loc[wrong, "q3"] = np.where(total[wrong] > total[wrong].median(), "C", "B")
    choices.loc[choices.index[:5], "q0"] = np.nan
    df = P.item_stats(x, mp, choices, keys).set_index("item")
    for c in x.columns:
        rest = total - x[c]
        assert df.loc[c, "facility"] == pytest.approx(x[c].mean())
        assert df.loc[c, "discrimination"] == pytest.approx(np.corrcoef(x[c], rest)[0, 1])
        for lab in "ABCD":
            ind = (choices[c] == lab).astype(float)
            assert df.loc[c, f"share_{lab}"] == pytest.approx(ind.mean())
            if ind.std() > 0:
                assert df.loc[c, f"rpb_{lab}"] == pytest.approx(np.corrcoef(ind, rest)[0, 1])
    assert df.loc["q0", "share_blank"] == pytest.approx(5 / 300)
    assert "distractor C chosen more by strong candidates" in df.loc["q3", "flags"]


def test_item_flags():
    rng = np.random.default_rng(7)
    n = 100
    th = rng.normal(size=n)
    good = (th > 0).astype(float)
    x = pd.DataFrame({"easy": np.r_[np.ones(n - 2), 0, 0], "hard": np.r_[np.zeros(n - 5), np.ones(5)],
                      "neg": (th < 0).astype(float), "g1": good, "g2": (th > -0.3).astype(float),
                      "g3": (th > 0.3).astype(float), "const": np.ones(n)})
    df = P.item_stats(x, pd.Series(1.0, index=x.columns)).set_index("item")
    assert "too easy" in df.loc["easy", "flags"]
    assert "too hard" in df.loc["hard", "flags"]
    assert "negative discrimination" in df.loc["neg", "flags"]
    assert df.loc["g1", "flags"] == ""
    assert pd.isna(df.loc["const", "discrimination"]) and "no variance" in df.loc["const", "note"]


def test_item_stats_too_few_and_empty():
    x, mp = guttman(times=2)
    df = P.item_stats(x, mp)
    assert df["discrimination"].isna().all() and (df["flags"] == "").all()
    assert (df["note"] == "too few candidates (n = 10; needs 30)").all()
    assert df["facility"].tolist() == pytest.approx([0.8, 0.6, 0.4, 0.2])
    empty = P.item_stats(x.iloc[:0], mp)
    assert empty["facility"].isna().all() and len(empty) == 4


# ---------------------------------------------------------------------------------------------- raters

def qwk_direct(a, b, levels):
    obs = np.zeros((levels, levels))
    for i, j in zip(a, b, strict=True):
        obs[i, j] += 1
    E = np.outer(obs.sum(1), obs.sum(0)) / obs.sum()
    w = np.subtract.outer(np.arange(levels), np.arange(levels)) ** 2 / (levels - 1) ** 2
    return 1 - (w * obs).sum() / (w * E).sum()


def icc21_direct(a, b):  # Shrout & Fleiss (1979) case 2, single rater
    x = np.c_[a, b].astype(float)
    n, k = x.shape
    gm = x.mean()
    msr = k * ((x.mean(1) - gm) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(0) - gm) ** 2).sum() / (k - 1)
    mse = ((x - x.mean(1, keepdims=True) - x.mean(0, keepdims=True) + gm) ** 2).sum() / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)


def make_ratings(n=60, seed=11):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 5, n)
    a = np.clip(true + rng.integers(-1, 2, n), 0, 4)
    b = np.clip(true + rng.integers(-1, 2, n) + (rng.random(n) < 0.3), 0, 4)
    rows = []
    for i in range(n):
        ra, rb = ("ann", "bob") if i % 2 else ("bob", "ann")  # both orders of role
        sa, sb = (a[i], b[i]) if ra == "ann" else (b[i], a[i])
        decided = a[i] if abs(a[i] - b[i]) <= 1 else true[i]
        rows.append(dict(response=i, item="w1", rater=ra, role="first", score=sa, max_points=4, decided=decided))
        rows.append(dict(response=i, item="w1", rater=rb, role="second", score=sb, max_points=4, decided=decided))
        if abs(a[i] - b[i]) > 1:
            rows.append(dict(response=i, item="w1", rater="cat", role="adjudication", score=true[i], max_points=4,
                             decided=decided))
    return pd.DataFrame(rows), a, b, true


def test_rater_agreement_against_direct_formulas():
    ratings, a, b, _ = make_ratings()
    df = P.rater_agreement(ratings)
    pair = df[(df.rater_a == "ann") & (df.rater_b == "bob")].iloc[0]
    pooled = df[df.rater_a == "(all)"].iloc[0]
    assert pair.n == 60 and pooled.n == 60
    assert pair.exact == pytest.approx(np.mean(a == b))
    assert pair.adjacent == pytest.approx(np.mean(np.abs(a - b) <= 1))
    assert pair.qwk == pytest.approx(qwk_direct(a, b, 5))
    assert pair.icc == pytest.approx(icc21_direct(a, b))
    assert pair.icc_ci_low < pair.icc < pair.icc_ci_high
    assert pooled.adjudication_rate == pytest.approx(np.mean(np.abs(a - b) > 1))
    assert pooled.exact == pytest.approx(pair.exact)


def test_rater_agreement_step_and_too_few_and_constant():
    ratings, a, b, _ = make_ratings(n=10)
    ratings["score"] = ratings["score"] * 0.5
    ratings["max_points"] = 2
    ratings["step"] = 0.5
    df = P.rater_agreement(ratings)
    row = df[df.rater_a == "ann"].iloc[0]
    assert row.adjacent == pytest.approx(np.mean(np.abs(a - b) <= 1))
    assert pd.isna(row.qwk) and pd.isna(row.icc) and row.note == "too few candidates (n = 10; needs 30)"
    same = pd.DataFrame([dict(response=i, item="w", rater=r, role=role, score=2, max_points=4, decided=2)
                         for i in range(40) for r, role in (("x", "first"), ("y", "second"))])
    row = P.rater_agreement(same).iloc[0]
    assert row.exact == 1.0 and pd.isna(row.qwk) and pd.isna(row.icc) and "no variance" in row.note


def test_rater_agreement_pending_and_empty():
    ratings, *_ = make_ratings(n=40)
    ratings.loc[ratings.index[:3], "score"] = np.nan
    df = P.rater_agreement(ratings)
    assert df.iloc[0].n < 40
    empty = ratings[ratings.role == "first"]
    df = P.rater_agreement(empty)
    assert df.iloc[0].n == 0 and pd.isna(df.iloc[0].exact)


def test_rater_leniency():
    ratings, *_ = make_ratings()
    ratings["month"] = np.where(ratings.response < 30, "2025-01", "2025-02")
    df = P.rater_leniency(ratings).set_index("rater")
    indep = ratings[ratings.role != "adjudication"]
    for r in ("ann", "bob"):
        g = indep[indep.rater == r]
        d = g.score - g.decided
        assert df.loc[r, "leniency"] == pytest.approx(d.mean())
        assert df.loc[r, "n"] == 60
        half = stats.t.ppf(0.975, 59) * d.std(ddof=1) / math.sqrt(60)
        assert df.loc[r, "leniency_ci_high"] == pytest.approx(d.mean() + half)
    assert "cat" not in df.index
    drift = P.rater_leniency(ratings, by="month")
    assert len(drift) == 4 and (drift.note == "").all()
    assert P.adjudication_rate(ratings).iloc[0].adjudicated == (ratings.role == "adjudication").sum()


# ---------------------------------------------------------------------------------------------- forms

def wilson_direct(k, n, z=stats.norm.ppf(0.975)):  # noqa: B008 (a constant, computed once)
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return c - h, c + h


def test_form_comparison():
    rng = np.random.default_rng(4)
    ta = rng.integers(20, 57, 45).astype(float)
    tb = rng.integers(20, 57, 12).astype(float)
    totals = pd.DataFrame({"form": ["A"] * 45 + ["B"] * 12 + ["B"], "total": np.r_[ta, tb, np.nan],
                           "max_points": 57, "passed": pd.Series(np.r_[ta >= 40, tb >= 40, False], dtype=object)})
    totals.loc[57, "passed"] = None
    df = P.form_comparison(totals, {"A": 40, "B": 40, "C": 40}).set_index("form")
    assert df.loc["A", "n"] == 45 and df.loc["A", "conclusive"] == "yes"
    assert df.loc["B", "n"] == 12 and df.loc["B", "conclusive"] == "too few candidates (n = 12; needs 30)"
    assert df.loc["C", "n"] == 0 and pd.isna(df.loc["C", "mean"]) and pd.isna(df.loc["C", "pass_rate"])
    assert df.loc["A", "mean"] == pytest.approx(ta.mean())
    half = stats.t.ppf(0.975, 44) * ta.std(ddof=1) / math.sqrt(45)
    assert (df.loc["A", "mean_ci_low"],
            df.loc["A", "mean_ci_high"]) == pytest.approx((ta.mean() - half, ta.mean() + half))
    k = int((ta >= 40).sum())
    assert df.loc["A", "pass_rate"] == pytest.approx(k / 45)
    assert (df.loc["A", "pass_ci_low"], df.loc["A", "pass_ci_high"]) == pytest.approx(wilson_direct(k, 45))
    one = P.form_comparison(totals.iloc[:1], {"A": 40}).iloc[0]
    assert one.n == 1 and pd.isna(one.sd) and pd.isna(one.mean_ci_low)
    allpass = totals.iloc[:45].assign(passed=True)
    assert P.form_comparison(allpass, {"A": 40}).iloc[0].pass_ci_high == pytest.approx(1.0)


def test_mean_equating_direct_formula():
    va = pd.Series([5.0, 6, 7, 8] * 10)
    xa = pd.Series([30.0, 34, 38, 42] * 10)   # mean 36, anchor mean 6.5
    vb = pd.Series([4.0, 5, 6, 7, 8] * 8)     # anchor mean 6
    yb = pd.Series([28.0, 32, 36, 40, 44] * 8)  # mean 36
    e = P.mean_equating(va, vb, xa, yb, max_a=50, max_b=50, max_common=10)
    g = 5.0
    w1 = w2 = 0.5
    ms_x = 36 - w2 * g * 0.5
    ms_y = 36 + w1 * g * 0.5
    assert e.constant == pytest.approx(ms_y - ms_x) == pytest.approx(2.5)
    assert e.equate(30) == pytest.approx(32.5)
    lo, hi = e.constant_ci
    assert lo < 2.5 < hi


def test_mean_equating_recovers_simulated_difficulty_shift():
    rng = np.random.default_rng(9)
    def group(n, shift_ability, harder):
        th = rng.normal(shift_ability, 1, n)
        v = np.clip(np.rint(10 + 3 * th + rng.normal(0, 1, n)), 0, 20)
        uniq = np.clip(np.rint(30 + 9 * th + rng.normal(0, 2, n)) - harder, 0, 60)
        return pd.Series(v), pd.Series(v + uniq)
    va, xa = group(4000, 0.3, harder=3)   # stronger group, harder form
    vb, yb = group(4000, 0.0, harder=0)
    e = P.mean_equating(va, vb, xa, yb, max_a=80, max_b=80, max_common=20, n_boot=200)
    assert e.constant == pytest.approx(3.0, abs=0.6)


def test_mean_equating_item_frames_and_too_few():
    rng = np.random.default_rng(1)
    ca = pd.DataFrame(rng.integers(0, 2, (40, 5)).astype(float))
    cb = pd.DataFrame(rng.integers(0, 2, (20, 5)).astype(float))
    ta = ca.sum(axis=1) + 10
    tb = cb.sum(axis=1) + 10
    assert P.mean_equating(ca, cb, ta, tb, max_a=20, max_b=20, max_common=5) == TooFew(20, 30)
    cb = pd.DataFrame(rng.integers(0, 2, (40, 5)).astype(float))
    cb.iloc[0, 0] = np.nan  # pending: left out
    tb = cb.sum(axis=1) + 10
    e = P.mean_equating(ca, cb, ta, tb, max_a=20, max_b=20, max_common=5)
    assert e.n_b == 39 and e.n_a == 40
