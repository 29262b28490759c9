"""The standard-setting study's numbers, pure (no database): each method stated where it is computed.

A rating is what a panelist enters for an item: in the Modified Angoff method the probability, in
percent (steps of 5), that a minimally competent candidate earns the item's points; in the Yes/No
method 100 (yes, they would) or 0; for an open response, the points such a candidate is expected
to earn. ``expected_points`` turns a rating into points, so every sum below is in raw points.

- A panelist's cut on a set of items is the sum of their expected points over those items.
- The recommended raw cut of a form is the sum, over the form's items, of the mean expected
  points across panelists (Angoff 1971; Cizek & Bunch 2007, ch. 6). With every panelist rating
  every item it equals the mean of the panelists' cuts.
- Its standard error is the standard deviation of the panelists' cuts (n - 1 in the denominator)
  over the square root of the number of panelists (Cizek & Bunch 2007, ch. 6; Hambleton &
  Pitoniak 2006): how far another panel of the same size might put the cut.
- Item spread: per item the mean and the SD (n - 1) of the panelists' ratings as a share of its
  points; an SD above the study's threshold flags the item for discussion before the next round.
- Agreement: the intraclass correlations of Shrout & Fleiss (1979), case 2 (items as targets,
  panelists as a random set of judges, absolute agreement): ICC(2,1), how far one panelist's
  ratings agree with another's, and ICC(2,k), the reliability of the panel's mean rating.
- An outlier panelist: a cut more than 2 SD from the mean of the other panelists' cuts (leave one
  out), or ratings that correlate below 0.2 with the other panelists' mean ratings per item. Named
  only on a panel of at least ``MIN_PANEL_FOR_OUTLIERS``: the SD of two or three other cuts carries no
  such claim (any panelist can be "4 SD" from two others).
- Impact: the share of past candidates whose total reaches a cut (``pass_rate``), at the
  recommended cut and at +-1 and +-2 standard errors.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..numbers import against

#: A rating's steps in the Modified Angoff method (percent).
STEP = 5
#: Leave-one-out distance (in SDs of the other panelists' cuts) beyond which a panelist is an outlier.
OUTLIER_Z = 2.0
#: Correlation with the rest of the panel below which a panelist's ratings are flagged.
LOW_CORRELATION = 0.2
#: The smallest panel on which outliers are named (with fewer, the others' SD rests on one to three cuts).
MIN_PANEL_FOR_OUTLIERS = 5

METHODS = {"modified_angoff": "Modified Angoff", "yes_no": "Yes/No Angoff"}


@dataclass(frozen=True)
class RatedItem:
    """An item as the study rates it: its points, and whether it is rated in expected points (an open response)."""

    item_id: str
    points: float
    rated: bool = False


def expected_points(value: float, item: RatedItem) -> float:
    """The points a rating gives: percent of the item's points, or, for an open response, the points themselves."""
    return float(value) if item.rated else float(value) / 100.0 * item.points


def rating_problem(value: float, item: RatedItem, method: str) -> str | None:
    """Why ``value`` is not a rating of ``item`` under ``method`` (None when it is)."""
    if item.rated:
        if not 0 <= value <= item.points:
            return f"an open response's rating is the expected points, from 0 to {item.points:g}; not {value:g}"
        return None
    if method == "yes_no":
        return None if value in (0, 100) else f"a Yes/No rating is 100 (yes) or 0 (no); not {value:g}"
    if not 0 <= value <= 100 or abs(value / STEP - round(value / STEP)) > 1e-9:
        return f"a rating is a probability in percent from 0 to 100 in steps of {STEP}; not {value:g}"
    return None


def mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def sd(xs: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1); None below two values."""
    if len(xs) < 2:
        return None
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


Matrix = Mapping[str, Mapping[str, float]]  # panelist -> item -> expected points


def panelist_cuts(matrix: Matrix, items: Sequence[RatedItem]) -> dict[str, float]:
    """Each panelist's cut on ``items``: the sum of their expected points."""
    return {p: sum(row[i.item_id] for i in items) for p, row in matrix.items()}


def item_means(matrix: Matrix, items: Sequence[RatedItem]) -> dict[str, float]:
    """Each item's mean expected points across panelists."""
    return {i.item_id: mean([row[i.item_id] for row in matrix.values()]) for i in items}


def recommended_cut(matrix: Matrix, items: Sequence[RatedItem]) -> float:
    """The sum over ``items`` of the mean expected points across panelists (raw points)."""
    return sum(item_means(matrix, items).values())


def standard_error(cuts: Sequence[float]) -> float | None:
    """SD of the panelists' cuts (n - 1) over sqrt(n); None below two panelists."""
    s = sd(cuts)
    return None if s is None else s / math.sqrt(len(cuts))


@dataclass(frozen=True)
class ItemSpread:
    item_id: str
    mean: float  # share of the item's points (0..1)
    sd: float | None  # of the shares, n - 1
    low: float
    high: float
    flagged: bool


def item_spread(matrix: Matrix, items: Sequence[RatedItem], threshold: float) -> list[ItemSpread]:
    """Per item the panelists' ratings as a share of its points: mean, SD, range; SD above ``threshold`` flagged."""
    out = []
    for i in items:
        shares = [row[i.item_id] / i.points for row in matrix.values()]
        s = sd(shares)
        s = None if s is None else round(s, 9)  # the float's last digits are noise: an SD of 15% is 15%, not above
        out.append(ItemSpread(i.item_id, mean(shares), s, min(shares), max(shares), s is not None and s > threshold))
    return out


def icc2(table: Sequence[Sequence[float]]) -> tuple[float, float] | None:
    """Shrout & Fleiss (1979) ICC(2,1) and ICC(2,k) of a targets x judges table (two-way random effects,
    absolute agreement), from the two-way ANOVA mean squares: BMS (targets), JMS (judges), EMS (residual):
    ICC(2,1) = (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n), ICC(2,k) = (BMS - EMS) / (BMS + (JMS - EMS) / n).
    None when there are fewer than two targets or judges or no variance at all."""
    n = len(table)
    k = len(table[0]) if n else 0
    if n < 2 or k < 2:
        return None
    grand = mean([x for row in table for x in row])
    rows = [mean(row) for row in table]
    cols = [mean([row[j] for row in table]) for j in range(k)]
    ss_rows = k * sum((r - grand) ** 2 for r in rows)
    ss_cols = n * sum((c - grand) ** 2 for c in cols)
    ss_total = sum((x - grand) ** 2 for row in table for x in row)
    ss_err = ss_total - ss_rows - ss_cols
    bms, jms, ems = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    d1 = bms + (k - 1) * ems + k * (jms - ems) / n
    dk = bms + (jms - ems) / n
    if d1 <= 0 or dk <= 0:
        return None
    return (bms - ems) / d1, (bms - ems) / dk


def agreement(matrix: Matrix, items: Sequence[RatedItem]) -> tuple[float, float] | None:
    """ICC(2,1) and ICC(2,k) of the panel's ratings as shares of each item's points (items x panelists)."""
    panel = list(matrix)
    return icc2([[matrix[p][i.item_id] / i.points for p in panel] for i in items])


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None when either side has no variance."""
    mx, my = mean(xs), mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return None if sxx <= 0 or syy <= 0 else sxy / math.sqrt(sxx * syy)


@dataclass(frozen=True)
class PanelistCheck:
    panelist: str
    cut: float
    z: float | None  # (cut - mean of the others' cuts) / SD of the others' cuts
    r_rest: float | None  # correlation of their item shares with the others' mean shares
    flagged: bool
    why: str


def panelist_checks(matrix: Matrix, items: Sequence[RatedItem]) -> list[PanelistCheck]:
    """Each panelist's cut, leave-one-out z and correlation with the rest; outliers flagged (see the module)."""
    cuts = panelist_cuts(matrix, items)
    out = []
    for p in matrix:
        z = r = None  # with too few others to measure a distance against: shown as n/a, never flagged
        if len(matrix) >= MIN_PANEL_FOR_OUTLIERS:
            others = [cuts[q] for q in matrix if q != p]
            s = sd(others)
            z = (cuts[p] - mean(others)) / s if s else None
            mine = [matrix[p][i.item_id] / i.points for i in items]
            rest = [mean([matrix[q][i.item_id] / i.points for q in matrix if q != p]) for i in items]
            r = correlation(mine, rest) if len(items) > 2 else None
        why = []
        if z is not None and abs(z) > OUTLIER_Z:
            why.append(f"cut {'+' if z > 0 else '-'}{against(abs(z), OUTLIER_Z, 1)} SD from the other panelists'")
        if r is not None and r < LOW_CORRELATION:
            why.append(f"ratings correlate {against(r, LOW_CORRELATION)} with the rest of the panel (below "
                       f"{LOW_CORRELATION:g})")
        out.append(PanelistCheck(p, cuts[p], z, r, bool(why), "; ".join(why)))
    return out


def pass_rate(scores: Sequence[float], cut: float) -> float | None:
    """The share of ``scores`` at or above ``cut`` (as results decide: total >= cut); None without scores."""
    if not scores:
        return None
    return sum(1 for x in scores if x + 1e-9 >= cut) / len(scores)


def impact(scores: Sequence[float], cut: float, se: float | None) -> list[tuple[str, float, float | None]]:
    """Pass rates at the cut and at -2, -1, +1, +2 standard errors: (label, cut, rate), lowest cut first."""
    steps = (-2, -1, 0, 1, 2) if se else (0,)
    out = []
    for k in steps:
        c = cut + k * (se or 0.0)
        out.append(("recommended" if k == 0 else f"{k:+d} SE", c, pass_rate(scores, c)))
    return out


def adopted_form_cut(form_recommended: float, form_points: float, recommended_share: float,
                     adopted_share: float) -> float:
    """A form's cut under the board's decision: the form's own recommended cut moved by the board's
    change of standard (adopted - recommended, as a share of points) times the form's points, kept
    within 0..points and rounded to hundredths. With the recommendation adopted it is the form's own
    sum of mean ratings, so a harder form (lower ratings) gets a lower raw cut for the same standard."""
    cut = form_recommended + (adopted_share - recommended_share) * form_points
    return round(min(max(cut, 0.0), form_points), 2)
