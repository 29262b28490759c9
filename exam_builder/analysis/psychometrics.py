"""Pure statistics for the program's report: reliability, item and distractor analysis, rater
agreement and form comparability.

pandas / numpy in, dataclasses or DataFrames out: no database, no plotting. Candidates whose
scores are pending (NaN) are left out listwise, never read as 0. Every figure that needs a
minimum sample comes back as :class:`TooFew` (a whole result) or as NaN with a ``note`` /
``conclusive`` text in a table, so the report says "too few candidates (n = 12; needs 30)"
instead of printing a misleading number.

Maintained packages do the standard statistics (pingouin: Cronbach's alpha with Feldt's
interval and ICC; scikit-learn: quadratic-weighted kappa; statsmodels: Wilson interval;
scipy: t and binomial distributions). Written here, each with formula and source in its
docstring: Lord's conditional SEM, Subkoviak's single-administration decision consistency
(with Livingston & Lewis's effective test length for items worth more than one point), and
nominal-weights mean equating, the beta-binomial (Huynh 1976 / Livingston & Lewis 1995)
decision consistency and accuracy, pooling across forms, and random-groups comparison of forms
with an equivalence test (statsmodels' TOST).

Small samples: a figure is published from ``Thresholds.min_publish`` candidates on (default 10)
with its interval and a plain warning (``caution``), without the warning from
``Thresholds.min_stable`` (``MIN_N``, 30); below ``min_publish`` it is :class:`TooFew`, which
says how many are needed.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ..model.item import LABELS  # option labels in the order a form shows them
from ..model.states import INDEPENDENT_ROLES, RatingRole

#: From this many candidates a statistic is read without the small-sample warning.
MIN_N = 30
#: From this many candidates a statistic is published (with its interval and a warning below ``MIN_N``).
MIN_PUBLISH = 10

#: The rating that decides when the two independent ones (``INDEPENDENT_ROLES``) differ too much.
ADJUDICATION_ROLE = RatingRole.adjudication


@dataclass(frozen=True)
class TooFew:
    """Returned instead of a figure when the sample is below what the statistic needs."""

    n: int
    needs: int = MIN_PUBLISH

    def __str__(self) -> str:
        return f"too few candidates (n = {self.n}; needs {self.needs})"


@dataclass(frozen=True)
class Thresholds:
    """The report's thresholds (``settings.ReportSettings``), as plain values the pure functions take."""

    min_publish: int = MIN_PUBLISH
    min_stable: int = MIN_N
    equivalence_margin: float = 0.05
    anchor_min_share: float = 0.20
    subscore_min_reliability: float = 0.70
    deadline_blank_share: float = 0.5
    distractor_min_choosers: int = 3

    @classmethod
    def from_settings(cls, s) -> Thresholds:
        return cls(s.min_n_publish, max(s.min_n_publish, s.min_n_stable), s.equivalence_margin, s.anchor_min_share,
                   s.subscore_min_reliability, s.deadline_blank_share, s.distractor_min_choosers)


#: The fewest candidates who must choose a distractor before it is flagged (c.ReportSettings.distractor_min_choosers).
DISTRACTOR_MIN_CHOOSERS = 3

#: Every number shown is rounded once, to this many decimal places (``show``), in text, tables and figures.
DECIMALS = 2


def show(v, unit: str = "") -> str:
    """A number as the report shows it everywhere: rounded once to ``DECIMALS`` places and always written with
    them (0.80, never 0.8; 1.00 for a coefficient of 1), so a coefficient reads the same in every table, sentence
    and figure; a whole count (an ``int``) is written as it is; "" for a missing figure (never "None" or "nan")."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return f"{int(v)}{unit}"
    if isinstance(v, (float, np.floating)):
        x = round(float(v), DECIMALS) + 0.0  # + 0.0: never "-0"
        return f"{x:.{DECIMALS}f}" + unit
    return str(v)


def whole(v) -> str:
    """A figure that is a whole number by its nature (points on a form, a bin's width, a test length) written
    without decimals; any other value as ``show`` writes it."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) \
            and math.isfinite(float(v)) and float(v).is_integer():
        return str(int(v))
    return show(v)


def pct(share) -> str:
    """A share as a whole percent, the same rounding as ``show`` gives the share (0.4167 -> 0.42 -> "42%")."""
    if share is None or (isinstance(share, float) and not math.isfinite(share)):
        return ""
    return f"{round(100 * round(float(share), DECIMALS))}%"


def caution(n: int, stable: int = MIN_N) -> str:
    """The plain warning on a figure from a small sample; empty from ``stable`` candidates on."""
    if n >= stable:
        return ""
    return (f"small sample (n = {n}): the interval is wide, read the figure with its interval "
            f"({stable} or more for a stable figure)")


def _f(x) -> float | None:
    """A plain float, or None for NaN / inf / None."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _corr(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation, None when either side has no variance or fewer than 3 values."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return _f(np.corrcoef(x, y)[0, 1])


def _complete(scores: pd.DataFrame, max_points: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    mp = pd.Series(max_points, dtype=float).reindex(scores.columns)
    data = scores.apply(pd.to_numeric, errors="coerce").astype(float).dropna(how="any")
    return data, mp


def _is_dichotomous(data: pd.DataFrame, mp: pd.Series) -> bool:
    return bool((mp == 1).all() and data.isin([0.0, 1.0]).all().all())


# --------------------------------------------------------------------------------------------
# Reliability, SEM, conditional SEM, decision consistency


@dataclass(frozen=True)
class Classification:
    """How consistently and accurately a form sorts candidates into pass and fail, by one method."""

    method: str
    p0: float | None            # agreement of pass/fail on two parallel forms
    kappa: float | None         # p0 corrected for chance
    accuracy: float | None      # share classified as their true score would be (None: the method gives none)
    false_pass: float | None    # share passed whose true score is below the cut
    false_fail: float | None    # share failed whose true score is at or above the cut


@dataclass
class Reliability:
    n: int                      # candidates with every item scored
    k: int                      # items
    max_points: float           # points on the form
    mean: float
    sd: float | None            # sample SD (ddof = 1) of total scores
    alpha: float | None         # Cronbach's alpha (== KR-20 for 0/1 items); None without variance
    alpha_ci: tuple[float, float] | None
    confidence: float
    alpha_name: str             # "KR-20" or "alpha"
    sem: float | None           # sd * sqrt(1 - alpha)
    cut: float
    pass_rate: float            # observed share with total >= cut
    csem_at_cut: float | None   # conditional SEM at the cut, raw points
    csem_method: str
    p0: float | None            # decision consistency: agreement of pass/fail on two parallel forms (Subkoviak)
    kappa: float | None         # p0 corrected for chance
    consistency_method: str
    effective_length: float | None  # items (0/1) or Livingston-Lewis effective length
    model_reliability: float | None  # reliability used by the binomial model (KR-21 or alpha)
    notes: list[str] = field(default_factory=list)
    #: every method's decision consistency and accuracy (Subkoviak, the beta-binomial, then Rudner's accuracy)
    classifications: list[Classification] = field(default_factory=list)
    #: candidates whose total lies within +-1.96 CSEM of the cut (the band of uncertain decisions)
    within_band: int | None = None
    band: tuple[float, float] | None = None
    caution: str = ""           # the small-sample warning ("" from MIN_N on)
    #: the integer length the binomial models use (the effective length rounded) and the cut on it
    model_length: int | None = None
    model_cut: int | None = None
    #: the error variance and observed variance (ddof = 1), for pooling across forms
    error_var: float | None = None
    var: float | None = None
    #: the length rule's outcome: the estimate, the length used, whether and why it was clamped, in words
    length: ModelLength | None = None
    #: the SEM at the ends of alpha's interval: sd * sqrt(1 - high) to sd * sqrt(1 - low)
    sem_ci: tuple[float, float] | None = None
    #: the conditional SEM at the cut on the lengths alpha's interval gives (None where the length is the items')
    csem_ci: tuple[float, float] | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def feldt_ci(alpha: float, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval for coefficient alpha.

    (1 - alpha) * F(n-1, (n-1)(k-1)) has the F distribution, so with F quantiles ``f_hi`` and
    ``f_lo`` at 1 - (1-c)/2 and (1-c)/2:
        lower = 1 - (1 - alpha) * f_hi,   upper = 1 - (1 - alpha) * f_lo.
    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson reliability
    coefficient twenty. Psychometrika 30, 357-370; Feldt, Woodruff & Salih (1987), Applied
    Psychological Measurement 11, 93-103. (This is also what pingouin.cronbach_alpha returns.)
    It reproduces a published output to seven decimals (tests/analysis/test_published_examples.py).
    """
    a = 1 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return (float(1 - (1 - alpha) * stats.f.isf(a / 2, df1, df2)),
            float(1 - (1 - alpha) * stats.f.isf(1 - a / 2, df1, df2)))


def _alpha_with_ci(data: pd.DataFrame, confidence: float) -> tuple[float | None, tuple | None]:
    try:
        import pingouin as pg
    except Exception:  # pragma: no cover - pingouin is a declared dependency
        pg = None
    n, k = data.shape
    if pg is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a, ci = pg.cronbach_alpha(data=data, ci=confidence)
        a = _f(a)  # pingouin rounds its interval to three places: Feldt's, unrounded, is computed here
        return a, (None if a is None else feldt_ci(a, n, k, confidence))
    a = coefficient_alpha(data)  # pragma: no cover
    return a, (None if a is None else feldt_ci(a, n, k, confidence))  # pragma: no cover


def _alpha_as_pingouin(data: pd.DataFrame) -> float | None:
    """Coefficient alpha as ``pingouin.cronbach_alpha`` computes it, the same operations on the same frame (so
    the same figure to the bit), without its interval: the bootstrap's draws need alpha only, hundreds of times."""
    n, k = data.shape
    C = data.cov(numeric_only=True)
    return _f((k / (k - 1)) * (1 - np.trace(C) / C.sum().sum()))


def coefficient_alpha(data: pd.DataFrame) -> float | None:
    """Cronbach's alpha (KR-20 for items scored 0/1) of a complete candidates x items matrix:
    k / (k - 1) * (1 - sum of the items' variances / variance of the totals), sample variances
    (ddof = 1). None with fewer than two candidates or items, or when every total is the same.
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika 16."""
    n, k = data.shape
    if n < 2 or k < 2:
        return None
    rows = data.to_numpy(float).tolist()
    var_total = _sample_var([sum(row) for row in rows])
    if not var_total > 0:
        return None
    return _f(k / (k - 1) * (1 - sum(_sample_var([row[j] for row in rows]) for j in range(k)) / var_total))


def _sample_var(xs: list[float]) -> float:
    """The sample variance (ddof = 1), summed in order in plain floats: the same figure to the last bit
    wherever it is asked for (numpy's pairwise sums can differ in it, turning a 0 into -0.00)."""
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


@dataclass(frozen=True)
class FormSummary:
    """A form's totals over its complete candidates, at any sample size (the item analysis's heading)."""

    n: int                      # candidates with every item scored
    mean: float | None          # mean total; None without candidates
    sd: float | None            # sample SD (ddof = 1) of the totals; 0 for one candidate
    alpha: float | None         # ``coefficient_alpha``


def form_summary(scores: pd.DataFrame, max_points: pd.Series) -> FormSummary:
    """Totals and coefficient alpha of one form, pending candidates (NaN) left out; no minimum sample
    (``reliability`` is the report's, with its interval and the minimum)."""
    data, _mp = _complete(scores, max_points)
    n = len(data)
    totals = [sum(row) for row in data.to_numpy(float).tolist()]
    mean = sum(totals) / n if n else None
    sd = (math.sqrt(_sample_var(totals)) if n > 1 else 0.0) if n else None
    return FormSummary(n, mean, sd, coefficient_alpha(data))


def kr21(mean: float, var: float, k: int) -> float | None:
    """KR-21 = k/(k-1) * (1 - mean (k - mean) / (k var)). Kuder & Richardson (1937)."""
    if k < 2 or not var > 0:
        return None
    return _f(k / (k - 1) * (1 - mean * (k - mean) / (k * var)))


def effective_length(mean: float, var: float, reliability: float, min_score: float,
                     max_score: float) -> float | None:
    """Livingston & Lewis's effective test length:

        n = ((mean - min)(max - mean) - r var) / (var (1 - r))

    Livingston, S. A. & Lewis, C. (1995). Estimating the consistency and accuracy of
    classifications based on test scores. Journal of Educational Measurement 32(2), 179-197,
    eq. 2. For k items scored 0/1 and r = KR-21 it gives exactly k.
    """
    if reliability is None or not var > 0 or reliability >= 1:
        return None
    n = ((mean - min_score) * (max_score - mean) - reliability * var) / (var * (1 - reliability))
    return _f(n) if n > 0 else None


#: The shortest test the binomial error model runs on: Lord's CSEM and KR-21 divide by n - 1.
MIN_MODEL_LENGTH = 2


@dataclass(frozen=True)
class ModelLength:
    """The whole-number test length the binomial models (Lord's CSEM, Subkoviak, the beta-binomial) run on."""

    estimate: float | None      # Livingston & Lewis's effective length as computed (items, for 0/1 forms)
    used: int | None            # the length used: the estimate rounded, within MIN_MODEL_LENGTH..points
    clamped: str = ""           # "" or why the rounded estimate was moved to a bound ("above the form's 57 points")
    sentence: str = ""          # the rule and the value used, in one plain sentence for the page


def model_length(estimate: float | None, points: float, items: int, dichotomous: bool) -> ModelLength:
    """The length the binomial models use, by a stated rule.

    * Every item scored right or wrong: the number of items (Hanson & Brennan 1990 take the actual length;
      Livingston & Lewis's formula with KR-21 gives exactly it, :func:`effective_length`).
    * Otherwise Livingston & Lewis's (1995) effective test length, rounded to the nearest whole number as they
      do, kept within its sensible range: at least ``MIN_MODEL_LENGTH`` (2: the binomial model's n - 1), at most
      the form's points (whole). The effective length counts right-or-wrong, equally hard, independent
      items, each worth one point of the form; a form of M points cannot hold more than M of them, and an
      estimate above M (alpha's and the variance's sampling error at small n, and items of unequal
      difficulty, both raise it) is set to M, the length Hanson & Brennan (1990) would use for M right-or-wrong
      items. Below 2 it is set to 2.

    Hanson, B. A. & Brennan, R. L. (1990). An investigation of classification consistency indexes estimated
    under alternative strong true score models. JEM 27(4), 345-359. Livingston, S. A. & Lewis, C. (1995),
    JEM 32(2), 179-197."""
    top = int(math.floor(points + 1e-9))
    if dichotomous:
        return ModelLength(float(items), items, "", f"every item is right or wrong, so its {items} items are used")
    if estimate is None or not math.isfinite(estimate):
        return ModelLength(None, None, "", "not defined (no score variance or no reliability), so no binomial "
                           "model is run")
    rounded = int(round(estimate))
    if rounded > top:
        return ModelLength(estimate, top, f"above the form's {top} points",
                           f"estimated at {show(estimate)}, above the form's {top} points, so clamped to {top}, "
                           "which is used")
    if rounded < MIN_MODEL_LENGTH:
        return ModelLength(estimate, MIN_MODEL_LENGTH, f"below {MIN_MODEL_LENGTH}",
                           f"estimated at {show(estimate)}, below {MIN_MODEL_LENGTH}, so clamped to "
                           f"{MIN_MODEL_LENGTH}, which is used")
    return ModelLength(estimate, rounded, "", f"estimated at {show(estimate)}; rounded, {rounded} is used")


def lord_csem(x: float, n: float) -> float | None:
    """Lord's binomial-error conditional SEM at number-correct score x on n items:
    sqrt(x (n - x) / (n - 1)).  Lord, F. M. (1955), Estimating test reliability, Educational
    and Psychological Measurement 15, 325-336; Lord & Novick (1968), ch. 23."""
    if n is None or n <= 1 or x < 0 or x > n:
        return None
    return _f(math.sqrt(x * (n - x) / (n - 1)))


def subkoviak(x: np.ndarray, n_items: int, cut: float, reliability: float) -> tuple[float, float | None]:
    """Subkoviak's single-administration estimate of decision consistency (p0, kappa).

    For number-correct scores x_i on n items and a cut c (pass when x >= c):
      1. regress each proportion-correct toward the group mean (Kelley):
             p_i = r * x_i / n + (1 - r) * mean(x) / n           (r clipped to [0, 1])
      2. under the binomial error model the chance of passing a parallel form is
             P_i = P(X >= c | X ~ Binomial(n, p_i))
      3. the chance the two forms agree for candidate i is P_i^2 + (1 - P_i)^2, so
             p0 = mean_i [P_i^2 + (1 - P_i)^2]
             pc = Pbar^2 + (1 - Pbar)^2,   Pbar = mean_i P_i
             kappa = (p0 - pc) / (1 - pc)
    Subkoviak, M. J. (1976). Estimating reliability from a single administration of a
    criterion-referenced test. Journal of Educational Measurement 13(4), 265-276 (which uses
    KR-21 for r); Subkoviak, M. J. (1988), A practitioner's guide to computation and
    interpretation of reliability indices for mastery tests, JEM 25(1), 47-55.
    kappa is None when every candidate is certain to be classified the same way (pc = 1).
    Plugging in point estimates of p_i makes the method conservative: against simulated
    beta-binomial parallel forms (tests/analysis) it reads p0 0.01-0.04 and kappa 0.03-0.08
    below the agreement actually observed, less so for longer tests, more at low reliability (the
    regressed p_i spread r times the observed spread, the true ones sqrt(r) times it). The 1988
    guide's tables of approximate p0 and kappa are Huynh's normal approximation, not this
    procedure: on a long test at z = 0 and r = 0.5 they read .67 and .33 where this reads 0.61 and
    0.22 (tests/analysis/test_published_examples.py, where the beta-binomial is held to them).
    """
    x = np.asarray(x, float)
    r = min(max(float(reliability), 0.0), 1.0)
    p = np.clip(r * x / n_items + (1 - r) * x.mean() / n_items, 0.0, 1.0)
    c = math.ceil(cut - 1e-9)
    P = stats.binom.sf(c - 1, n_items, p)  # P(X >= c)
    p0 = float(np.mean(P ** 2 + (1 - P) ** 2))
    pbar = float(P.mean())
    pc = pbar ** 2 + (1 - pbar) ** 2
    kappa = None if 1 - pc < 1e-12 else _f((p0 - pc) / (1 - pc))
    return p0, kappa


def beta_binomial_params(mean: float, n_items: int, reliability: float) -> tuple[float, float] | None:
    """The two-parameter beta true-score distribution that, with binomial errors on ``n_items``, has the
    observed mean and the given reliability (method of moments; Huynh 1976, with r = KR-21):

        a = mean (1/r - 1),   b = (n - mean)(1/r - 1)

    so the beta-binomial's reliability n / (a + b + n) equals r. None when r is not in (0, 1) or the
    mean is at an end of the scale."""
    if reliability is None or not 0 < reliability < 1 or not 0 < mean < n_items:
        return None
    f = 1 / reliability - 1
    return mean * f, (n_items - mean) * f


def beta_binomial_classification(a: float, b: float, n_items: int, cut: int, true_cut: float) -> Classification:
    """Decision consistency and accuracy under the beta-binomial model (exact sums, no simulation).

    True proportion-correct p ~ Beta(a, b); two parallel forms X, Y ~ Binomial(n, p) given p; pass when
    the score >= ``cut`` (whole points on the n scale); a true pass when p >= ``true_cut`` (a proportion).
      joint  f(x, y) = C(n,x) C(n,y) B(a + x + y, b + 2n - x - y) / B(a, b)
      p0     = sum of f over the cells where x and y fall on the same side of the cut; kappa with the
               chance agreement of the marginals
      P(X = x, p < t) = C(n,x) B(a + x, b + n - x) / B(a, b) * I_t(a + x, b + n - x)
      accuracy = P(X >= cut, p >= t) + P(X < cut, p < t)
    Huynh, H. (1976). On the reliability of decisions in domain-referenced testing. Journal of
    Educational Measurement 13(4), 253-264; Livingston, S. A. & Lewis, C. (1995), JEM 32(2), 179-197
    (their two-parameter case, on the effective test length). On a long test its p0 and kappa reproduce
    Subkoviak's (1988) published tables of Huynh's normal approximation within one unit of their second
    decimal (tests/analysis/test_published_examples.py)."""
    from scipy.special import betainc, betaln, gammaln

    n = int(n_items)
    x = np.arange(n + 1)
    log_c = gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1)
    xs, ys = np.meshgrid(x, x, indexing="ij")
    joint = np.exp(log_c[:, None] + log_c[None, :] + betaln(a + xs + ys, b + 2 * n - xs - ys) - betaln(a, b))
    joint /= joint.sum()  # float rounding only: the cells sum to 1
    passed = x >= cut
    p_pass = float(joint[passed].sum())
    p0 = float(joint[np.ix_(passed, passed)].sum() + joint[np.ix_(~passed, ~passed)].sum())
    pc = p_pass ** 2 + (1 - p_pass) ** 2
    kappa = None if 1 - pc < 1e-12 else _f((p0 - pc) / (1 - pc))
    marginal = np.exp(log_c + betaln(a + x, b + n - x) - betaln(a, b))
    below = marginal * betainc(a + x, b + n - x, min(max(true_cut, 0.0), 1.0))  # P(X = x, p < t)
    above = marginal - below
    false_pass = float(below[passed].sum())
    false_fail = float(above[~passed].sum())
    return Classification("Livingston-Lewis / Huynh beta-binomial", p0, kappa, _f(1 - false_pass - false_fail),
                          false_pass, false_fail)


def model_csem(x, length: int | None, max_total: float) -> np.ndarray | None:
    """Lord's binomial-error conditional SEM, in points, at each score in ``x`` (points) on a form of
    ``max_total`` points counted as ``length`` right-or-wrong items (:func:`model_length`): the score put on that
    length, x' = x n / max, then (max / n) sqrt(x' (n - x') / (n - 1)); 0 at either end of the scale. For a form of
    right-or-wrong items n is the number of items and max the points, so it is sqrt(x (k - x) / (k - 1)).
    None when the length is not defined or under 2."""
    if length is None or length < MIN_MODEL_LENGTH or not max_total > 0:
        return None
    xs = np.clip(np.asarray(x, float) * length / max_total, 0.0, float(length))
    return np.sqrt(xs * (length - xs) / (length - 1)) * max_total / length


#: Rudner's method, as its row in the report names it.
RUDNER = "Rudner (observed score, conditional SEM, normal)"


def rudner_classification(x, csem, cut: float) -> Classification:
    """Classification accuracy by Rudner's (2001, 2005) method, without IRT: each candidate's true score is taken
    as normal around their observed score with their conditional SEM as its SD, so the chance their true score is
    at or above the cut is

        P_i = Phi((x_i - cut) / csem_i)           (1 or 0 when csem_i = 0, by the side of the cut x_i is on)

    and, over the candidates, with pass when x_i >= cut:

        accuracy   = mean(pass_i P_i + fail_i (1 - P_i))
        false_pass = mean(pass_i (1 - P_i))       false_fail = mean(fail_i P_i)

    so accuracy + false passes + false fails = 1. It gives accuracy only (p0 and kappa None): the method is an
    expectation over the candidates who sat, not a model of a second form. Rudner, L. M. (2001), Computing the
    expected proportions of misclassified examinees, Practical Assessment, Research & Evaluation 7(14); Rudner, L.
    M. (2005), Expected classification accuracy, PARE 10(13) (there with an IRT ability and its standard error;
    here the observed score and Lord's conditional SEM, :func:`model_csem`, in the classical form the method
    allows). As a point estimate it runs slightly high, more so in small groups (Applied Psychological
    Measurement 31(3), 2007, doi:10.1177/0146621606291557)."""
    x = np.asarray(x, float)
    s = np.asarray(csem, float)
    if not len(x):
        return Classification(RUDNER, None, None, None, None, None)
    passed = x >= cut - 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (x - cut) / np.where(s > 0, s, 1.0), 0.0)
    p_true_pass = np.where(s > 0, stats.norm.cdf(z), passed.astype(float))
    false_pass = float(np.mean(np.where(passed, 1 - p_true_pass, 0.0)))
    false_fail = float(np.mean(np.where(passed, 0.0, p_true_pass)))
    return Classification(RUDNER, None, None, _f(1 - false_pass - false_fail), false_pass, false_fail)


def reliability(scores: pd.DataFrame, max_points: pd.Series, cut: float,
                confidence: float = 0.95, min_n: int = MIN_N, stable: int = MIN_N) -> Reliability | TooFew:
    """Reliability of one form: alpha / KR-20 with its interval, SEM, CSEM at the cut, decision
    consistency by two methods and accuracy by two, and the candidates within +-1.96 CSEM of the cut.

    ``scores``: rows candidates, columns items, points earned (NaN = pending; such candidates
    are left out). ``max_points``: item -> points. ``cut``: raw points to pass (total >= cut).
    TooFew under ``min_n`` candidates; ``caution`` says so under ``stable``.

    * alpha: pingouin.cronbach_alpha, with Feldt's interval (see :func:`feldt_ci`).
    * SEM = sd * sqrt(1 - alpha).
    * CSEM at the cut: Lord's binomial error model (:func:`lord_csem`). For k items scored 0/1,
      sqrt(c (k - c) / (k - 1)). Otherwise the score is put on the length n the models use
      (:func:`model_length`: Livingston & Lewis's effective length, with r = alpha, rounded and kept within
      2 and the form's points): c' = c n / max, CSEM = (max / n) * sqrt(c' (n - c') / (n - 1)).
    * p0 and kappa: Subkoviak's method (:func:`subkoviak`), on number-correct with r = KR-21
      for 0/1 items (as Subkoviak 1976), else on the effective-length scale with r = alpha
      (Livingston & Lewis 1995's rescaling) and the cut rounded up on that scale.
    * The beta-binomial (:func:`beta_binomial_classification`) on the same length, reliability and cut,
      with the true cut at cut / max points: p0, kappa, accuracy, false passes and false fails.
    * Rudner's method (:func:`rudner_classification`) on each candidate's total and conditional SEM at it
      (:func:`model_csem`, on the same length), with the cut in points: accuracy, false passes and false fails.
    * ``within_band``: candidates whose total is within cut +- 1.96 CSEM (inclusive).
    """
    data, mp = _complete(scores, max_points)
    return _reliability(data, mp, cut, confidence, min_n, stable)


def _reliability(data: pd.DataFrame, mp: pd.Series, cut: float, confidence: float, min_n: int, stable: int,
                 interval: bool = True) -> Reliability | TooFew:
    """:func:`reliability` on ``data`` already complete (``_complete``'s frame and points). ``interval=False``
    (the bootstrap's draws, which read only the classifications) leaves out alpha's interval and what is
    carried from it (``alpha_ci``, ``sem_ci``, ``csem_ci`` None); every other figure is the same to the bit."""
    n, k = data.shape
    if n < max(min_n, 2):
        return TooFew(n, max(min_n, 2))
    notes: list[str] = []
    total = data.sum(axis=1).to_numpy(float)
    max_total = float(mp.sum())
    mean = float(total.mean())
    var = float(total.var(ddof=1))
    sd = _f(math.sqrt(var))
    dich = _is_dichotomous(data, mp)
    alpha = ci = None
    if k < 2:
        notes.append("one item: no internal-consistency reliability")
    elif not var > 0:
        notes.append("every candidate has the same total: reliability undefined")
    elif interval:
        alpha, ci = _alpha_with_ci(data, confidence)
    else:
        alpha = _alpha_as_pingouin(data)
    sem = None if alpha is None or sd is None else _f(sd * math.sqrt(max(0.0, 1 - alpha)))

    r_model: float | None
    n_eff: float | None
    if dich:
        n_eff, r_model = float(k), kr21(mean, var, k)
        csem_method = "Lord's binomial error model, sqrt(c(k-c)/(k-1)), k items scored 0/1"
        cons_method = "Subkoviak (1976), binomial model, true scores regressed with KR-21"
    else:
        r_model = alpha
        n_eff = effective_length(mean, var, alpha, 0.0, max_total) if alpha is not None else None
        csem_method = ("Lord's binomial error model on Livingston-Lewis effective test length "
                       "(r = alpha; rounded, within 2 and the form's points), scaled back to points")
        cons_method = ("Subkoviak (1976) on Livingston-Lewis (1995) effective test length, "
                       "true scores regressed with alpha")
    length = model_length(n_eff, max_total, k, dich)
    if not 0 <= cut <= max_total:
        notes.append(f"cut {cut} outside 0..{max_total}")
    csem = None
    if length.used is not None and length.used >= 2 and 0 <= cut <= max_total and max_total > 0:
        if dich:
            csem = lord_csem(cut, k)
        else:  # on the length used: c' = c n / max, CSEM = (max / n) sqrt(c' (n - c') / (n - 1))
            base = lord_csem(cut * length.used / max_total, length.used)
            csem = None if base is None else base * max_total / length.used

    p0 = kappa = None
    classes: list[Classification] = []
    n_int = c_int = None
    if r_model is not None and length.used is not None:
        n_int = length.used
        x_eff = total * n_int / max_total if not dich else total
        c_eff = cut * n_int / max_total if not dich else cut
        c_int = math.ceil(c_eff - 1e-9)
        p0, kappa = subkoviak(x_eff, n_int, c_eff, r_model)
        classes.append(Classification("Subkoviak", p0, kappa, None, None, None))
        ab = beta_binomial_params(float(np.mean(x_eff)), n_int, r_model)
        if ab is not None:
            classes.append(beta_binomial_classification(*ab, n_int, c_int, cut / max_total if max_total else 0))
        each = model_csem(total, n_int, max_total)  # the conditional SEM at the cut's rule, at every total
        if each is not None and 0 <= cut <= max_total:
            classes.append(rudner_classification(total, each, cut))
    else:
        notes.append("decision consistency undefined without score variance")
    sem_ci = None
    if ci is not None and sd is not None:  # Feldt's interval carried to the SEM (it falls as alpha rises)
        sem_ci = (sd * math.sqrt(max(0.0, 1 - ci[1])), sd * math.sqrt(max(0.0, 1 - ci[0])))
    csem_ci = None
    if ci is not None and not dich and csem is not None and 0 <= cut <= max_total:
        ends: list[float] = []  # the length at each end of alpha's interval, by the same rule, and Lord's CSEM on it
        for r in ci:
            used = model_length(effective_length(mean, var, r, 0.0, max_total), max_total, k, dich).used
            base = lord_csem(cut * used / max_total, used) if used is not None and used >= 2 else None
            if base is not None and used:
                ends.append(base * max_total / used)
        if len(ends) == 2:
            csem_ci = (min(ends), max(ends))
    band = within = None
    if csem is not None:
        band = (cut - 1.96 * csem, cut + 1.96 * csem)
        within = int(((total >= band[0] - 1e-9) & (total <= band[1] + 1e-9)).sum())
    return Reliability(
        n=n, k=k, max_points=max_total, mean=mean, sd=sd, alpha=alpha, alpha_ci=ci,
        confidence=confidence, alpha_name="KR-20" if dich else "alpha", sem=sem, cut=float(cut),
        pass_rate=float((total >= cut - 1e-9).mean()), csem_at_cut=csem, csem_method=csem_method,
        p0=p0, kappa=kappa, consistency_method=cons_method, effective_length=n_eff,
        model_reliability=r_model, notes=notes, classifications=classes, within_band=within, band=band,
        caution=caution(n, stable), model_length=n_int, model_cut=c_int, length=length,
        error_var=None if sem is None else sem ** 2, var=var, sem_ci=sem_ci, csem_ci=csem_ci)


#: Bootstrap replicates for the intervals of decision consistency and accuracy (candidates resampled; seeded,
#: so the same data give the same interval).
CLASSIFICATION_REPLICATES = 300
#: The figures of a classification that get an interval.
CLASSIFICATION_FIELDS = ("p0", "kappa", "accuracy", "false_pass", "false_fail")


def classification_intervals(scores: pd.DataFrame, max_points: pd.Series, cut: float, confidence: float = 0.95,
                             replicates: int = CLASSIFICATION_REPLICATES, seed: int = 0
                             ) -> dict[str, dict[str, tuple[float, float]]]:
    """Percentile bootstrap intervals over candidates for every method's p0, kappa, accuracy, false passes and
    false fails (method -> figure -> (low, high)): the form's candidates are drawn with replacement and
    :func:`reliability` is run again on each draw, its test length and reliability re-estimated with it, so the
    interval carries their uncertainty too. A figure defined in fewer than half the draws gets none."""
    data, mp = _complete(scores, max_points)
    arr = data.to_numpy(float)
    if len(arr) < 2:
        return {}
    rng = np.random.default_rng(seed)
    got: dict[str, dict[str, list[float]]] = {}
    for _ in range(replicates):  # a draw is complete already: no second pass through _complete, no alpha interval
        draw = pd.DataFrame(arr[rng.integers(0, len(arr), len(arr))], columns=data.columns)
        rel = _reliability(draw, mp, cut, confidence, min_n=2, stable=MIN_N, interval=False)
        if isinstance(rel, TooFew):
            continue
        for c in rel.classifications:
            for name in CLASSIFICATION_FIELDS:
                v = getattr(c, name)
                if v is not None and math.isfinite(v):
                    got.setdefault(c.method, {}).setdefault(name, []).append(float(v))
    tail = (1 - confidence) / 2
    return {method: {name: (float(np.quantile(v, tail)), float(np.quantile(v, 1 - tail)))
                     for name, v in figures.items() if len(v) >= replicates / 2}
            for method, figures in got.items()}


@dataclass
class Pooled:
    """Reliability and decision consistency pooled over forms of one blueprint."""

    forms: int
    n: int
    alpha: float | None
    alpha_ci: tuple[float, float] | None
    sem: float | None
    classifications: list[Classification]
    method: str
    caution: str = ""


def _error_var_matrix(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each resample's error variance var (1 - alpha) = var - k/(k-1) (var - sum of item variances), and its
    score variance, for ``x`` (resamples x candidates x items): vectorised for the bootstrap, no division by a
    resample's variance (a resample with none adds nothing)."""
    k = x.shape[2]
    item_var = x.var(axis=1, ddof=1).sum(axis=1)
    total_var = x.sum(axis=2).var(axis=1, ddof=1)
    return total_var - k / (k - 1) * (total_var - item_var), total_var


def pooled_reliability(forms: list[tuple[pd.DataFrame, pd.Series, float]], confidence: float = 0.95,
                       min_n: int = MIN_PUBLISH, stable: int = MIN_N, n_boot: int = 1000,
                       seed: int = 0) -> Pooled | TooFew:
    """Pool forms built to one blueprint and handed out to randomly equivalent groups.

    Reliability: the pooled-within-forms coefficient, 1 - sum (n_f - 1) SEM_f^2 / sum (n_f - 1) var_f (each
    form's error and observed variances, ddof = 1, weighted by degrees of freedom: the share of the score
    variance within forms that is true), with a stratified bootstrap percentile interval (candidates
    resampled within each form, fixed ``seed``). SEM: sqrt(sum (n_f - 1) SEM_f^2 / sum (n_f - 1)).
    Decision consistency and accuracy: each method's figures averaged over forms weighted by n_f (each
    candidate counts once: p0 is a mean over candidates of their chance of the same decision); kappa from
    the pooled p0 and the n-weighted chance agreement. Forms with fewer than 3 candidates are left out."""
    rels, datas = [], []
    for scores, mp, cut in forms:
        r = reliability(scores, mp, cut, confidence, min_n=3, stable=0)
        if isinstance(r, TooFew) or r.error_var is None or not r.var:
            continue
        rels.append(r)
        datas.append(_complete(scores, mp)[0].to_numpy(float))
    n = sum(r.n for r in rels)
    if n < min_n:
        return TooFew(n, min_n)
    dfs = np.array([r.n - 1 for r in rels], float)
    err = float((dfs * [r.error_var for r in rels]).sum())
    obs = float((dfs * [r.var for r in rels]).sum())
    alpha = _f(1 - err / obs)
    sem = _f(math.sqrt(err / dfs.sum()))
    ci = None
    if n_boot:
        rng = np.random.default_rng(seed)
        e_sum = np.zeros(n_boot)
        o_sum = np.zeros(n_boot)
        for x in datas:
            idx = rng.integers(0, len(x), (n_boot, len(x)))
            e, v = _error_var_matrix(x[idx])
            e_sum += (len(x) - 1) * e
            o_sum += (len(x) - 1) * v
        with np.errstate(divide="ignore", invalid="ignore"):
            boot = 1 - e_sum / o_sum
        boot = boot[np.isfinite(boot)]
        if len(boot):
            q = (1 - confidence) / 2
            ci = (float(np.quantile(boot, q)), float(np.quantile(boot, 1 - q)))
    weights = np.array([r.n for r in rels], float)
    classes = []
    for c in rels[0].classifications if rels else []:
        per = [m for r in rels for m in r.classifications if m.method == c.method]
        if len(per) != len(rels):
            continue

        def avg(attr: str, per=per) -> float | None:
            vals = [getattr(p, attr) for p in per]
            return None if any(v is None for v in vals) else _f(np.average(vals, weights=weights))

        p0 = avg("p0")
        pc = _f(np.average([_chance(p) for p in per], weights=weights)) if all(p.kappa is not None
                                                                              for p in per) else None
        kappa = None if p0 is None or pc is None or 1 - pc < 1e-12 else _f((p0 - pc) / (1 - pc))
        classes.append(Classification(c.method, p0, kappa, avg("accuracy"), avg("false_pass"), avg("false_fail")))
    method = (f"{len(rels)} forms pooled: reliability within forms (error variance over score variance, weighted by "
              "n - 1), decision consistency and accuracy averaged over forms weighted by candidates")
    return Pooled(len(rels), n, alpha, ci, sem, classes, method, caution(n, stable))


def _chance(c: Classification) -> float:
    """The chance agreement behind a kappa: pc = (p0 - kappa) / (1 - kappa)."""
    assert c.p0 is not None and c.kappa is not None
    return c.p0 if c.kappa == 1 else (c.p0 - c.kappa) / (1 - c.kappa)


# --------------------------------------------------------------------------------------------
# Items and distractors


def _labels(value) -> tuple[str, ...]:
    """The option labels an answer or key names: "B", or several joined by "," ("A,C": select all that apply)."""
    return tuple(str(value).split(","))


def fisher_ci(r: float | None, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Confidence interval of a correlation by Fisher's z: tanh(atanh(r) -+ z_c / sqrt(n - 3)).
    Fisher, R. A. (1921). Metron 1, 3-32. None under 4 observations or without r."""
    if r is None or n < 4 or abs(r) >= 1:
        return None, None
    z = math.atanh(r)
    h = stats.norm.ppf(0.5 + confidence / 2) / math.sqrt(n - 3)
    return math.tanh(z - h), math.tanh(z + h)


def facility_ci(x: np.ndarray, max_points: float, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Interval of an item's facility: Wilson's for an item scored 0/1 (k right of n), else a t interval of
    the mean share of points. None without candidates."""
    x = np.asarray(x, float)
    n = len(x)
    if not n or not max_points:
        return None, None
    if max_points == 1 and np.isin(x, (0.0, 1.0)).all():
        return wilson(int(x.sum()), n, confidence)
    if n < 2:
        return None, None
    share = x / max_points
    h = stats.t.ppf(0.5 + confidence / 2, n - 1) * share.std(ddof=1) / math.sqrt(n)
    return max(0.0, float(share.mean() - h)), min(1.0, float(share.mean() + h))


def item_stats(scores: pd.DataFrame, max_points: pd.Series, choices: pd.DataFrame | None = None,
               keys: pd.Series | None = None, min_n: int = MIN_N, stable: int = MIN_N,
               options: dict | pd.Series | None = None,
               min_choosers: int = DISTRACTOR_MIN_CHOOSERS) -> pd.DataFrame:
    """One row per item.

    Columns: item, max_points, n, mean, facility (mean share of the item's points),
    discrimination (corrected point-biserial: Pearson r of the item with the total without the
    item), key, for objective items ``share_<L>`` (share of candidates choosing option L) and
    ``rpb_<L>`` (point-biserial of choosing L against the corrected total) for each label L
    (``choices`` and ``keys`` hold labels as stored: "B", or "A,C" when several may be chosen,
    so an option's share counts every answer that chose it),
    ``share_blank``, flags ("; "-joined: too easy (> 0.95), too hard (< 0.20), negative
    discrimination (< 0), distractor L chosen more by strong candidates (rpb_L > 0)) and note.

    A distractor is flagged only when at least ``min_choosers`` candidates chose it: one or two candidates'
    choice makes its point-biserial a fact about them, not about the option. ``options`` (item -> options
    offered, e.g. 2 for true/false) leaves the options an item does not offer blank, and gives an item with a
    single distractor at most one flag for one fact: its only distractor drawing strong candidates is its key
    drawing weak ones, so with negative discrimination flagged the distractor is not flagged again.

    Candidates with a pending score (NaN) are left out. Under ``min_n`` (the report's MIN_N; the
    item analysis of ``exam-builder analyse`` asks for every figure, with 0) the correlations are
    NaN, no flag is raised and ``note`` says "too few candidates (...)". NaN also where an item or
    option has no variance (and for correlations of fewer than 3 candidates). Intervals (95%):
    facility_low / facility_high (:func:`facility_ci`), discrimination_low / discrimination_high
    (:func:`fisher_ci`). From ``min_n`` to ``stable`` candidates the flags are marked "(small sample,
    n = 17)" ("provisional" is kept for results whose key validation is not closed).
    """
    data, mp = _complete(scores, max_points)
    n = len(data)
    small = n < min_n
    total = data.sum(axis=1)
    keys = pd.Series(dtype=object) if keys is None else pd.Series(keys)
    ch = None
    labels: list[str] = []
    if choices is not None:
        ch = choices.reindex(index=data.index)
        objective = [c for c in data.columns if c in ch.columns and pd.notna(keys.get(c))]
        seen = set(pd.unique(ch[objective].to_numpy().ravel())) if objective else set()
        seen |= {keys[c] for c in objective}
        labels = sorted({lab for v in seen if pd.notna(v) for lab in _labels(v)})
    rows = []
    for item in data.columns:
        x = data[item].to_numpy(float)
        rest = (total - data[item]).to_numpy(float)
        pts = _f(mp.get(item))
        mean = _f(x.mean()) if n else None
        row: dict = {"item": item, "max_points": pts, "n": n, "mean": mean,
                     "facility": (mean / pts) if (mean is not None and pts) else None,
                     "discrimination": None if small else _corr(x, rest)}
        row["facility_low"], row["facility_high"] = facility_ci(x, pts or 0.0)
        row["discrimination_low"], row["discrimination_high"] = fisher_ci(row["discrimination"], n)
        key = keys.get(item) if ch is not None and item in ch.columns else None
        row["key"] = key if pd.notna(key) else None
        flags, distractor_flags, notes = [], [], []
        given = None if options is None else options.get(item)
        offered = None if given is None or pd.isna(given) else int(given)
        single_distractor = False
        if row["key"] is not None and ch is not None:  # a key is read only where the choices are
            col = ch[item]
            key_labels = _labels(row["key"])
            single_distractor = offered is not None and offered - len(key_labels) == 1
            for lab in labels:
                if offered is not None and lab not in LABELS[:offered]:  # not an option of this item
                    row[f"share_{lab}"] = row[f"rpb_{lab}"] = None
                    continue
                chose = (col.astype(object).map(lambda v, lab=lab: pd.notna(v) and lab in _labels(v))).to_numpy(float)
                row[f"share_{lab}"] = _f(chose.mean()) if n else None
                rpb = None if small else _corr(chose, rest)
                row[f"rpb_{lab}"] = rpb
                if rpb is not None and rpb > 0 and lab not in key_labels and not small \
                        and chose.sum() >= min_choosers:
                    distractor_flags.append(f"distractor {lab} chosen more by strong candidates")
            row["share_blank"] = _f(col.isna().mean()) if n else None
        if small:
            notes.append(str(TooFew(n, min_n)))
        else:
            fac, disc = row["facility"], row["discrimination"]
            if fac is not None and fac > 0.95:
                flags.append("too easy")
            if fac is not None and fac < 0.20:
                flags.append("too hard")
            if disc is not None and disc < 0:
                flags.append("negative discrimination")
                if single_distractor:  # the one distractor's pull on strong candidates is this same fact
                    distractor_flags = []
            flags += distractor_flags
            if disc is None:
                notes.append("no variance: discrimination undefined")
            if flags and n < stable:
                flags = [f"{f} (small sample, n = {n})" for f in flags]
        row["flags"] = "; ".join(flags)
        row["note"] = "; ".join(notes)
        rows.append(row)
    cols = ["item", "max_points", "n", "mean", "facility", "facility_low", "facility_high", "discrimination",
            "discrimination_low", "discrimination_high", "key"]
    if labels:
        cols += [c for lab in labels for c in (f"share_{lab}", f"rpb_{lab}")] + ["share_blank"]
    cols += ["flags", "note"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------------------------
# Raters


def icc2(a: np.ndarray, b: np.ndarray) -> tuple[float | None, tuple | None]:
    """ICC(2,1) (two-way random effects, absolute agreement, single rater) for two raters.

    pingouin.intraclass_corr ("ICC2" / "ICC(A,1)") when available, else Shrout & Fleiss (1979),
    Psychological Bulletin 86, 420-428, Case 2:
        ICC(2,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)
    with MSR, MSC, MSE the two-way ANOVA mean squares of targets, raters and residual.
    None when the scores have no variance.
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    n = len(a)
    if n < 3 or np.ptp(np.concatenate([a, b])) == 0:
        return None, None
    try:
        import pingouin as pg
        long = pd.DataFrame({"t": np.r_[np.arange(n), np.arange(n)],
                             "r": ["a"] * n + ["b"] * n, "s": np.r_[a, b]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = pg.intraclass_corr(data=long, targets="t", raters="r", ratings="s")
        row = res[res["Type"].isin(["ICC2", "ICC(A,1)"])].iloc[0]
        ci = row["CI95%"] if "CI95%" in row.index else row["CI95"]
        return _f(row["ICC"]), (_f(ci[0]), _f(ci[1]))
    except ImportError:  # pragma: no cover
        pass
    except Exception:
        return None, None
    x = np.c_[a, b]  # pragma: no cover
    k = 2  # pragma: no cover
    gm = x.mean()  # pragma: no cover
    msr = k * ((x.mean(1) - gm) ** 2).sum() / (n - 1)  # pragma: no cover
    msc = n * ((x.mean(0) - gm) ** 2).sum() / (k - 1)  # pragma: no cover
    sse = ((x - x.mean(1, keepdims=True) - x.mean(0, keepdims=True) + gm) ** 2).sum()  # pragma: no cover
    mse = sse / ((n - 1) * (k - 1))  # pragma: no cover
    return _f((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)), None  # pragma: no cover


def _qwk(a: np.ndarray, b: np.ndarray, max_points: float, step: float) -> float | None:
    """Quadratic-weighted kappa over every level 0, step, ..., max (so unused levels still
    count in the distance), via sklearn.metrics.cohen_kappa_score."""
    from sklearn.metrics import cohen_kappa_score

    la = np.rint(np.asarray(a, float) / step).astype(int)
    lb = np.rint(np.asarray(b, float) / step).astype(int)
    top = max(int(round(max_points / step)), int(la.max()), int(lb.max()))
    if len(set(la) | set(lb)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = cohen_kappa_score(la, lb, labels=list(range(0, top + 1)), weights="quadratic")
    return _f(k)


def _pairs(ratings: pd.DataFrame) -> pd.DataFrame:
    """Each pair of independent ratings of the same response by two raters."""
    r = ratings.copy()
    r = r[pd.to_numeric(r["score"], errors="coerce").notna()]
    r["score"] = r["score"].astype(float)
    if "role" in r.columns:
        r = r[r["role"].isin(INDEPENDENT_ROLES)]
    if "step" not in r.columns:
        r["step"] = 1.0
    order = {role: i for i, role in enumerate(INDEPENDENT_ROLES)}
    out = []
    for (resp, item), g in r.groupby(["response", "item"], sort=False):
        g = g.assign(_o=g["role"].map(order) if "role" in g.columns else 0).sort_values(["_o", "rater"])
        recs = g.to_dict("records")
        for x, y in combinations(recs, 2):
            if x["rater"] == y["rater"]:
                continue
            out.append({"response": resp, "item": item, "first_rater": x["rater"], "second_rater": y["rater"],
                        "first_score": x["score"], "second_score": y["score"],
                        "max_points": float(x["max_points"]), "step": float(x["step"] or 1.0)})
    return pd.DataFrame(out, columns=["response", "item", "first_rater", "second_rater", "first_score",
                                      "second_score", "max_points", "step"])


def _agreement_row(item, ra, rb, a, b, max_points, step, min_n: int = MIN_N, stable: int = MIN_N,
                   share: np.ndarray | None = None) -> dict:
    """One row of agreement; ``share`` (each response's maximum) puts the scores on a 0-1 scale for the ICC
    when items of different maxima are pooled, and then kappa is left out."""
    n = len(a)
    row = {"item": item, "rater_a": ra, "rater_b": rb, "n": n, "exact": None, "adjacent": None,
           "qwk": None, "icc": None, "icc_ci_low": None, "icc_ci_high": None, "note": ""}
    if n == 0:
        row["note"] = str(TooFew(0, min_n))
        return row
    d = np.abs(np.asarray(a) - np.asarray(b))
    row["exact"] = float(np.mean(d < 1e-9))
    row["adjacent"] = float(np.mean(d <= np.asarray(step) + 1e-9))
    if n < min_n:
        row["note"] = str(TooFew(n, min_n))
        return row
    row["note"] = caution(n, stable)
    if share is None:
        row["qwk"] = _qwk(a, b, max_points, float(np.min(step)))
        icc, ci = icc2(a, b)
    else:
        icc, ci = icc2(np.asarray(a, float) / share, np.asarray(b, float) / share)
    row["icc"] = icc
    if ci:
        row["icc_ci_low"], row["icc_ci_high"] = ci
    if (row["qwk"] is None and share is None) or icc is None:
        row["note"] = "no variance in the scores: kappa / ICC undefined"
    return row


def adjudication_rate(ratings: pd.DataFrame) -> pd.DataFrame:
    """Per item: responses rated, responses that went to adjudication (an ``adjudication``
    role rating exists), and their share. Columns: item, n_responses, adjudicated,
    adjudication_rate."""
    rows = []
    for item, g in ratings.groupby("item", sort=True):
        nresp = g["response"].nunique()
        adj = g.loc[g["role"] == ADJUDICATION_ROLE, "response"].nunique() if "role" in g.columns else 0
        rows.append({"item": item, "n_responses": nresp, "adjudicated": adj,
                     "adjudication_rate": adj / nresp if nresp else None})
    return pd.DataFrame(rows, columns=["item", "n_responses", "adjudicated", "adjudication_rate"])


def rater_agreement(ratings: pd.DataFrame, min_n: int = MIN_N, stable: int = MIN_N,
                    pool: bool = False) -> pd.DataFrame:
    """Agreement of the independent (``first`` / ``second``) ratings.

    ``ratings`` columns: response, item, rater, role, score, max_points, decided (and
    optionally ``step``: the distance between two adjacent levels, default 1 point).

    One row per item with rater_a = rater_b = "(all)" (every pair, first against second
    rating), then one row per item and rater pair (names sorted). Columns: item, rater_a,
    rater_b, n (responses both rated), exact (share identical), adjacent (share within one
    step), qwk (quadratic-weighted kappa over all levels 0..max, scikit-learn), icc, icc_ci_low,
    icc_ci_high (ICC(2,1), pingouin), n_responses, adjudicated, adjudication_rate (item rows
    only) and note. kappa and ICC are NaN under ``min_n`` pairs (note says why) or without variance;
    under ``stable`` the note carries the small-sample warning.

    ``pool``: a first row, item "(all items)", pools every pair of every item (each response's two
    independent ratings): exact and adjacent agreement over all of them; quadratic-weighted kappa when
    every item has the same maximum and step; the ICC on the share of each item's maximum (so items of
    different maxima pool); the adjudication rate over all responses.
    """
    pairs = _pairs(ratings)
    adj = adjudication_rate(ratings).set_index("item")
    rows = []
    if pool and not pairs.empty:
        same = pairs["max_points"].nunique() == 1 and pairs["step"].nunique() == 1
        row = _agreement_row("(all items)", "(all)", "(all)", pairs["first_score"].to_numpy(),
                             pairs["second_score"].to_numpy(), float(pairs["max_points"].max()),
                             pairs["step"].to_numpy(), min_n, stable,
                             None if same else pairs["max_points"].to_numpy(float))
        responses, adjudicated = int(adj["n_responses"].sum()), int(adj["adjudicated"].sum())
        row.update({"n_responses": responses, "adjudicated": adjudicated,
                    "adjudication_rate": adjudicated / responses if responses else None})
        rows.append(row)
    for item in sorted(ratings["item"].unique(), key=str):
        p = pairs[pairs["item"] == item]
        mx = float(pd.to_numeric(ratings.loc[ratings["item"] == item, "max_points"]).max())
        row = _agreement_row(item, "(all)", "(all)", p["first_score"].to_numpy(), p["second_score"].to_numpy(),
                             mx, p["step"].to_numpy(), min_n, stable)
        if item in adj.index:
            row.update(adj.loc[item].to_dict())
        rows.append(row)
        if p.empty:
            continue
        lo_hi = [sorted([x, y], key=str) for x, y in zip(p["first_rater"], p["second_rater"], strict=True)]
        p = p.assign(_ra=[v[0] for v in lo_hi], _rb=[v[1] for v in lo_hi])
        for (ra, rb), g in p.groupby(["_ra", "_rb"], sort=True):
            swap = g["first_rater"] != ra
            a = np.where(swap, g["second_score"], g["first_score"])
            b = np.where(swap, g["first_score"], g["second_score"])
            rows.append(_agreement_row(item, ra, rb, a, b, mx, g["step"].to_numpy(), min_n, stable))
    cols = ["item", "rater_a", "rater_b", "n", "exact", "adjacent", "qwk", "icc", "icc_ci_low", "icc_ci_high",
            "n_responses", "adjudicated", "adjudication_rate", "note"]
    return pd.DataFrame(rows, columns=cols)


def rater_leniency(ratings: pd.DataFrame, by: str | list[str] | None = None,
                   confidence: float = 0.95, min_n: int = MIN_N, stable: int = MIN_N) -> pd.DataFrame:
    """Each rater's mean of (own score - decided score) over their independent ratings with a
    decided score; positive = lenient. ``by``: extra grouping column(s) (e.g. a month column,
    so drift shows). Columns: rater, [by...], n, mean_score, mean_decided, leniency,
    leniency_ci_low, leniency_ci_high (t interval), leniency_share (leniency / mean max
    points), note (too few under MIN_N)."""
    r = ratings.copy()
    r["score"] = pd.to_numeric(r["score"], errors="coerce")
    r["decided"] = pd.to_numeric(r["decided"], errors="coerce")
    r = r.dropna(subset=["score", "decided"])
    if "role" in r.columns:
        r = r[r["role"].isin(INDEPENDENT_ROLES)]
    keys = ["rater"] + ([by] if isinstance(by, str) else list(by or []))
    rows = []
    for key, g in r.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        d = (g["score"] - g["decided"]).to_numpy(float)
        n = len(d)
        row = dict(zip(keys, key, strict=True))
        lo = hi = None
        if n >= 2:
            se = d.std(ddof=1) / math.sqrt(n)
            t = stats.t.ppf(0.5 + confidence / 2, n - 1)
            lo, hi = d.mean() - t * se, d.mean() + t * se
        mp = float(pd.to_numeric(g["max_points"]).mean())
        row.update({"n": n, "mean_score": float(g["score"].mean()), "mean_decided": float(g["decided"].mean()),
                    "leniency": float(d.mean()), "leniency_ci_low": lo, "leniency_ci_high": hi,
                    "leniency_share": float(d.mean()) / mp if mp else None,
                    "note": str(TooFew(n, min_n)) if n < min_n else caution(n, stable)})
        rows.append(row)
    cols = keys + ["n", "mean_score", "mean_decided", "leniency", "leniency_ci_low", "leniency_ci_high",
                   "leniency_share", "note"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------------------------
# Forms


def mean_ci(values, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """The t interval of a mean (mean +- t(n - 1) sd / sqrt(n)); None under two values or without spread."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if len(x) < 2:
        return None, None
    sd = float(x.std(ddof=1))
    if not math.isfinite(sd):
        return None, None
    h = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1)) * sd / math.sqrt(len(x))
    return float(x.mean()) - h, float(x.mean()) + h


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for k of n (statsmodels proportion_confint, method="wilson")."""
    if n <= 0:
        return None, None
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    return float(lo), float(hi)


def form_comparison(totals: pd.DataFrame, cut_by_form: dict, confidence: float = 0.95, min_n: int = MIN_N,
                    stable: int = MIN_N) -> pd.DataFrame:
    """Per form: n, max_points, cut, mean with a t interval, sd, mean_share (mean / max
    points), passed, pass_rate with a Wilson interval, and ``conclusive``: "yes", the small-sample
    warning (``caution``) under ``stable``, or "too few candidates (n = 8; needs 10)" under ``min_n``.

    ``totals`` columns: form, total, max_points, passed; rows with no total (pending) are left
    out. Columns: form, n, max_points, cut, mean, mean_ci_low, mean_ci_high, sd, mean_share,
    passed, pass_rate, pass_ci_low, pass_ci_high, conclusive.
    """
    t = totals.copy()
    t["total"] = pd.to_numeric(t["total"], errors="coerce")
    t = t.dropna(subset=["total"])
    forms = list(dict.fromkeys(list(cut_by_form) + sorted(t["form"].unique(), key=str)))
    rows = []
    for form in forms:
        g = t[t["form"] == form]
        x = g["total"].to_numpy(float)
        n = len(x)
        mp = _f(pd.to_numeric(g["max_points"]).max()) if n else None
        mean = _f(x.mean()) if n else None
        sd = _f(x.std(ddof=1)) if n >= 2 else None
        lo, hi = mean_ci(x, confidence) if n >= 2 and sd is not None else (None, None)
        passed = g["passed"].dropna().astype(bool)
        k = int(passed.sum())
        plo, phi = wilson(k, len(passed), confidence)
        rows.append({"form": form, "n": n, "max_points": mp, "cut": _f(cut_by_form.get(form)), "mean": mean,
                     "mean_ci_low": lo, "mean_ci_high": hi, "sd": sd,
                     "mean_share": mean / mp if (mean is not None and mp) else None,
                     "passed": k, "pass_rate": k / len(passed) if len(passed) else None,
                     "pass_ci_low": plo, "pass_ci_high": phi,
                     "conclusive": "yes" if n >= max(min_n, stable) else (
                         caution(n, stable) if n >= min_n else str(TooFew(n, min_n)))})
    cols = ["form", "n", "max_points", "cut", "mean", "mean_ci_low", "mean_ci_high", "sd", "mean_share",
            "passed", "pass_rate", "pass_ci_low", "pass_ci_high", "conclusive"]
    return pd.DataFrame(rows, columns=cols)


@dataclass
class Equating:
    n_a: int
    n_b: int
    gamma_a: float        # max_a / max_common
    gamma_b: float        # max_b / max_common
    w_a: float            # n_a / (n_a + n_b)
    w_b: float
    synthetic_mean_a: float
    synthetic_mean_b: float
    constant: float       # add to a form-A score to put it on form B's scale
    constant_ci: tuple[float, float] | None  # bootstrap percentile interval
    common_mean_a: float
    common_mean_b: float
    method: str = "nominal-weights mean equating (Babcock, Albano & Raymond 2012)"

    def equate(self, x):
        """A form-A score on form B's scale."""
        return x + self.constant

    def as_dict(self) -> dict:
        return asdict(self)


def _as_scores(s) -> pd.Series:
    if isinstance(s, pd.DataFrame):
        s = s.apply(pd.to_numeric, errors="coerce")
        return s.sum(axis=1, min_count=s.shape[1])
    return pd.to_numeric(pd.Series(s), errors="coerce")


def _nominal_constant(va, xa, vb, yb, ga, gb) -> tuple[float, float, float]:
    na, nb = len(xa), len(yb)
    wa = na / (na + nb)
    wb = 1 - wa
    dv = va.mean() - vb.mean()
    ms_x = xa.mean() - wb * ga * dv
    ms_y = yb.mean() + wa * gb * dv
    return ms_y - ms_x, ms_x, ms_y


def mean_equating(common_scores_a, common_scores_b, totals_a, totals_b, *, max_a: float, max_b: float,
                  max_common: float, confidence: float = 0.95, n_boot: int = 2000,
                  seed: int = 0) -> Equating | TooFew:
    """Nominal-weights mean equating of form A onto form B through their common items
    (non-equivalent groups with anchor test).

    Group 1 took form A (X), group 2 form B (Y); V is the score on the common items. Tucker's
    synthetic-population means (Kolen & Brennan 2014, Test Equating, Scaling, and Linking,
    3rd ed., eq. 4.17-4.18) with w1 = n1 / (n1 + n2), w2 = 1 - w1:
        mu_s(X) = mu_1(X) - w2 * gamma1 * (mu_1(V) - mu_2(V))
        mu_s(Y) = mu_2(Y) + w1 * gamma2 * (mu_1(V) - mu_2(V))
    and, the nominal weights, gamma1 = K_X / K_V, gamma2 = K_Y / K_V (test length over anchor
    length; here points, which is the number of items when items are 0/1). The mean equating
    function is e_Y(x) = x - mu_s(X) + mu_s(Y), so ``constant`` = mu_s(Y) - mu_s(X).
    Babcock, B., Albano, A. & Raymond, M. (2012). Nominal weights mean equating: A method for
    very small samples. Educational and Psychological Measurement 72(4), 608-628.

    ``common_scores_*``: per candidate, the score on the common items (a Series, or a
    DataFrame of the common items' scores, summed); ``totals_*``: per candidate, the form total
    (aligned by index). Candidates missing either are left out. ``constant_ci``: bootstrap
    percentile interval (candidates resampled within each group, fixed ``seed``).
    TooFew when either group is under MIN_N.
    """
    va, xa = _as_scores(common_scores_a), _as_scores(totals_a)
    vb, yb = _as_scores(common_scores_b), _as_scores(totals_b)
    a = pd.concat([va.rename("v"), xa.rename("x")], axis=1, join="inner").dropna()
    b = pd.concat([vb.rename("v"), yb.rename("x")], axis=1, join="inner").dropna()
    na, nb = len(a), len(b)
    if min(na, nb) < MIN_N:
        return TooFew(min(na, nb), MIN_N)
    if not max_common or max_common <= 0:
        raise ValueError("max_common must be positive")
    ga, gb = max_a / max_common, max_b / max_common
    A = a.to_numpy(float)
    B = b.to_numpy(float)
    const, ms_x, ms_y = _nominal_constant(A[:, 0], A[:, 1], B[:, 0], B[:, 1], ga, gb)
    ci = None
    if n_boot:
        rng = np.random.default_rng(seed)
        ia = rng.integers(0, na, (n_boot, na))
        ib = rng.integers(0, nb, (n_boot, nb))
        wa = na / (na + nb)
        dv = A[ia, 0].mean(1) - B[ib, 0].mean(1)
        boot = (B[ib, 1].mean(1) + wa * gb * dv) - (A[ia, 1].mean(1) - (1 - wa) * ga * dv)
        q = (1 - confidence) / 2
        ci = (float(np.quantile(boot, q)), float(np.quantile(boot, 1 - q)))
    return Equating(n_a=na, n_b=nb, gamma_a=ga, gamma_b=gb, w_a=na / (na + nb), w_b=nb / (na + nb),
                    synthetic_mean_a=float(ms_x), synthetic_mean_b=float(ms_y), constant=float(const),
                    constant_ci=ci, common_mean_a=float(A[:, 0].mean()), common_mean_b=float(B[:, 0].mean()))


@dataclass
class FormDifference:
    """Two forms handed out to randomly equivalent groups: their mean difference and an equivalence test."""

    form_a: str
    form_b: str
    n_a: int
    n_b: int
    scale: str                   # "points" (same maximum) or "percent of the points"
    mean_a: float
    mean_b: float
    difference: float            # mean_b - mean_a: the random-groups mean-equating constant (A onto B)
    ci90: tuple[float, float]    # Welch t interval, the one TOST reads
    ci95: tuple[float, float]
    margin: float                # +- on the same scale
    p_tost: float                # the larger of the two one-sided p values
    equivalent: bool             # p_tost < 0.05: the 90% interval lies within +- margin
    reading: str
    caution: str = ""
    method: str = ("random groups: mean difference with Welch's t interval; equivalence by two one-sided tests "
                   "(TOST, Schuirmann 1987; statsmodels ttost_ind, unequal variances)")


def random_groups(xa, xb, max_a: float, max_b: float, label_a: str = "A", label_b: str = "B",
                  margin_share: float = 0.05, min_n: int = MIN_PUBLISH, stable: int = MIN_N) -> FormDifference | TooFew:
    """Compare two forms sat by randomly equivalent groups (forms handed out in rotation).

    With random groups the difference of the means is the forms' difference in difficulty, and the
    random-groups mean-equating function is e_B(x) = x - mean_A + mean_B (Kolen & Brennan 2014, Test
    Equating, Scaling, and Linking, ch. 2). Identity equating (scores used as they are) is defensible when
    the forms are shown equivalent: two one-sided Welch t tests (Schuirmann 1987) of the difference against
    -+ ``margin_share`` of the points, at 5% each, i.e. the 90% interval within the margin. Totals are compared
    in points when both forms have the same maximum, else as a percent of each form's points. TooFew under
    ``min_n`` candidates on either form."""
    from statsmodels.stats.weightstats import ttost_ind

    a = pd.to_numeric(pd.Series(xa), errors="coerce").dropna().to_numpy(float)
    b = pd.to_numeric(pd.Series(xb), errors="coerce").dropna().to_numpy(float)
    if min(len(a), len(b)) < max(min_n, 2):
        return TooFew(min(len(a), len(b)), max(min_n, 2))
    same = abs(max_a - max_b) < 1e-9
    if not same:
        a, b = 100 * a / max_a, 100 * b / max_b
    scale = "points" if same else "percent of the points"
    margin = margin_share * (max_a if same else 100)
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va ** 2 / (len(a) - 1) if va else 0) + (vb ** 2 / (len(b) - 1) if vb else 0)) \
        if se > 0 else float(len(a) + len(b) - 2)

    def ci(c: float) -> tuple[float, float]:
        h = stats.t.ppf(0.5 + c / 2, df) * se
        return diff - h, diff + h

    if se > 0:
        p_tost = float(ttost_ind(b, a, -margin, margin, usevar="unequal")[0])
    else:
        p_tost = 0.0 if abs(diff) < margin else 1.0
    equivalent = p_tost < 0.05
    lo90, hi90 = ci(0.90)
    lo95, hi95 = ci(0.95)
    unit = " points" if same else " percentage points"
    if equivalent:
        reading = (f"equivalent within +-{show(margin)}{unit} (90% interval {show(lo90)} to {show(hi90)}): "
                   "the scores are "
                   "used as they are (identity equating)")
    elif lo90 > 0 or hi90 < 0:  # the interval shown (the 90% one TOST reads) excludes no difference
        easier = label_b if diff > 0 else label_a
        reading = (f"the forms differ: form {easier}'s candidates scored about {show(abs(diff))}{unit} higher (90% "
                   f"interval {show(lo90)} to {show(hi90)}, which excludes 0; not equivalent within "
                   f"+-{show(margin)}{unit}); with random groups that is form {easier} reading easier, and "
                   f"random-groups mean equating would adjust scores by about {show(abs(diff))}{unit}")
    else:
        reading = (f"not shown equivalent and not shown different: the 90% interval ({show(lo90)} to {show(hi90)}) "
                   f"holds 0 and reaches past +-{show(margin)}{unit}; more candidates are needed to tell, so the "
                   "scores are used as they are")
    return FormDifference(label_a, label_b, len(a), len(b), scale, float(a.mean()), float(b.mean()), diff,
                          (lo90, hi90), (lo95, hi95), margin, p_tost, equivalent, reading,
                          caution(min(len(a), len(b)), stable))


def anchor_adequate(shared_points: float, points_a: float, points_b: float, shared_competencies: set[str],
                    competencies_a: set[str], competencies_b: set[str],
                    min_share: float = 0.20) -> tuple[bool, str]:
    """Whether the items two forms share may serve as an equating anchor: at least ``min_share`` of each
    form's points, and every competency of each form among them (content-representative: Kolen & Brennan
    2014, ch. 8, ask an anchor to be a mini version of the form; the 20% floor is their rule of thumb).
    The second value says why not, in words."""
    share = min(shared_points / points_a if points_a else 0, shared_points / points_b if points_b else 0)
    missing = sorted((competencies_a | competencies_b) - shared_competencies)
    if share + 1e-9 < min_share:
        return False, (f"the shared items are {pct(share)} of the form's points (an anchor needs "
                       f"{pct(min_share)}): "
                       "too few to equate through")
    if missing:
        return False, ("the shared items leave out " + ", ".join(missing)
                       + ": not content-representative, so not an anchor")
    return True, ""


def subscore_reliability(scores: pd.DataFrame, max_points: pd.Series, competencies: dict,
                         min_n: int = MIN_PUBLISH) -> dict[str, tuple[float | None, int, int]]:
    """Per competency: (coefficient alpha of the competency's items, candidates, items) over the complete
    candidates of one form. Alpha is None under ``min_n`` candidates, with one item, or without variance: a
    subscore whose precision is not known. The subscore's reliability is what decides whether a candidate's
    score report may show it (Standards 1.14 / 2.3: a subscore is reported only with evidence of its
    reliability; Sinharay, Puhan & Haberman 2011 on when subscores add value)."""
    data, _mp = _complete(scores, max_points)
    out: dict[str, tuple[float | None, int, int]] = {}
    groups: dict[str, list] = {}
    for col in data.columns:
        if col in competencies:
            groups.setdefault(competencies[col], []).append(col)
    for comp, cols in groups.items():
        alpha = coefficient_alpha(data[cols]) if len(data) >= min_n else None
        out[comp] = (alpha, len(data), len(cols))
    return out
