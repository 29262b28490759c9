"""Check the bank and its rubrics the way a careful reviewer would, and say what to fix.

``validate`` is pure: it reads a parsed ``Bank``, the rubrics and the program's vocabulary
(``ProgramPolicy``) and returns every problem at once, each located at the cell or line an
author has to open. Errors stop a form from being built; warnings are advice.
"""
from __future__ import annotations

import difflib
import math
import re
from collections import defaultdict

from ..errors import Location, Problem
from ..kinds import kind_for
from ..kinds.multiple_choice import MIN_MC_CHOICES  # noqa: F401 (named here before the kinds had modules)
from ..kinds.true_false import TRUE_FALSE  # noqa: F401
from ..model.item import Item, Scenario, Status, points_text
from ..model.rubric import MAX_ITEM_POINTS, Rubric
from ..settings.policy import ProgramPolicy
from . import Bank


def _where(obj: Item | Scenario) -> str:
    return f"{obj.where.file}:cell {obj.where.cell}"


def _loc(obj: Item | Scenario) -> Location:
    return Location(obj.where.file, cell=obj.where.cell, item=obj.id)


def _norm(text: str) -> str:
    """Text compared the way a reader would: case, spacing and end punctuation do not count."""
    return re.sub(r"\s+", " ", text).strip().rstrip(".!?;:").casefold()


def _one_of(values) -> str:
    return ", ".join(str(v) for v in values)


class _ItemReport:
    """The ``kinds.Checker`` a kind's ``validate`` reports through: located at one item."""

    def __init__(self, checker: "_Checker", loc: Location):
        self._checker, self._loc = checker, loc
        self.rubrics, self.broken_rubrics = checker.rubrics, checker.broken_rubrics

    def error(self, msg: str) -> None:
        self._checker.error(self._loc, msg)

    def warn(self, msg: str) -> None:
        self._checker.warn(self._loc, msg)


class _Checker:
    """Collects problems; one method per rule so each reads on its own."""

    def __init__(self, bank: Bank, rubrics: dict[str, Rubric], policy: ProgramPolicy, broken_rubrics: dict[str, str],
                 recorded_review: bool = False):
        self.bank, self.rubrics, self.policy = bank, rubrics, policy
        self.recorded_review = recorded_review
        self.broken_rubrics = broken_rubrics
        self.problems: list[Problem] = []
        self.items = [i for nb in bank.notebooks for i in nb.items]
        self.scenarios = [s for nb in bank.notebooks for s in nb.scenarios]
        if not bank.notebooks:  # a bank built in memory, not read from notebooks
            self.items, self.scenarios = list(bank.items.values()), list(bank.scenarios.values())
        self.competencies = {str(k): str(v) for k, v in policy.competencies.items()}
        self.modules = {str(k): str(v) for k, v in policy.modules.items()}

    def error(self, loc: Location, msg: str) -> None:
        self.problems.append(Problem(loc, msg))

    def warn(self, loc: Location, msg: str) -> None:
        self.problems.append(Problem(loc, msg, severity="warning"))

    # -- the whole bank ----------------------------------------------------------------
    def run(self) -> list[Problem]:
        self.duplicate_ids()
        for item in self.items:
            self.header(item)
            self.text(item)
            kind_for(item.kind).validate(item, _ItemReport(self, _loc(item)))
            self.review(item)
        self.scenario_links()
        self.unused_rubrics()
        self.copied_stems()
        self.pools_apart()
        return self.problems

    def duplicate_ids(self) -> None:
        seen: dict[str, list[Item | Scenario]] = defaultdict(list)
        for obj in [*self.items, *self.scenarios]:
            seen[obj.id].append(obj)
        for ident, objs in seen.items():
            if len(objs) < 2:
                continue
            for obj in objs:
                others = " and ".join(_where(o) for o in objs if o is not obj)
                what = "scenario" if isinstance(obj, Scenario) else "item"
                self.error(_loc(obj),
                           f"{what} id {ident!r} is also used at {others}; give each item and scenario its own id")

    # -- one item ---------------------------------------------------------------------
    def header(self, item: Item) -> None:
        loc = _loc(item)
        if not math.isfinite(item.points) or not 0 < item.points <= MAX_ITEM_POINTS:
            shown = (points_text(item.points) if math.isfinite(item.points) and abs(item.points) < 1e15
                     else f"{item.points:g}")
            self.error(loc,
                       f"points must be above 0 and at most {MAX_ITEM_POINTS} (it is {shown}); write e.g. 'points: 1'")
        if not item.competency:
            self.error(loc, f"no competency; add 'competency: <one of {_one_of(self.competencies)}>' to the header")
        elif item.competency not in self.competencies:
            slug = next(
                (k for k,
                 v in self.competencies.items() if _norm(v) == _norm(item.competency)
                 or _norm(k) == _norm(item.competency)),
                None,
            )
            if slug:
                self.error(loc, f"write the competency {item.competency!r} as its slug: 'competency: {slug}'")
            else:
                self.error(
                    loc,
                    f"unknown competency {item.competency!r}; use one of {_one_of(self.competencies)} "
                    "(the vocabulary is c.ProgramPolicy.competencies)",
                )
        if item.module is None:
            if "module" not in item.unread:  # a module the parser refused is reported there, not again here
                self.error(loc, f"no module; add 'module: <one of {_one_of(self.modules)}>' to the header")
        elif str(item.module) not in self.modules:
            self.error(
                loc,
                f"unknown module {item.module}; use one of {_one_of(self.modules)} (the vocabulary is "
                "c.ProgramPolicy.modules)",
            )
        if item.difficulty not in self.policy.difficulty_levels:
            self.error(loc,
                       f"unknown difficulty {item.difficulty!r}; use one of {_one_of(self.policy.difficulty_levels)}")
        if item.rubric and not kind_for(item.kind).rubric:
            self.error(loc, f"only open-response items have a rubric; remove 'rubric: {item.rubric}' or make it [OR]")

    def text(self, item: Item) -> None:
        loc = _loc(item)
        if not item.stem:
            self.error(loc, "the item has no question (stem); write it on the lines below the header")
        if not item.rationale:
            self.warn(loc, "no rationale; add '> **Rationale:** why the key is right' (it is shown in feedback)")

    def review(self, item: Item) -> None:
        loc = _loc(item)
        if not item.author:
            self.warn(loc, "no author; add 'author: <name>' to the header")
        if self.recorded_review:
            pass  # the review is a record (bank.review), not the header's reviewer: field
        elif item.status is Status.live and not item.reviewer:
            self.error(loc,
                       "a live item needs a reviewer; add 'reviewer: <name>' or set 'status: reviewed' until it is "
                       "reviewed")
        elif item.status is Status.reviewed and not item.reviewer:
            self.warn(loc, "status is reviewed but no reviewer is named; add 'reviewer: <name>'")
        if item.reviewer and item.author and _norm(item.reviewer) == _norm(item.author):
            self.warn(loc, f"{item.author} is both author and reviewer; ask someone else to review it")

    # -- across items -----------------------------------------------------------------
    def scenario_links(self) -> None:
        by_id = {s.id: s for s in self.scenarios}
        members: dict[str, list[Item]] = defaultdict(list)
        for item in self.items:
            if not item.scenario:
                continue
            scenario = by_id.get(item.scenario)
            if scenario is None:
                near = difflib.get_close_matches(item.scenario, list(by_id), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.error(_loc(item), f"unknown scenario {item.scenario!r}{hint}; "
                                       "write its [SCENARIO] cell or fix 'scenario:'")
                continue
            members[scenario.id].append(item)
            if item.where.file != scenario.where.file or item.where.cell < scenario.where.cell:
                self.warn(_loc(item),
                          f"scenario {scenario.id!r} is at {_where(scenario)}; put its items right after it")
        for scenario in self.scenarios:
            loc = _loc(scenario)
            if not scenario.text:
                self.error(loc, "the scenario has no vignette; write it on the lines below the header")
            if not members.get(scenario.id):
                self.error(loc, f"no item uses scenario {scenario.id!r}; add 'scenario: {scenario.id}' "
                                "to the header of each item that belongs to it, or remove the cell")
            elif len(members[scenario.id]) == 1:
                self.warn(loc, "only one item uses this scenario; a scenario is shared by several items "
                               "(add another, or fold the vignette into the item's stem)")

    def unused_rubrics(self) -> None:
        used = {i.rubric_id for i in self.items if kind_for(i.kind).rubric}
        for rubric in self.rubrics.values():
            if rubric.id not in used:
                self.warn(
                    Location(rubric.file, line=rubric.line, item=rubric.id),
                    f"rubric {rubric.id!r} scores no item; give an [OR] item the id {rubric.id!r} "
                    f"or 'rubric: {rubric.id}', or remove the file",
                )

    def copied_stems(self) -> None:
        first: dict[str, Item] = {}
        for item in self.items:
            if not item.stem:
                continue
            other = first.setdefault(_norm(item.stem), item)
            if other is not item and kind_for(item.kind).same_answers(other, item):
                self.warn(_loc(item), f"same question and choices as {other.id!r} at {_where(other)}; "
                                      "a copied item not yet edited? change it or remove it")


    def pools_apart(self) -> None:
        """A practice item shows its key to anyone: it may not share a scenario with, or repeat the
        question of, a certification item (``practice.sets`` proves it again against issued forms)."""
        from .overlap import overlaps  # the one rule, shared with the practice builder

        practice = [i for i in self.items if i.practice]
        certification = [i for i in self.items if not i.practice]
        cert_scenarios = {i.scenario for i in certification if i.scenario}
        for item in practice:
            if item.scenario and item.scenario in cert_scenarios:
                self.error(_loc(item), f"scenario {item.scenario!r} is used by certification items; a practice item "
                                       "needs a scenario of its own")
        for item, other, why in overlaps(practice, certification, self.bank.scenarios):
            self.error(_loc(item), f"this practice item {why} certification item {other.id!r} at {_where(other)}; "
                                   "practice answers are shown to candidates, so write a different question")


def validate(
    bank: Bank, rubrics: dict[str, Rubric], policy: ProgramPolicy, broken_rubrics: dict[str, str] | None = None,
    recorded_review: bool = False,
) -> list[Problem]:
    """Every problem of the bank and its rubrics, besides the parse problems (``bank.problems``).

    ``broken_rubrics`` (rubric id -> file) names rubrics that failed to load, so that their items
    point at the rubric's own errors instead of saying the rubric does not exist. With
    ``recorded_review`` (``c.BankSettings.require_recorded_review``) a live item needs no
    ``reviewer:`` in its header: its approval is recorded (``bank.review``).
    """
    return _Checker(bank, rubrics, policy, broken_rubrics or {}, recorded_review).run()


def sort_key(problem: Problem) -> tuple:
    """Order for reports: by file, then cell or line, then row."""
    loc = problem.location
    return (loc.file, loc.cell or 0, loc.line or 0, loc.row or 0, loc.item or "", problem.message)
