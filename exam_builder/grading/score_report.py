"""What a candidate's score report says about the cut, and its figure (pure: no database).

The pass decision is exact (``total >= cut_score``, see ``results.compute_results``), but a
candidate's total moves in steps (the form's *score step*, ``score_step``: whole points, half points
where two raters' scores are averaged, ...). The report states the smallest total on that grid that
reaches the cut: a cut of 39.9 reads "40 of 57 points" on a form of whole points and a cut of 38.19
reads "38.5" on a form of half points. The number depends on the form alone, never on the candidate's
score, so every candidate of a form is told the same number, and it is true: every total below it fails,
every total from it passes. Where the step cannot be written in hundredths (partial credit in thirds) or
is not known, the cut itself is stated. Everywhere the report states the cut it states this one number.
Per competency the report shows a *guide*: the cut's share of the total applied to that
competency's maximum (cut / total points x competency maximum). It decides nothing; the caption
says so. A score not given yet is never drawn or written as 0: it reads "not scored yet".
"""
from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .figures import png, pyplot

NOT_SCORED = "not scored yet"

#: Figure colours (WCAG 1.4.11 asks 3:1 for graphics): the candidate's bar is dark blue on white
#: (9:1) and on the light track (7.6:1); the guide line is black with a white edge, so it shows on
#: both; the track has a dark grey outline (7:1). Each part is also named (legend, labels), so
#: nothing is told by colour alone.
BAR = "#0b4f8a"
TRACK = "#e8e8e8"
OUTLINE = "#595959"
GUIDE = "#000000"

_EPS = 1e-9


def num(x: float) -> str:
    """A number of points as people write it: 43, 43.5, never 43.0 or 4.35e+01."""
    x = round(float(x), 2)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def score_step(values: Iterable[float]) -> float | None:
    """The step a form's totals move in: the greatest common divisor of every score an item can add
    (``values``: an all-or-nothing item's points, a partial-credit item's share per key, a rubric's level
    points, halved where two ratings are averaged). None when there is none or one is not a whole number of
    hundredths (2 points over 3 keys): the report then states the cut itself."""
    hundredths = []
    for v in values:
        h = float(v) * 100
        if abs(h - round(h)) > 1e-6:
            return None
        if round(h):
            hundredths.append(abs(round(h)))
    return math.gcd(*hundredths) / 100 if hundredths else None


def points_to_reach(cut: float, step: float | None = 1.0) -> float:
    """The smallest total on the form's grid (``step``) that reaches the cut: 39.9 -> 40 in whole points,
    38.19 -> 38.5 in half points; a cut on the grid stays. No step: the cut itself (to the hundredth).

    Rounded to six places first, so a cut computed as 70% of a total (0.7 x 40 =
    28.000000000000004) stays the whole number it is meant to be."""
    if step is None or step <= 0:
        return round(float(cut), 2)
    return round(math.ceil(round(float(cut) / step, 6)) * step, 2)


def stated_cut(cut: float, step: float | None) -> float:
    """The one number every report of a form gives as "points needed to pass" (``points_to_reach``)."""
    return points_to_reach(cut, step)


def guide(cut: float, total_max: float, part_max: float) -> float:
    """What the cut asks of one competency: the cut's share of the total, of this maximum."""
    return 0.0 if total_max <= 0 else cut / total_max * part_max


def guide_text(x: float) -> str:
    """The guide to one decimal ("about 13.3"): it is a share, not a number of points to reach."""
    return num(round(x, 1))


@dataclass(frozen=True)
class SubscorePrecision:
    """How precisely a form measures one competency (``analysis.subscores`` computes it from past candidates):
    a subscore is shown on the candidate's report only when its reliability reaches ``needs``
    (``c.ReportSettings.subscore_min_reliability``)."""

    reliability: float | None   # coefficient alpha of the competency's items; None: not known yet
    n: int                      # fully scored candidates it came from
    items: int
    needs: float

    @property
    def shown(self) -> bool:
        return self.reliability is not None and self.reliability >= self.needs - _EPS

    def reason(self) -> str:
        """Why a subscore is not shown, in plain words."""
        if self.reliability is None:
            return (f"too few candidates have sat this form to tell how precisely its {self.items} question(s) "
                    "measure it")
        # two decimals, as every coefficient the program prints (0.30 beside 0.46, never 0.3)
        return (f"its {self.items} question(s) measure it with a reliability of {self.reliability:.2f}; "
                f"a subscore is shown from {self.needs:.2f}")


@dataclass(frozen=True)
class Row:
    """One bar of the figure and one row of its table: a competency or the total."""

    name: str
    score: float | None
    max: float
    mark: float  # the guide (competency) or the points needed to pass (total)
    total: bool = False

    @property
    def scored(self) -> str:
        """The candidate's points as the report writes them."""
        return NOT_SCORED if self.score is None else f"{num(self.score)} of {num(self.max)} points"

    @property
    def mark_text(self) -> str:
        return f"{num(self.mark)} needed to pass" if self.total else f"about {guide_text(self.mark)}"

    def sentence(self) -> str:
        """The row in words, every number stated (for the figure's alt text)."""
        got = (f"not scored yet ({num(self.max)} points available)" if self.score is None
               else f"{num(self.score)} of {num(self.max)} points")
        if self.total:
            return f"Total: {got}; needed to pass: {num(self.mark)} of {num(self.max)} points."
        return f"{self.name}: {got}; guide line at about {guide_text(self.mark)} points."


class Points(Protocol):
    """What a report reads of a score (``results.Part``): points earned (None while pending) of a maximum."""

    score: float | None
    max: float


def rows(competencies: Sequence[tuple[str, Points]], total: Points, cut: float, step: float | None) -> list[Row]:
    """Figure and table rows from ``(name, Part)`` pairs and the total ``Part`` (score, max); ``step``: the
    form's score step (``score_step``)."""
    out = [Row(name, part.score, part.max, guide(cut, total.max, part.max)) for name, part in competencies]
    out.append(Row("Total", total.score, total.max, stated_cut(cut, step), total=True))
    return out


def cut_sentence(cut: float, total: Points, step: float | None) -> str:
    """"You needed 40 of 57 points; you scored 43." (or, while pending, what is still missing)."""
    need = f"{num(stated_cut(cut, step))} of {num(total.max)} points"
    if total.score is None:
        return f"You need {need} to pass. Your total is {NOT_SCORED}: some answers are still being scored."
    return f"You needed {need}; you scored {num(total.score)}."


def rounding_note(cut: float, step: float | None) -> str:
    """The rule in plain words, when the stated number is not the cut itself (else nothing); the same
    sentence for every candidate of a form."""
    shown = stated_cut(cut, step)
    if step is None or abs(shown - cut) < _EPS:
        return ""
    unit = "whole points" if abs(step - 1) < _EPS else f"steps of {num(step)} points"
    return (f"The exam's pass mark is {num(cut)} points. Totals on this form go in {unit}, so the smallest "
            f"total that reaches it is {num(shown)}: the score you must reach.")


def alt_text(table: list[Row]) -> str:
    """Everything the figure shows, in words (screen-reader users get the same numbers)."""
    return ("Bar chart of your points by core competency, each bar out of the points available. "
            + " ".join(r.sentence() for r in table))


def figure(table: list[Row]) -> str:
    """The bars as a base64 PNG: per row a light track (all the points available), a dark bar
    (the candidate's points; none while not scored) and a black guide line, labelled in words.

    Drawn once per table in a process: the figure is the rows' alone, and a run that writes every
    score report again (a key decision applied, key validation closed) changes few of them.
    Kept by the rows and by the function that encodes the image (``png`` as it is now, so a stand-in for it
    never answers for the real one)."""
    return _figure(tuple(table), png)


@functools.lru_cache(maxsize=1024)
def _figure(table: tuple[Row, ...], encode: Callable[[Any], str]) -> str:
    import matplotlib.patheffects as pe
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = pyplot()
    labels = [textwrap.wrap(f"{r.name}: {r.scored}" + (f" ({num(r.mark)} needed to pass)" if r.total else ""), 46)
              for r in table]
    # Each row: its label lines, then the bar; the total sits apart, after a gap.
    ys, y = [], 0.0
    for r, lines in zip(table, labels, strict=False):
        y -= 0.35 * len(lines) + (0.5 if r.total else 0.0)
        ys.append(y - 0.3)
        y -= 0.75
    height = -y
    fig, ax = plt.subplots(figsize=(5.6, 0.45 * height + 1.1))
    edge = [pe.withStroke(linewidth=5, foreground="white")]
    for r, lines, yc in zip(table, labels, ys, strict=False):
        ax.text(0, yc + 0.34, "\n".join(lines), ha="left", va="bottom", fontsize=11,
                fontweight="bold" if r.total else "normal", color="#222222")
        ax.barh(yc, 1, height=0.5, color=TRACK, edgecolor=OUTLINE, linewidth=1)
        if r.score is None:
            ax.text(0.02, yc, NOT_SCORED, ha="left", va="center", fontsize=10, fontstyle="italic", color="#333333")
        elif r.max > 0:
            ax.barh(yc, min(max(r.score / r.max, 0.0), 1.0), height=0.5, color=BAR, edgecolor=BAR,
                    hatch="//", hatchcolor="#5b8fc0", linewidth=0)
        if r.max > 0:
            x = min(r.mark / r.max, 1.0)
            ax.plot([x, x], [yc - 0.3, yc + 0.3], color=GUIDE, linewidth=2.5, solid_capstyle="butt", path_effects=edge)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(y + 0.2, 0.1)
    ax.set_xticks([0, 0.5, 1], ["none", "half", "all points"], fontsize=10)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(handles=[Patch(facecolor=BAR, edgecolor=BAR, hatch="//", hatchcolor="#5b8fc0", label="Your points"),
                       Patch(facecolor=TRACK, edgecolor=OUTLINE, label="Points available"),
                       Line2D([], [], color=GUIDE, linewidth=2.5, label="Guide line (total: points needed to pass)")],
              loc="upper left", bbox_to_anchor=(0, -0.08 * 6 / max(height, 1)), ncol=1, frameon=False, fontsize=10)
    return encode(fig)
