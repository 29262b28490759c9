"""The blueprint: what every form of an exam must contain, read from ``source/<exam>/blueprint.yaml``.

A blueprint fixes counts per competency and kind, the points of each kind, the cut score (a flat
``cut_score``, or the ``standard:`` the oversight board adopted from a standard-setting study, from
which each form takes its own raw cut: ``assembly.standard_line``), the number of forms, anchor
items, the largest overlap between two forms, shuffle rules and the seed. ``check_blueprint``
reports every problem at once, with the YAML line, including whether the bank can fill it at all;
``exam-builder check`` calls it for files named ``blueprint.yaml`` (with ``standard_line.course_check``).

Example::

    title: Massachusetts CPS Certification Exam
    forms: 3
    seed: 20240501
    cut_score: 70%
    points: {true_false: 1, multiple_choice: 1, open_response: 6}
    counts:
      peer-support: {true_false: 4, multiple_choice: 9, open_response: 1}
    anchors: [ps-tf-01]
    max_overlap: 10

With a standard the board adopted, ``cut_score`` is gone and the blueprint names the decision
(written by ``exam-builder standard decide --apply``; a flat cut beside it would be ignored, so it
is refused)::

    # The cut: CPS oversight board adopted 67% of the points on 2026-12-01 (the panel recommended 66.4%); ...
    standard: {study: 1, decision: 1}
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..bank import Bank, Item, Kind, Status
from ..errors import ExamBuilderError, Location, Problem, ValidationFailed
from ..kinds import all_kinds, kind_for
from ..model.rubric import (
    MAX_COUNT,
    MAX_ITEM_POINTS,
    Ident,
    Line,
    OutOfRange,
    Rubric,
    YesNo,
    line_of,
    number,
    pydantic_problems,
    whole,
)
from ..numbers import NumberError, fmt, in_range as within, percentage
from ..safeload import load_yaml
from ..settings.policy import ProgramPolicy

KIND_ORDER = tuple(k.kind for k in all_kinds())  # the order of categories and messages
#: What one item of a kind is worth when the blueprint's ``points`` does not say (the kind decides).
DEFAULT_POINTS = {k.kind: k.default_points for k in all_kinds() if k.default_points is not None}

# Sane ranges (see model.rubric): the error states the range, so '1e9' or '.inf' is fixed at once. Every
# number and yes/no is strict (model.rubric.number/whole/YesNo): 'cut_score: yes' or 'time_limit_minutes: on'
# is refused, never read as 1.
MAX_FORM_POINTS = MAX_COUNT * MAX_ITEM_POINTS
MAX_MINUTES = 24 * 60
if TYPE_CHECKING:  # mypy reads the plain numbers; pydantic reads the range-checked types below
    Count = int
    ItemPoints = float
    FormPoints = float
    Minutes = int
    ModuleNumber = int
    Forms = int
    Seed = int
    Sets = int
    Tolerance = float
    StudyNumber = int
else:
    Count = whole(0, MAX_COUNT, "items")
    ItemPoints = number(0, MAX_ITEM_POINTS, "points", above=True)
    FormPoints = number(0, MAX_FORM_POINTS, "points", above=True)
    Minutes = whole(0, MAX_MINUTES, "minutes", above=True)
    ModuleNumber = whole(0, MAX_COUNT)
    Forms = whole(1, 26, "forms (A to Z)")
    Seed = whole(0, 2**31 - 1)
    Sets = whole(0, MAX_COUNT, "sets")
    Tolerance = number(0, 1, above=True)
    StudyNumber = whole(1, 2**31 - 1)
CUT_RULE = f"a number above 0 and at most {MAX_FORM_POINTS} points, or a percent ('70%')"


class Shuffle(BaseModel):
    """Order rules applied per form, with the form's seeded random generator."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    items: YesNo = True  # shuffle question order (scenario sets stay together, vignette first)
    choices: YesNo = True  # shuffle multiple-choice options; true/false keeps True=A, False=B
    open_response_last: YesNo = True  # questions with an open response come after the others


class StandardRef(BaseModel):
    """The board's decision that sets the cut: decision ``decision`` (counted within the study, 1 the
    first) of standard-setting study ``study``. Checked against the records by ``standard_line``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    study: StudyNumber
    decision: StudyNumber

    def text(self) -> str:
        return f"decision {self.decision} of study {self.study}"


class Blueprint(BaseModel):
    """The blueprint of one exam (see the module docstring for the file format)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    title: Line = Field(min_length=1)
    time_limit_minutes: Minutes | None = None  # None: ProgramPolicy.time_limit_minutes
    forms: Forms = 3
    seed: Seed
    # competency -> kind -> items per form
    counts: dict[Line, dict[Kind, Count]] = Field(min_length=1, max_length=MAX_COUNT)
    modules: dict[ModuleNumber, Count] = {}  # module number -> at least this many items per form
    points: dict[Kind, ItemPoints] = dict(DEFAULT_POINTS)  # points of one item
    total_points: FormPoints | None = None
    # points (42) or percent ("70%"); checked below (a union would report both branches). None: the standard sets it
    cut_score: float | str | None = None
    standard: StandardRef | None = None  # the board's decision that sets each form's cut (no cut_score then)
    # item ids on every form (a scenario item brings its whole set)
    anchors: list[Ident] = Field(default=[], max_length=MAX_COUNT)
    max_overlap: Count | None = None  # items two forms may share; None: anchors only
    scenario_sets: Sets | None = None  # per form; None: any number
    shuffle: Shuffle = Shuffle()
    difficulty_tolerance: Tolerance = 0.03  # max spread of expected score share

    @field_validator("cut_score", mode="plain")
    @classmethod
    def _cut_score_form(cls, value: object) -> float | str:
        """Points (a YAML number) or a percent (text ending in '%', read by the one number rule); a
        yes/no value or anything else is refused, never taken for 1."""
        if isinstance(value, str):
            if not value.strip().endswith("%"):
                raise ValueError(f"write the cut score as points (42) or a percent ('70%'), not {value.strip()!r}")
            try:
                pct = percentage(value, "'cut_score'", 0, 100, above_low=True)
                return f"{fmt(pct)}%"
            except NumberError as exc:
                raise ValueError(f"{exc}; write e.g. '70%'") from None
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not within(value, 0, MAX_FORM_POINTS, above_low=True)):
            raise OutOfRange(f"must be {CUT_RULE}")
        return float(value)

    @model_validator(mode="before")
    @classmethod
    def _a_cut(cls, data: object) -> object:
        """A blueprint says where its cut comes from: a flat ``cut_score`` or the board's ``standard``."""
        if isinstance(data, Mapping) and "cut_score" not in data and "standard" not in data:
            raise ValueError("the blueprint has no cut: write cut_score (points, or a percent such as '70%'), or "
                             "the board's standard (`exam-builder standard decide ... --apply` writes it)")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "Blueprint":
        if len(set(self.anchors)) != len(self.anchors):
            raise ValueError("an anchor is listed twice; list each anchor item once")
        for kind in self.kinds_used():
            if kind not in self.points:
                raise ValueError(
                    f"the counts ask for {kind.value} items but 'points' does not say what one is worth; "
                    f"add e.g. 'points: {{{kind.value}: 6}}'"
                )
        return self

    # -- derived ----------------------------------------------------------------------
    def kinds_used(self) -> list[Kind]:
        return [k for k in KIND_ORDER if any(kinds.get(k, 0) > 0 for kinds in self.counts.values())]

    def categories(self) -> list[tuple[str, Kind]]:
        """(competency, kind) with a positive count, in blueprint order."""
        return [(c, k) for c, kinds in self.counts.items() for k in KIND_ORDER if kinds.get(k, 0) > 0]

    def count(self, competency: str, kind: Kind) -> int:
        return self.counts.get(competency, {}).get(kind, 0)

    @property
    def items_per_form(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.counts.values())

    @property
    def counts_points(self) -> float:
        """The total points the counts make."""
        return sum(n * self.points.get(k, 0) for kinds in self.counts.values() for k, n in kinds.items())

    @property
    def form_points(self) -> float:
        return self.total_points if self.total_points is not None else self.counts_points

    def cut_points(self) -> float | None:
        """The flat cut score in points; None when the blueprint names the board's standard (each form's cut
        then comes from the study's ratings: ``assembly.standard_line``)."""
        if self.cut_score is None:
            return None
        if isinstance(self.cut_score, str):
            return round(self.form_points * float(self.cut_score[:-1]) / 100, 4)
        return float(self.cut_score)

    def time_limit(self, policy: ProgramPolicy) -> int:
        return self.time_limit_minutes or policy.time_limit_minutes

    def content_hash(self) -> str:
        data = self.model_dump(mode="json")
        for key in ("cut_score", "standard"):  # an absent key leaves the hash as it was before `standard` existed
            if data[key] is None:
                del data[key]
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def category(competency: str, kind: Kind) -> str:
    """The short name of a blueprint category, as messages show it."""
    return f"{competency} / {kind.value}"


def expected_p(item: Item, policy: ProgramPolicy, p_values: Mapping[str, float] | None = None) -> float:
    """Expected proportion of candidates answering correctly: past statistics, else the author's estimate."""
    if p_values and item.id in p_values:
        return float(p_values[item.id])
    levels = policy.difficulty_levels
    if item.difficulty in levels:
        return float(levels[item.difficulty])
    return float(levels.get("medium", sum(levels.values()) / max(len(levels), 1)))


@dataclass
class Eligibility:
    """Which live items a blueprint may draw, and why others may not."""

    items: list[Item]  # eligible, bank order
    excluded: dict[str, str]  # item id -> reason (live items only)
    #: items whose header says live but that are not live (waiting for review, retired: ``bank.review``) -> why;
    #: like drafts, they are not part of their scenario's set
    unreviewed: dict[str, str] = field(default_factory=dict)


def eligible_items(bp: Blueprint, bank: Bank, rubrics: Mapping[str, Rubric]) -> Eligibility:
    """Live items of a blueprint category with the blueprint's points (open responses need a rubric).

    Live is ``Bank.live``: the header says live and, when the course requires recorded review,
    a reviewer other than the author approved the item's current content. A scenario is drawn
    whole: if one of its live items cannot be drawn, none of them can.
    """
    ok: list[Item] = []
    excluded: dict[str, str] = {}
    unreviewed: dict[str, str] = {}
    for item in bank.offered():
        why_not = bank.not_live_because(item)
        if item.practice:  # never on a certification form, approved or not (not "waiting for review")
            excluded[item.id] = why_not or "it is a practice item"
        elif why_not is not None:
            unreviewed[item.id] = why_not
        elif bp.count(item.competency, item.kind) <= 0:
            excluded[item.id] = "its competency and kind are not in the blueprint"
        elif item.points != bp.points.get(item.kind):
            excluded[item.id] = (f"it is worth {item.points:g} points; the blueprint's {item.kind.value} items are "
                                 f"worth {bp.points[item.kind]:g}")
        elif kind_for(item.kind).rubric and item.rubric_id not in rubrics:
            excluded[item.id] = f"its rubric {item.rubric_id!r} is not in rubrics/"
        elif item.scenario and item.scenario not in bank.scenarios:
            excluded[item.id] = f"its scenario {item.scenario!r} is not in the bank"
        else:
            ok.append(item)
    bad_scenarios = {bank.items[i].scenario for i in excluded if bank.items[i].scenario}
    kept: list[Item] = []
    for item in ok:
        if item.scenario in bad_scenarios:
            excluded[item.id] = f"another live item of its scenario {item.scenario!r} cannot be drawn"
        else:
            kept.append(item)
    return Eligibility(kept, excluded, unreviewed)


def parse_blueprint(path: Path, label: str) -> tuple[Blueprint | None, object, list[Problem]]:
    """Read and validate the schema of a blueprint file (no bank checks)."""
    data, problems = load_yaml(path, label)
    if problems:
        return None, None, problems
    return validate_blueprint(data, label)


def validate_blueprint(data: object, label: str) -> tuple[Blueprint | None, object, list[Problem]]:
    """``parse_blueprint`` of YAML already read (``standard_line`` checks a blueprint's new text before writing)."""
    if not isinstance(data, dict):
        return None, data, [Problem(Location(label, line=1),
                                    "a blueprint must be a mapping (title, counts, cut_score, ...)")]
    try:
        bp = Blueprint.model_validate(data)
    except ValidationError as exc:
        return None, data, pydantic_problems(exc, data, label, model=Blueprint)
    if bp.standard is not None and bp.cut_score is not None:
        return None, data, [Problem(Location(label, line=line_of(data, ("cut_score",)), column="cut_score"),
                                    f"cut_score {fmt_cut(bp.cut_score)} sets no cut: the blueprint names the board's "
                                    f"standard ({bp.standard.text()}, line {line_of(data, ('standard',))}), from which "
                                    "each form takes its own raw cut from the study's item ratings; delete this line")]
    return bp, data, []


def fmt_cut(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def check_blueprint(path: Path, bank: Bank, rubrics: dict, policy: ProgramPolicy, label: str) -> list[Problem]:
    """Every problem of a blueprint: schema (with line), vocabulary, anchors, points and feasibility."""
    bp, data, problems = parse_blueprint(path, label)
    if bp is None:
        return problems
    return check_against_bank(bp, data, exam_bank(bank, path.parent), rubrics, policy, label)


def exam_bank(bank: Bank, folder: Path) -> Bank:
    """The part of a course-wide bank read from one exam's folder (all of it if none was)."""
    folder = folder.resolve()
    notebooks = [nb for nb in bank.notebooks if folder in nb.path.resolve().parents]
    if not notebooks:
        return bank
    part = Bank(notebooks=notebooks)
    for nb in notebooks:
        for item in nb.items:
            if bank.items.get(item.id) is item:
                part.items[item.id] = item
        for sc in nb.scenarios:
            if bank.scenarios.get(sc.id) is sc:
                part.scenarios[sc.id] = sc
    return part


def check_against_bank(
    bp: Blueprint, data: object, bank: Bank, rubrics: Mapping[str, Rubric], policy: ProgramPolicy, label: str
) -> list[Problem]:
    problems: list[Problem] = []

    def at(*path: str | int, item: str | None = None) -> Location:
        return Location(label, line=line_of(data, path) if data is not None else None,
                        column=".".join(str(p) for p in path) or None, item=item)

    comps = policy.competencies
    for comp in bp.counts:
        if comp not in comps:
            problems.append(Problem(at("counts", comp), f"unknown competency {comp!r}; use one of: {', '.join(comps)}"))
    for module in bp.modules:
        if module not in policy.modules:
            problems.append(Problem(at("modules", module),
                                    f"unknown module {module}; the program's modules are "
                                    f"{', '.join(map(str, policy.modules))}"))
    if bp.total_points is not None and not math.isclose(bp.total_points, bp.counts_points):
        parts = " + ".join(
            f"{n} x {bp.points[k]:g} "
            f"({category(c, k)})" for c, kinds in bp.counts.items() for k, n in kinds.items() if n
        )
        problems.append(Problem(at("total_points"), f"total_points is {bp.total_points:g} but the counts make "
                                f"{bp.counts_points:g} points ({parts}); fix the counts, the points or total_points"))
    cut = bp.cut_points()
    if cut is not None and cut > bp.form_points:
        problems.append(Problem(at("cut_score"),
                                f"the cut score {cut:g} is above the form's {bp.form_points:g} points"))
    per_form = bp.items_per_form
    if bp.max_overlap is not None and bp.max_overlap > per_form:
        problems.append(Problem(at("max_overlap"),
                                f"max_overlap {bp.max_overlap} is above the {per_form} items of a form"))
    if bp.modules and sum(bp.modules.values()) > per_form:
        problems.append(Problem(at("modules"),
                                f"the module minimums add up to {sum(bp.modules.values())}, above the {per_form} "
                                "items of a form"))

    elig = eligible_items(bp, bank, rubrics)
    eligible = {i.id: i for i in elig.items}

    # anchors: live, drawable items; a scenario item brings its whole set
    anchor_items: set[str] = set()
    for n, aid in enumerate(bp.anchors):
        item = bank.items.get(aid)
        loc = at("anchors", n, item=aid)
        if item is None:
            problems.append(Problem(loc, f"anchor {aid!r} is not an item of the bank; list live item ids"))
        elif item.status is not Status.live:
            problems.append(Problem(loc,
                                    f"anchor {aid!r} is {item.status.value}, not live; make it live or choose another "
                                    "anchor"))
        elif aid in elig.unreviewed:
            problems.append(Problem(loc, f"anchor {aid!r} is not approved ({elig.unreviewed[aid]}); record a review "
                                         f"(`exam-builder bank review {aid} --decision approve`) or choose another "
                                         "anchor"))
        elif aid not in eligible:
            problems.append(Problem(loc, f"anchor {aid!r} cannot be drawn: {elig.excluded.get(aid, 'not eligible')}"))
        else:
            members = [i.id for i in bank.scenario_items(item.scenario) if i.id in eligible] if item.scenario else [aid]
            anchor_items.update(members)
    for comp, kind in bp.categories():
        n_anchor = sum(1 for i in anchor_items if eligible[i].competency == comp and eligible[i].kind is kind)
        if n_anchor > bp.count(comp, kind):
            problems.append(Problem(at("anchors"), f"{category(comp, kind)}: the anchors bring {n_anchor} items, "
                                    f"the blueprint has room for {bp.count(comp, kind)}; drop an anchor or raise the "
                                    "count"))
    overlap = bp.max_overlap if bp.max_overlap is not None else len(anchor_items)
    if overlap < len(anchor_items):
        problems.append(Problem(at("max_overlap"),
                                f"max_overlap {overlap} is below the {len(anchor_items)} anchor items every form "
                                f"shares; raise it to at least {len(anchor_items)}"))
    if bp.scenario_sets is not None:
        n_sets = len({i.scenario for i in elig.items if i.scenario})
        if n_sets < bp.scenario_sets:
            problems.append(Problem(at("scenario_sets"),
                                    f"the blueprint needs {bp.scenario_sets} scenario sets per form, the bank has "
                                    f"{n_sets} that can be drawn"))

    # feasibility against the bank, per category, then over all forms
    for comp, kind in bp.categories():
        have = sum(1 for i in elig.items if i.competency == comp and i.kind is kind)
        need = bp.count(comp, kind)
        if have < need:
            waiting = sum(1 for i in elig.unreviewed if bank.items[i].competency == comp and bank.items[i].kind is kind)
            more = f" ({waiting} more are not approved: `exam-builder bank list --waiting`)" if waiting else ""
            problems.append(Problem(at("counts", comp, kind.value),
                                    f"{category(comp, kind)}: the blueprint needs {need}, the bank has {have} live "
                                    f"items{more}"))
    if not problems and bp.forms > 1:
        pairs = bp.forms * (bp.forms - 1) // 2
        need_distinct = bp.forms * per_form - pairs * overlap
        if need_distinct > len(elig.items):
            problems.append(Problem(at("max_overlap"),
                                    f"{bp.forms} forms of {per_form} items sharing at most {overlap} items per pair "
                                    f"need at least {need_distinct} distinct items; the bank has {len(elig.items)} "
                                    "that can be drawn. "
                                    "Raise max_overlap, build fewer forms or add live items"))
    for module, minimum in bp.modules.items():
        have = sum(1 for i in elig.items if i.module == module)
        if have < minimum:
            problems.append(Problem(at("modules", module),
                                    f"module {module}: the blueprint needs at least {minimum} items, the bank has "
                                    f"{have} that can be drawn"))
    in_blueprint = [i for i in elig.unreviewed if bp.count(bank.items[i].competency, bank.items[i].kind) > 0]
    if in_blueprint:
        problems.append(Problem(Location(label), f"{len(in_blueprint)} item(s) of the blueprint's categories say "
                                "'status: live' but are not approved, and are not drawn (`exam-builder bank list "
                                "--waiting`; a reviewer records many at once: `exam-builder bank review --all-pending "
                                "--decision approve --by NAME --reason WHY --dry-run`, then without --dry-run)",
                                severity="warning"))
    for item_id, why in sorted(elig.excluded.items()):
        item = bank.items[item_id]
        if bp.count(item.competency, item.kind) > 0 and not item.practice:  # practice items are never drawn
            problems.append(Problem(Location(item.where.file or label, cell=item.where.cell or None, item=item_id),
                                    f"this live item is not drawn: {why}", severity="warning"))
    return problems


def load_blueprint(path: Path, bank: Bank, rubrics: Mapping[str, Rubric], policy: ProgramPolicy,
                   label: str) -> Blueprint:
    """The blueprint, or ``ValidationFailed`` with every problem (warnings alone do not fail)."""
    if not path.exists():
        raise ExamBuilderError(f"{label}: no blueprint; write one (see docs/architecture.md) next to the exam's items")
    bp, data, problems = parse_blueprint(path, label)
    if bp is not None:
        problems = check_against_bank(bp, data, bank, rubrics, policy, label)
    if bp is None or any(p.is_error for p in problems):
        raise ValidationFailed([p for p in problems if p.is_error])
    return bp
