"""The statistics that speak at small n (issue 25 section 2), each against an independent computation:
a simulation drawn in the test with scipy/numpy, or the formula computed here from its textbook form."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from exam_builder.analysis import psychometrics as P
from exam_builder.analysis.psychometrics import TooFew


def rasch(n, k=40, seed=1, shift=0.0):
    rng = np.random.default_rng(seed)
    th = rng.normal(size=n)
    b = np.linspace(-2, 1, k) + shift
    x = (rng.random((n, k)) < 1 / (1 + np.exp(-(th[:, None] - b)))).astype(float)
    cols = list(range(1, k + 1))
    return pd.DataFrame(x, columns=cols), pd.Series(1.0, index=cols)


# ------------------------------------------------------------------------------ the beta-binomial model

def test_beta_binomial_params_reproduce_the_mean_and_the_reliability():
    """Huynh (1976)'s moments: the fitted beta-binomial has the observed mean, and its reliability (true-score
    variance over observed variance, computed here from scipy's beta and beta-binomial) equals r."""
    n, mean, r = 40, 26.3, 0.82
    a, b = P.beta_binomial_params(mean, n, r)
    bb = stats.betabinom(n, a, b)
    assert bb.mean() == pytest.approx(mean)
    true_var = n ** 2 * stats.beta(a, b).var()
    assert true_var / bb.var() == pytest.approx(r)
    assert P.beta_binomial_params(mean, n, 1.0) is None and P.beta_binomial_params(0, n, 0.5) is None


@pytest.mark.parametrize("a,b,n,cut", [(8.0, 5.0, 40, 26), (3.0, 2.0, 20, 14), (12.0, 4.0, 57, 40)])
def test_beta_binomial_classification_against_a_simulation(a, b, n, cut):
    """Independent: 400,000 simulated candidates (true p from the beta, two binomial forms, numpy's generator)."""
    rng = np.random.default_rng(25)
    m = 400_000
    p = rng.beta(a, b, m)
    x, y = rng.binomial(n, p), rng.binomial(n, p)
    tau = cut / n
    c = P.beta_binomial_classification(a, b, n, cut, tau)
    px, py = x >= cut, y >= cut
    p0 = np.mean(px == py)
    pc = px.mean() * py.mean() + (1 - px.mean()) * (1 - py.mean())
    truth = p >= tau
    assert c.p0 == pytest.approx(p0, abs=0.004)
    assert c.kappa == pytest.approx((p0 - pc) / (1 - pc), abs=0.01)
    assert c.accuracy == pytest.approx(np.mean(px == truth), abs=0.004)
    assert c.false_pass == pytest.approx(np.mean(px & ~truth), abs=0.003)
    assert c.false_fail == pytest.approx(np.mean(~px & truth), abs=0.003)


def test_beta_binomial_consistency_by_brute_force_summation():
    """Independent: p0 by numerical integration over p (scipy.integrate.quad of binomial tails times the beta
    density), not the closed form the code sums."""
    from scipy.integrate import quad

    a, b, n, cut = 6.0, 3.5, 25, 17
    c = P.beta_binomial_classification(a, b, n, cut, cut / n)
    agree = quad(lambda p: (stats.binom.sf(cut - 1, n, p) ** 2 + stats.binom.cdf(cut - 1, n, p) ** 2)
                 * stats.beta.pdf(p, a, b), 0, 1)[0]
    acc = (quad(lambda p: stats.binom.sf(cut - 1, n, p) * stats.beta.pdf(p, a, b), cut / n, 1)[0]
           + quad(lambda p: stats.binom.cdf(cut - 1, n, p) * stats.beta.pdf(p, a, b), 0, cut / n)[0])
    assert c.p0 == pytest.approx(agree, abs=1e-9)
    assert c.accuracy == pytest.approx(acc, abs=1e-9)


@pytest.mark.parametrize("r", [0.5, 0.7, 0.9])
def test_beta_binomial_consistency_tends_to_the_published_normal_approximation(r):
    """For a long test cut at the middle, the beta-binomial's p0 and kappa approach the bivariate-normal values
    of Peng & Subkoviak (1980), the approximation behind Subkoviak (1988)'s practitioner tables: with the two
    forms' scores correlated r and the cut at the mean (z = 0), Sheppard's orthant formula gives
    p0 = 1/2 + arcsin(r)/pi and kappa = 2 arcsin(r)/pi (0.67 and 0.33 at r = 0.5; 0.86 and 0.71 at r = 0.9)."""
    n = 400
    a, b = P.beta_binomial_params(n / 2, n, r)
    c = P.beta_binomial_classification(a, b, n, n // 2, 0.5)
    assert c.p0 == pytest.approx(0.5 + math.asin(r) / math.pi, abs=0.002)
    assert c.kappa == pytest.approx(2 * math.asin(r) / math.pi, abs=0.003)


# ------------------------------------------------------------------------------ a form at small n

def test_reliability_is_published_at_n_18_with_its_interval_and_a_warning():
    x, mp = rasch(18)
    assert P.reliability(x, mp, 26) == TooFew(18, 30)  # the old floor stays the default
    r = P.reliability(x, mp, 26, min_n=10)
    assert r.n == 18 and r.caution.startswith("small sample (n = 18)")
    k = 40
    p = x.mean()
    kr20 = k / (k - 1) * (1 - (p * (1 - p)).sum() / x.sum(axis=1).var(ddof=0))
    assert r.alpha == pytest.approx(kr20)
    lo = 1 - (1 - kr20) * stats.f.ppf(0.975, 17, 17 * 39)
    hi = 1 - (1 - kr20) * stats.f.ppf(0.025, 17, 17 * 39)
    assert r.alpha_ci == pytest.approx((lo, hi), abs=6e-4)  # Feldt (1965); pingouin rounds to 3 decimals
    csem = math.sqrt(26 * 14 / 39)  # Lord (1955)
    assert r.csem_at_cut == pytest.approx(csem)
    totals = x.sum(axis=1)
    assert r.within_band == int(((totals >= 26 - 1.96 * csem) & (totals <= 26 + 1.96 * csem)).sum())
    assert [c.method for c in r.classifications] == ["Subkoviak", "Livingston-Lewis / Huynh beta-binomial", P.RUDNER]
    ll = r.classifications[1]
    r21 = P.kr21(totals.mean(), totals.var(ddof=1), k)
    a = totals.mean() * (1 / r21 - 1)
    b = (k - totals.mean()) * (1 / r21 - 1)
    assert ll.p0 == pytest.approx(P.beta_binomial_classification(a, b, k, 26, 26 / k).p0)
    assert 0.5 < ll.accuracy <= 1 and ll.false_pass + ll.false_fail == pytest.approx(1 - ll.accuracy)
    assert P.reliability(x.iloc[:9], mp, 26, min_n=10) == TooFew(9, 10)
    assert str(TooFew(9, 10)) == "too few candidates (n = 9; needs 10)"
    assert P.reliability(*rasch(30), 26, min_n=10).caution == ""


def test_pooled_reliability_against_the_formula_and_feldt():
    """Pooled within forms: 1 - sum (n-1) SEM^2 / sum (n-1) var, from each form's pingouin alpha computed
    here; one form pooled with itself alone is that form, and its bootstrap interval is near Feldt's."""
    import pingouin as pg

    forms = [rasch(18, seed=1), rasch(19, seed=2, shift=0.2), rasch(12, seed=3, shift=-0.1)]
    pooled = P.pooled_reliability([(x, mp, 26) for x, mp in forms])
    err = obs = 0.0
    for x, _mp in forms:
        a = pg.cronbach_alpha(x)[0]
        v = x.sum(axis=1).var(ddof=1)
        err += (len(x) - 1) * v * (1 - a)
        obs += (len(x) - 1) * v
    assert pooled.n == 49 and pooled.forms == 3 and pooled.caution == ""
    assert pooled.alpha == pytest.approx(1 - err / obs)
    assert pooled.sem == pytest.approx(math.sqrt(err / (49 - 3)))
    lo, hi = pooled.alpha_ci
    assert lo < pooled.alpha < hi
    assert len(pooled.classifications) == 3
    for i, c in enumerate(pooled.classifications):
        per = [P.reliability(x, mp, 26, min_n=3).classifications[i] for x, mp in forms]
        for attr in ("p0", "accuracy"):
            if getattr(c, attr) is not None:
                assert getattr(c, attr) == pytest.approx(np.average([getattr(p, attr) for p in per],
                                                                    weights=[18, 19, 12]))
            else:  # the method gives none: Subkoviak's accuracy, Rudner's consistency
                assert all(getattr(p, attr) is None for p in per)
    x, mp = rasch(200, seed=4)
    one = P.pooled_reliability([(x, mp, 26)], n_boot=2000)
    feldt = P.feldt_ci(one.alpha, 200, 40)
    assert one.alpha == pytest.approx(pg.cronbach_alpha(x)[0])
    assert one.alpha_ci == pytest.approx(feldt, abs=0.02)
    assert P.pooled_reliability([(x.iloc[:4], mp, 26), (x.iloc[4:9], mp, 26)]) == TooFew(9, 10)


# ------------------------------------------------------------------------------ items and raters at small n

def test_item_statistics_with_intervals_at_n_15():
    x, mp = rasch(15, k=8, seed=6)
    x[1] = [0.0] + [1.0] * 14  # too easy: flagged, provisionally
    df = P.item_stats(x, mp, min_n=10).set_index("item")
    total = x.sum(axis=1)
    z = stats.norm.ppf(0.975)
    for c in x.columns:
        k, n = int(x[c].sum()), 15
        p = k / n  # Wilson (1927), written out
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        assert (df.loc[c, "facility_low"], df.loc[c, "facility_high"]) == pytest.approx((centre - half, centre + half))
        r = np.corrcoef(x[c], total - x[c])[0, 1]
        if np.isfinite(r):
            lo, hi = np.tanh(np.arctanh(r) - z / math.sqrt(12)), np.tanh(np.arctanh(r) + z / math.sqrt(12))
            assert df.loc[c, "discrimination"] == pytest.approx(r)
            assert (df.loc[c, "discrimination_low"], df.loc[c, "discrimination_high"]) == pytest.approx((lo, hi))
    flagged = df[df["flags"] != ""]
    assert len(flagged) and flagged["flags"].str.contains(r"\(small sample, n = 15\)").all()
    poly = pd.DataFrame({"w": [0, 1, 2, 3, 4, 2, 2, 3, 1, 4, 3, 2.0]})
    lo, hi = P.facility_ci(poly["w"].to_numpy(), 4.0)
    share = poly["w"] / 4
    h = stats.t.ppf(0.975, 11) * share.std(ddof=1) / math.sqrt(12)
    assert (lo, hi) == pytest.approx((share.mean() - h, share.mean() + h))


def test_rater_agreement_pooled_across_items():
    rng = np.random.default_rng(8)
    rows = []
    a_all, b_all, mx_all = [], [], []
    for item, mx, n in (("w1", 4, 12), ("w2", 4, 9), ("w3", 6, 14)):
        true = rng.integers(0, mx + 1, n)
        a = np.clip(true + rng.integers(-1, 2, n), 0, mx)
        b = np.clip(true + (rng.random(n) < 0.3), 0, mx)
        for i in range(n):
            rows.append(dict(response=f"{item}-{i}", item=item, rater="ann", role="first", score=a[i], max_points=mx,
                             decided=a[i]))
            rows.append(dict(response=f"{item}-{i}", item=item, rater="bob", role="second", score=b[i], max_points=mx,
                             decided=a[i]))
        a_all += list(a)
        b_all += list(b)
        mx_all += [mx] * n
    df = P.rater_agreement(pd.DataFrame(rows), min_n=10, pool=True)
    pooled = df.iloc[0]
    a_all, b_all, mx_all = map(np.asarray, (a_all, b_all, mx_all))
    assert pooled["item"] == "(all items)" and pooled.n == 35
    assert pooled.exact == pytest.approx(np.mean(a_all == b_all))
    assert pooled.adjacent == pytest.approx(np.mean(np.abs(a_all - b_all) <= 1))
    from test_psychometrics import icc21_direct  # Shrout & Fleiss (1979), written out in the other test file

    assert pooled.icc == pytest.approx(icc21_direct(a_all / mx_all, b_all / mx_all))
    assert pd.isna(pooled.qwk)  # maxima differ: no kappa across them
    assert pooled.note == ""  # 35 pairs: past the 30 of a stable figure
    w2 = df[(df["item"] == "w2") & (df.rater_a == "(all)")].iloc[0]
    assert w2.note == "too few candidates (n = 9; needs 10)" and pd.isna(w2.icc)
    w1 = df[(df["item"] == "w1") & (df.rater_a == "(all)")].iloc[0]
    assert w1.note.startswith("small sample (n = 12)") and pd.notna(w1.qwk)


# ------------------------------------------------------------------------------ forms: random groups

def test_random_groups_tost_against_two_one_sided_welch_tests():
    """Independent: Schuirmann's two one-sided tests written with scipy's Welch t test."""
    rng = np.random.default_rng(3)
    a = rng.normal(40, 5, 18).round()
    b = rng.normal(40.5, 5, 19).round()
    d = P.random_groups(a, b, 57, 57, "A", "B", margin_share=0.1)
    m = 5.7
    p_low = stats.ttest_ind(b + m, a, equal_var=False, alternative="greater").pvalue
    p_high = stats.ttest_ind(b - m, a, equal_var=False, alternative="less").pvalue
    assert d.p_tost == pytest.approx(max(p_low, p_high))
    assert d.difference == pytest.approx(b.mean() - a.mean()) and d.margin == pytest.approx(m)
    welch = stats.ttest_ind(b, a, equal_var=False)
    lo, hi = welch.confidence_interval(0.90)
    assert d.ci90 == pytest.approx((lo, hi))
    assert d.equivalent == (max(p_low, p_high) < 0.05)
    assert d.caution.startswith("small sample (n = 18)")
    # equivalent, different and undecided read plainly, and never from a tiny sample
    same = P.random_groups(np.tile([38.0, 40, 42], 200), np.tile([38.0, 40.5, 42], 200), 57, 57)
    assert same.equivalent and "identity equating" in same.reading
    apart = P.random_groups(np.tile([30.0, 32, 34], 100), np.tile([38.0, 40, 42], 100), 57, 57)
    assert not apart.equivalent and "form B reading easier" in apart.reading
    assert "scored about 8.00 points higher" in apart.reading  # one rounding: as its interval
    unsure = P.random_groups(a, b, 57, 57, margin_share=0.02)
    assert "more candidates are needed" in unsure.reading
    assert P.random_groups(a[:9], b, 57, 57) == TooFew(9, 10)
    pct = P.random_groups(a, b * 60 / 57, 57, 60)
    assert pct.scale == "percent of the points" and pct.difference == pytest.approx(100 * (b.mean() - a.mean()) / 57)


def test_an_anchor_must_be_a_fifth_of_the_form_and_cover_its_content():
    comps = {"recovery", "ethics", "advocacy"}
    ok, why = P.anchor_adequate(12, 57, 57, comps, comps, comps)
    assert ok and why == ""
    ok, why = P.anchor_adequate(3, 57, 57, comps, comps, comps)
    assert not ok and why.startswith("the shared items are 5% of the form's points (an anchor needs 20%)")
    ok, why = P.anchor_adequate(20, 57, 57, {"recovery"}, comps, comps)
    assert not ok and "leave out advocacy, ethics" in why


# ------------------------------------------------------------------------------ the SEM and CSEM with intervals

def test_sem_and_conditional_sem_carry_alphas_feldt_interval():
    """Independent: Feldt's bounds from scipy's F quantiles, the SEM at each, and Lord's CSEM on the effective
    length (Livingston & Lewis's formula written here) at each bound."""
    x, mp = rasch(19, k=30, seed=4)
    rel = P.reliability(x, mp, 20, min_n=10)
    n, k = x.shape
    total = x.sum(axis=1)
    sd, var = total.std(ddof=1), total.var(ddof=1)
    items = x.var(ddof=1).sum()
    a = k / (k - 1) * (1 - items / var)
    lo = 1 - (1 - a) * stats.f.isf(0.025, n - 1, (n - 1) * (k - 1))
    hi = 1 - (1 - a) * stats.f.isf(0.975, n - 1, (n - 1) * (k - 1))
    assert rel.sem_ci == pytest.approx((sd * math.sqrt(1 - hi), sd * math.sqrt(1 - lo)))
    assert rel.sem_ci[0] <= rel.sem <= rel.sem_ci[1]
    assert rel.csem_ci is None  # right-or-wrong items: Lord's CSEM is fixed by the 30 items, alpha plays no part
    # items worth more than a point: the length comes from alpha, so the CSEM moves with its interval
    y = x.copy()
    y[31] = np.clip(np.round(total / 6 + np.random.default_rng(2).normal(0, 0.7, n)), 0, 6)
    mpy = pd.concat([mp, pd.Series({31: 6.0})])
    rel = P.reliability(y, mpy, 22, min_n=10)
    ty = y.sum(axis=1)
    m, v, top = ty.mean(), ty.var(ddof=1), 36.0
    lo, hi = rel.alpha_ci

    def csem(r):
        eff = ((m - 0) * (top - m) - r * v) / (v * (1 - r))
        used = min(max(round(eff), 2), 36)
        c = 22 * used / top
        return math.sqrt(c * (used - c) / (used - 1)) * top / used

    assert rel.csem_ci == pytest.approx(tuple(sorted((csem(lo), csem(hi)))))


def test_a_difference_the_shown_interval_excludes_is_read_as_one():
    """Walk finding 10: a 90% interval of 0.66 to 8.80 excludes 0; the reading must not say "not shown different"."""
    rng = np.random.default_rng(11)
    for _ in range(200):
        a = rng.normal(37.6, 8.6, 19).round()
        b = rng.normal(42.4, 5.7, 18).round()
        d = P.random_groups(a, b, 57, 57, "A", "B")
        welch = stats.ttest_ind(b, a, equal_var=False)
        lo90, hi90 = welch.confidence_interval(0.90)
        if d.equivalent:
            continue
        if lo90 > 0 or hi90 < 0:
            assert d.reading.startswith("the forms differ") and "which excludes 0" in d.reading, d.reading
            assert f"about {P.show(abs(b.mean() - a.mean()))} points" in d.reading
        else:
            assert d.reading.startswith("not shown equivalent and not shown different"), d.reading
            assert "holds 0" in d.reading
