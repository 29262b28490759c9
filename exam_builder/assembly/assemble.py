"""Assemble parallel forms from the bank under a blueprint: exact counts, seeded, balanced.

Pure: no files, no database. The same bank, blueprint, seed (and item statistics, if given)
give the same manifests, byte for byte, because the only randomness is one
``random.Random(seed)`` consumed in a fixed order and every collection is walked in a fixed
order.

Steps: the drawable items are grouped into units (a scenario's live items, in bank order, or
one item); anchor units go on every form; each form is filled unit by unit, preferring items
used least so far, never exceeding a count or the overlap allowed with an earlier form; then
single items are swapped within their category until every form's expected score share lies
within the blueprint's tolerance; finally questions and choices are ordered per form.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..bank import Bank, Item, Kind
from ..errors import ExamBuilderError
from ..kinds import kind_for
from ..model.item import LABELS
from ..model.manifest import Manifest, ManifestItem
from ..model.rubric import Rubric
from ..settings.policy import ProgramPolicy
from .blueprint import Blueprint, category, eligible_items, expected_p

Cat = tuple[str, Kind]
ATTEMPTS_PER_FORM = 40


@dataclass
class Unit:
    """Items that go on a form together: a whole scenario set (vignette first) or one item."""

    items: list[Item]
    scenario: str | None = None
    anchor: bool = False
    order: int = 0  # position of its first item in the bank

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.items]

    def counts(self) -> dict[Cat, int]:
        out: dict[Cat, int] = {}
        for i in self.items:
            out[(i.competency, i.kind)] = out.get((i.competency, i.kind), 0) + 1
        return out


@dataclass
class FormBalance:
    """How one form compares: expected score share, points per competency."""

    label: str
    expected: float  # expected proportion of the points a typical candidate earns
    points: float
    points_by_competency: dict[str, float]
    items: int


@dataclass
class Assembly:
    """The outcome of one assembly run."""

    manifests: list[Manifest]
    balance: list[FormBalance]
    tolerance: float
    difficulty_source: str  # "author estimates" or "item statistics for N items"
    overlap: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def spread(self) -> float:
        values = [b.expected for b in self.balance]
        return max(values) - min(values) if values else 0.0


class Infeasible(ExamBuilderError):
    """The blueprint cannot be met from the bank; the message names the category."""


def content_hashes(items: list[Item]) -> dict[str, str]:
    return {i.id: i.content_hash() for i in items}


def bank_hash(hashes: Mapping[str, str], scenario_hashes: Mapping[str, str]) -> str:
    data = {"items": dict(sorted(hashes.items())), "scenarios": dict(sorted(scenario_hashes.items()))}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def build_units(bp: Blueprint, items: list[Item]) -> list[Unit]:
    """Group drawable items into units, in bank order; mark the anchor units."""
    anchors = set(bp.anchors)
    units: list[Unit] = []
    by_scenario: dict[str, Unit] = {}
    for n, item in enumerate(items):
        if item.scenario:
            unit = by_scenario.get(item.scenario)
            if unit is None:
                unit = by_scenario[item.scenario] = Unit([], scenario=item.scenario, order=n)
                units.append(unit)
            unit.items.append(item)
        else:
            units.append(Unit([item], order=n))
    for unit in units:
        unit.anchor = any(i.id in anchors for i in unit.items)
    return units


def check_feasible(bp: Blueprint, items: list[Item]) -> None:
    """Raise ``Infeasible`` naming every category the bank cannot fill."""
    msgs = []
    for comp, kind in bp.categories():
        have = sum(1 for i in items if i.competency == comp and i.kind is kind)
        if have < bp.count(comp, kind):
            msgs.append(f"{category(comp, kind)}: the blueprint needs {bp.count(comp, kind)}, the bank has {have} "
                        "live items")
    missing = [a for a in bp.anchors if a not in {i.id for i in items}]
    if missing:
        msgs.append(f"anchors {', '.join(missing)} are not live items that can be drawn")
    if msgs:
        raise Infeasible("\n".join(msgs) + "\nAdd live items to the bank or lower the counts in the blueprint.")


class _Filler:
    """Fills forms one after another under counts, overlap and module minimums."""

    def __init__(self, bp: Blueprint, units: list[Unit], rng: random.Random):
        self.bp = bp
        self.rng = rng
        self.anchor_units = [u for u in units if u.anchor]
        self.free_units = [u for u in units if not u.anchor]
        self.anchor_ids = {i for u in self.anchor_units for i in u.ids}
        self.max_overlap = bp.max_overlap if bp.max_overlap is not None else len(self.anchor_ids)
        self.usage: dict[str, int] = {}
        self.forms: list[set[str]] = []  # item ids per finished form
        self.last_failure = ""

    def _needs(self) -> dict[Cat, int]:
        need = {c: self.bp.count(*c) for c in self.bp.categories()}
        for u in self.anchor_units:
            for c, n in u.counts().items():
                need[c] = need.get(c, 0) - n
        return need

    def fill(self, label: str) -> list[Unit]:
        for _ in range(ATTEMPTS_PER_FORM):
            chosen = self._attempt(label)
            if chosen is not None:
                ids = {i for u in chosen for i in u.ids}
                for i in ids:
                    self.usage[i] = self.usage.get(i, 0) + 1
                self.forms.append(ids)
                return chosen
        raise Infeasible(self.last_failure)

    def _attempt(self, label: str) -> list[Unit] | None:
        bp = self.bp
        need = self._needs()
        chosen = list(self.anchor_units)
        overlap = [len(self.anchor_ids) for _ in self.forms]
        modules: dict[int, int] = {}
        for u in chosen:
            for i in u.items:
                if i.module is not None:
                    modules[i.module] = modules.get(i.module, 0) + 1
        sets = sum(1 for u in chosen if u.scenario)
        order = sorted(
            self.free_units,
            key=lambda u: (max(self.usage.get(i, 0) for i in u.ids), self.rng.random()),
        )

        def shared(u: Unit) -> list[int]:
            return [sum(1 for i in u.ids if i in f) for f in self.forms]

        def fits(u: Unit) -> bool:
            if any(n > need.get(c, 0) for c, n in u.counts().items()):
                return False
            if u.scenario and bp.scenario_sets is not None and sets >= bp.scenario_sets:
                return False
            return all(o + s <= self.max_overlap for o, s in zip(overlap, shared(u), strict=False))

        taken: set[int] = set()

        def take(k: int, u: Unit) -> None:
            nonlocal sets
            taken.add(k)
            chosen.append(u)
            for c, n in u.counts().items():
                need[c] -= n
            for g, s in enumerate(shared(u)):
                overlap[g] += s
            for i in u.items:
                if i.module is not None:
                    modules[i.module] = modules.get(i.module, 0) + 1
            if u.scenario:
                sets += 1

        # scenario sets first when the blueprint fixes their number, then module minimums, then the rest
        if bp.scenario_sets is not None:
            for k, u in enumerate(order):
                if sets >= bp.scenario_sets:
                    break
                if u.scenario and fits(u):
                    take(k, u)
            if sets < bp.scenario_sets:
                self.last_failure = (f"form {label}: only {sets} of the {bp.scenario_sets} scenario sets fit the "
                                     "counts "
                                     f"and the overlap limit ({self.max_overlap}); lower scenario_sets or raise "
                                     "max_overlap")
                return None
        for module, minimum in sorted(bp.modules.items()):
            for k, u in enumerate(order):
                if modules.get(module, 0) >= minimum:
                    break
                if k not in taken and any(i.module == module for i in u.items) and fits(u):
                    take(k, u)
            if modules.get(module, 0) < minimum:
                self.last_failure = (f"form {label}: module {module} needs at least {minimum} items, "
                                     f"only {modules.get(module, 0)} fit the counts and the overlap limit; "
                                     "lower the module minimum, raise max_overlap or add live items")
                return None
        for k, u in enumerate(order):
            if not any(need.values()):
                break
            if k not in taken and fits(u):
                take(k, u)
        short = [(c, n) for c, n in need.items() if n > 0]
        if short:
            c, n = short[0]
            self.last_failure = (
                f"form {label}: {category(*c)}: {n} more item(s) needed, but every remaining live item would "
                f"make two forms share more than max_overlap ({self.max_overlap}) items or break up a scenario set; "
                "raise max_overlap, build fewer forms or add live items"
            )
            return None
        return chosen


def _balance(
    bp: Blueprint,
    forms: list[list[Unit]],
    items: list[Item],
    p: Mapping[str, float],
    max_overlap: int,
    iterations: int = 400,
) -> None:
    """Swap single items within their category until the forms' expected shares are close."""
    total = bp.form_points
    pools: dict[Cat, list[tuple[float, str]]] = {}
    by_id = {i.id: i for i in items}
    for i in items:
        if not i.scenario and i.id not in bp.anchors:
            pools.setdefault((i.competency, i.kind), []).append((p[i.id], i.id))
    for pool in pools.values():
        pool.sort()
    members = [{i for u in f for i in u.ids} for f in forms]

    def share(f: int) -> float:
        # summed in a fixed order: set order varies between processes, float sums are not associative
        return sum(p[i] * by_id[i].points for i in sorted(members[f])) / total

    def module_ok(f: int, out: Item, inn: Item) -> bool:
        if out.module == inn.module or out.module not in bp.modules:
            return True
        have = sum(1 for i in members[f] if by_id[i].module == out.module)
        return have - 1 >= bp.modules[out.module]

    def overlap_ok(f: int, out_id: str, in_id: str) -> bool:
        for g, mg in enumerate(members):
            if g == f:
                continue
            now = len(members[f] & mg)
            after = now - (out_id in mg) + (in_id in mg)
            if after > max_overlap and after > now:
                return False
        return True

    target_spread = bp.difficulty_tolerance / 2
    for _ in range(iterations):
        shares = [share(f) for f in range(len(forms))]
        if max(shares) - min(shares) <= target_spread:
            return
        mean = sum(shares) / len(shares)
        improved = False
        for f in sorted(range(len(forms)), key=lambda f: -abs(shares[f] - mean)):
            best: tuple[float, int, str] | None = None
            gap = shares[f] - mean
            for k, unit in enumerate(forms[f]):
                if unit.anchor or unit.scenario:
                    continue
                out = unit.items[0]
                pool = pools.get((out.competency, out.kind), [])
                target = p[out.id] - gap * total / out.points
                pos = bisect.bisect_left(pool, (target, ""))
                for j in range(max(0, pos - 4), min(len(pool), pos + 4)):
                    pin, in_id = pool[j]
                    if in_id in members[f]:
                        continue
                    new_gap = gap + (pin - p[out.id]) * out.points / total
                    gain = abs(gap) - abs(new_gap)
                    if gain <= 1e-12 or (best is not None and gain <= best[0]):
                        continue
                    if module_ok(f, out, by_id[in_id]) and overlap_ok(f, out.id, in_id):
                        best = (gain, k, in_id)
            if best is not None:
                _, k, in_id = best
                members[f].discard(forms[f][k].items[0].id)
                members[f].add(in_id)
                forms[f][k] = Unit([by_id[in_id]], order=forms[f][k].order)
                improved = True
                break
        if not improved:
            return


def _choice_order(item: Item, bp: Blueprint, rng: random.Random) -> tuple[int, ...]:
    """Original choice index at each position, as the item's kind orders them (``kinds``)."""
    return kind_for(item.kind).choice_order(item, bp.shuffle.choices, rng)


def _order_units(units: list[Unit], bp: Blueprint, rng: random.Random) -> list[Unit]:
    cat_rank = {c: n for n, c in enumerate(bp.categories())}
    ordered = sorted(units, key=lambda u: (cat_rank.get((u.items[0].competency, u.items[0].kind), 0), u.order))
    if bp.shuffle.items:
        rng.shuffle(ordered)
    if bp.shuffle.open_response_last:
        ordered = [u for u in ordered if not any(kind_for(i.kind).rated for i in u.items)] + [
            u for u in ordered if any(kind_for(i.kind).rated for i in u.items)
        ]
    return ordered


def assemble(
    exam: str,
    bp: Blueprint,
    bank: Bank,
    rubrics: Mapping[str, Rubric],
    policy: ProgramPolicy,
    *,
    seed: int | None = None,
    forms: int | None = None,
    first_label: str = "A",
    p_values: Mapping[str, float] | None = None,
    form_cut: Callable[[Manifest], float] | None = None,
) -> Assembly:
    """Assemble the forms of ``exam``; raise ``Infeasible`` naming the category that cannot be met.

    ``p_values`` (item id -> proportion correct in past sittings) replaces the author's
    difficulty estimate for the items it covers: the hook for item statistics. ``form_cut`` gives
    each form its raw cut when the blueprint names the board's standard (``standard_line.form_cuts``
    reads it from the records); without a standard, every form takes the blueprint's flat cut.
    """
    if bp.standard is not None and form_cut is None:
        raise ExamBuilderError(f"the blueprint's cut is the board's standard ({bp.standard.text()}): each form's "
                               "cut comes from the study's ratings in the course's records (exam-builder build)")
    seed = bp.seed if seed is None else seed
    n_forms = bp.forms if forms is None else forms
    start = LABELS.find(first_label)
    if start < 0 or len(first_label) != 1 or start + n_forms > len(LABELS):
        raise ExamBuilderError(f"form labels run from A to Z; {n_forms} forms from {first_label!r} do not fit")
    labels = list(LABELS[start:start + n_forms])
    rng = random.Random(seed)

    elig = eligible_items(bp, bank, rubrics)
    items = elig.items
    check_feasible(bp, items)
    p = {i.id: expected_p(i, policy, p_values) for i in items}
    stats_used = sum(1 for i in items if p_values and i.id in p_values)
    units = build_units(bp, items)
    filler = _Filler(bp, units, rng)
    for u in filler.anchor_units:
        too_many = [c for c, n in u.counts().items() if n > bp.count(*c)]
        if too_many:
            raise Infeasible(f"{category(*too_many[0])}: the anchors bring more items than the blueprint's count")
    planned = [filler.fill(label) for label in labels]
    _balance(bp, planned, items, p, filler.max_overlap)

    hashes = content_hashes(items)
    scen_hashes = {sid: bank.scenarios[sid].content_hash() for sid in sorted({i.scenario for i in items if i.scenario})}
    b_hash = bank_hash(hashes, scen_hashes)
    bp_hash = bp.content_hash()
    total = bp.form_points
    manifests: list[Manifest] = []
    balance: list[FormBalance] = []
    for label, units_f in zip(labels, planned, strict=False):
        ordered = _order_units(units_f, bp, rng)
        m_items: list[ManifestItem] = []
        scenarios: dict[str, str] = {}
        for unit in ordered:
            for item in unit.items:
                number = len(m_items) + 1
                order = _choice_order(item, bp, rng)
                # an item without exactly one key gets none here; lint stops its release
                kind = kind_for(item.kind)
                key = kind.form_key(item, order)
                rubric = rubrics.get(item.rubric_id) if kind.rubric else None
                if item.scenario:
                    scenarios[item.scenario] = scen_hashes[item.scenario]
                m_items.append(ManifestItem(
                    number=number, item_id=item.id, kind=item.kind, points=item.points,
                    competency=item.competency, module=item.module, scenario=item.scenario,
                    content_hash=hashes[item.id], difficulty=item.difficulty, option_order=order, key=key,
                    rubric=rubric.id if rubric else None, rubric_hash=rubric.content_hash() if rubric else None,
                    anchor=unit.anchor, **kind.manifest_fields(item),
                ))
        manifest = Manifest(
            exam=exam, form=label, assignment=f"{exam}-{label}", title=bp.title, seed=seed,
            time_limit_minutes=bp.time_limit(policy), total_points=total, cut_score=bp.cut_points() or 0.0,
            bank_hash=b_hash, blueprint_hash=bp_hash, items=tuple(m_items), scenarios=scenarios,
        )
        if form_cut is not None:  # the form's own cut from the standard, replacing the flat one
            manifest = manifest.model_copy(update={"cut_score": form_cut(manifest)})
        manifests.append(manifest)
        balance.append(form_balance(manifest, p))
    result = Assembly(
        manifests=manifests, balance=balance, tolerance=bp.difficulty_tolerance,
        difficulty_source=f"item statistics for {stats_used} items, author estimates for the "
                          "rest" if stats_used else "author estimates",
        overlap=overlap_matrix(manifests),
    )
    if result.spread > bp.difficulty_tolerance + 1e-9:
        shares = ", ".join(f"{b.label} {b.expected:.1%}" for b in balance)
        raise Infeasible(
            f"the forms could not be balanced within difficulty_tolerance {bp.difficulty_tolerance:.1%}: "
            f"expected scores {shares} (spread {result.spread:.1%}). Widen difficulty_tolerance, "
            "raise max_overlap or add live items of varied difficulty"
        )
    return result


def form_balance(manifest: Manifest, p: Mapping[str, float]) -> FormBalance:
    by_comp: dict[str, float] = {}
    for i in manifest.items:
        by_comp[i.competency] = by_comp.get(i.competency, 0.0) + i.points
    expected = sum(p[i.item_id] * i.points for i in manifest.items) / manifest.total_points
    return FormBalance(manifest.form, expected, sum(i.points for i in manifest.items), by_comp, len(manifest.items))


def overlap_matrix(manifests: list[Manifest]) -> dict[tuple[str, str], int]:
    """Items shared by every pair of forms (the diagonal is the form's own item count)."""
    ids = {m.form: {i.item_id for i in m.items} for m in manifests}
    return {(a, b): len(ids[a] & ids[b]) for a in ids for b in ids}


__all__ = ["Assembly", "FormBalance", "Infeasible", "assemble", "form_balance", "overlap_matrix"]
