"""The assembler on random banks: every blueprint rule holds on every form, and it is deterministic."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from exam_builder.assembly.assemble import Infeasible, assemble
from exam_builder.assembly.blueprint import Blueprint, eligible_items
from exam_builder.assembly.synthetic import COMPETENCIES, synthetic_bank
from exam_builder.bank import Kind
from exam_builder.model.item import LABELS
from exam_builder.settings.policy import ProgramPolicy

POLICY = ProgramPolicy()
KINDS = (Kind.true_false, Kind.multiple_choice, Kind.open_response)


@st.composite
def cases(draw):
    """A random bank and a blueprint it can fill without two forms sharing more than allowed."""
    bank, rubrics = synthetic_bank(
        draw(st.integers(90, 320)), draw(st.integers(0, 10_000)),
        scenario_share=draw(st.sampled_from([0.0, 0.1, 0.3])),
        open_share=draw(st.sampled_from([0.05, 0.1])),
    )
    n_forms = draw(st.integers(1, 4))
    base = Blueprint(title="t", seed=0, cut_score="70%", counts={"peer-support": {Kind.true_false: 1}},
                     points={Kind.true_false: 1, Kind.multiple_choice: 1, Kind.open_response: 6})
    # what the bank has per category outside scenarios (a scenario with an item of an unused
    # category cannot be drawn whole, so only single items are sure to be drawable)
    have = Counter((i.competency, i.kind) for i in bank.live() if not i.scenario)
    counts: dict[str, dict[Kind, int]] = {}
    for comp in COMPETENCIES:
        for kind in KINDS:
            top = have[(comp, kind)] // (n_forms + 1)
            n = draw(st.integers(0, min(top, 6)))
            if n:
                counts.setdefault(comp, {})[kind] = n
    if not counts:
        (comp, kind), _ = have.most_common(1)[0]
        counts = {comp: {kind: 1}}
    base = base.model_copy(update={"counts": counts})
    elig = eligible_items(base, bank, rubrics).items
    anchors: list[str] = []
    if elig and draw(st.booleans()):
        anchor = elig[draw(st.integers(0, len(elig) - 1))]
        members = [i for i in elig if anchor.scenario and i.scenario == anchor.scenario] or [anchor]
        for i in members:  # make room for the whole anchored set
            counts.setdefault(i.competency, {})
            counts[i.competency][i.kind] = max(counts[i.competency].get(i.kind, 0),
                                               sum(1 for m in members
                                                   if (m.competency, m.kind) == (i.competency, i.kind)))
        anchors = [anchor.id]
    per_form = sum(sum(k.values()) for k in counts.values())
    bp = Blueprint(
        title="Random exam", seed=draw(st.integers(0, 2**31 - 1)), forms=n_forms, cut_score="70%",
        counts=counts, points=base.points, anchors=anchors,
        max_overlap=len(anchors) * 4 + draw(st.integers(0, max(1, per_form // 3))),
        shuffle={"items": draw(st.booleans()), "choices": draw(st.booleans()),
                 "open_response_last": draw(st.booleans())},
        difficulty_tolerance=0.5,  # balance is tested on its own below
    )
    return Case(bank, rubrics, bp)


class Case(tuple):
    """(bank, rubrics, blueprint) with a short repr, so hypothesis reports stay readable."""

    def __new__(cls, bank, rubrics, bp):
        return super().__new__(cls, (bank, rubrics, bp))

    def __repr__(self) -> str:
        bank, _, bp = self
        return f"Case(bank of {len(bank.items)} items, {bp.model_dump_json()})"


def check_forms(bank, rubrics, bp, result) -> None:
    elig = {i.id: i for i in eligible_items(bp, bank, rubrics).items}
    anchored = {i for a in bp.anchors for i in ([x.id for x in elig.values() if elig[a].scenario
                                                 and x.scenario == elig[a].scenario] or [a])}
    manifests = result.manifests
    assert [m.form for m in manifests] == list(LABELS[:bp.forms])
    for m in manifests:
        ids = [e.item_id for e in m.items]
        assert len(set(ids)) == len(ids)
        assert [e.number for e in m.items] == list(range(1, len(ids) + 1))
        assert all(i in elig for i in ids), "only live, drawable items"
        # counts per competency and kind: exact
        got = Counter((e.competency, e.kind) for e in m.items)
        want = Counter({(c, k): n for c, kinds in bp.counts.items() for k, n in kinds.items() if n})
        assert got == want
        # points equal and as the blueprint says
        assert sum(e.points for e in m.items) == pytest.approx(bp.form_points) == m.total_points
        assert anchored <= set(ids)
        assert all(e.anchor == (e.item_id in anchored) for e in m.items)
        # scenario sets whole, together, in bank order
        for sid in {e.scenario for e in m.items if e.scenario}:
            positions = [k for k, e in enumerate(m.items) if e.scenario == sid]
            members = [i.id for i in elig.values() if i.scenario == sid]
            assert [m.items[k].item_id for k in positions] == members
            assert positions == list(range(positions[0], positions[0] + len(positions)))
        # choice rules
        for e in m.items:
            item = elig[e.item_id]
            if e.kind is Kind.open_response:
                assert e.key is None and e.option_order == () and e.rubric == item.rubric_id
                continue
            assert sorted(e.option_order) == list(range(len(item.choices)))
            assert item.choices[e.option_order[LABELS.index(e.key)]].correct
            shown = [item.choices[k] for k in e.option_order]
            if e.kind is Kind.true_false:
                assert [c.text for c in shown] == ["True", "False"]
            else:
                flags = [c.anchored for c in shown]
                assert flags == sorted(flags), "anchored choices stay last"
                if not bp.shuffle.choices:
                    assert e.option_order == tuple(sorted(e.option_order, key=lambda k: (item.choices[k].anchored, k)))
        if bp.shuffle.open_response_last:
            flags = []
            for e in m.items:
                unit = [x for x in m.items if x.scenario == e.scenario] if e.scenario else [e]
                flags.append(any(x.kind is Kind.open_response for x in unit))
            assert flags == sorted(flags)
    # overlap between any two forms
    for a in manifests:
        for b in manifests:
            if a.form < b.form:
                shared = {e.item_id for e in a.items} & {e.item_id for e in b.items}
                assert len(shared) <= bp.max_overlap
                assert result.overlap[(a.form, b.form)] == len(shared)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_blueprint_constraints_hold_on_random_banks(case):
    bank, rubrics, bp = case
    result = assemble("rnd", bp, bank, rubrics, POLICY)
    check_forms(bank, rubrics, bp, result)
    again = assemble("rnd", bp, bank, rubrics, POLICY)
    assert [m.canonical_json() for m in again.manifests] == [m.canonical_json() for m in result.manifests]


def _bp(**kw) -> Blueprint:
    data = dict(title="Balanced", seed=4, forms=3, cut_score="70%", max_overlap=3,
                points={Kind.true_false: 1, Kind.multiple_choice: 1, Kind.open_response: 6},
                counts={c: {Kind.true_false: 5, Kind.multiple_choice: 14, Kind.open_response: 1} for c in COMPETENCIES})
    data.update(kw)
    return Blueprint(**data)


def test_forms_are_balanced_within_tolerance():
    bank, rubrics = synthetic_bank(1000, 21)
    bp = _bp(difficulty_tolerance=0.01)
    result = assemble("bal", bp, bank, rubrics, POLICY)
    check_forms(bank, rubrics, bp, result)
    assert result.spread <= 0.01
    assert result.difficulty_source == "author estimates"
    shares = [b.expected for b in result.balance]
    assert all(0.55 <= s <= 0.85 for s in shares)


def test_item_statistics_replace_author_estimates():
    bank, rubrics = synthetic_bank(1000, 21)
    bp = _bp(difficulty_tolerance=0.02)
    live = [i.id for i in bank.live()]
    stats = {iid: 0.3 + 0.6 * (n % 7) / 6 for n, iid in enumerate(live[:400])}
    result = assemble("bal", bp, bank, rubrics, POLICY, p_values=stats)
    assert result.difficulty_source.startswith("item statistics for ")
    assert result.spread <= 0.02
    plain = assemble("bal", bp, bank, rubrics, POLICY)
    assert [m.canonical_json() for m in plain.manifests] != [m.canonical_json() for m in result.manifests]


def test_impossible_balance_is_refused():
    import random

    bank, rubrics = synthetic_bank(120, 3, scenario_share=0)
    singles = [i for i in bank.live() if i.competency == "peer-support" and i.kind is Kind.multiple_choice]
    rng = random.Random(1)
    stats = {i.id: rng.random() for i in singles}  # distinct values: no split of them is exactly even
    bp = _bp(forms=2, difficulty_tolerance=0.0001, max_overlap=0,
             counts={"peer-support": {Kind.multiple_choice: len(singles) // 2}})
    with pytest.raises(Infeasible) as exc:
        assemble("bal", bp, bank, rubrics, POLICY, p_values=stats)
    assert "could not be balanced within difficulty_tolerance" in str(exc.value)


def test_overlap_limit_that_cannot_be_met_names_the_category():
    bank, rubrics = synthetic_bank(150, 8, scenario_share=0)
    have = sum(1 for i in bank.live() if i.competency == "change-agent" and i.kind is Kind.true_false)
    bp = _bp(forms=3, max_overlap=0, counts={"change-agent": {Kind.true_false: have // 2 + 1}})
    with pytest.raises(Infeasible) as exc:
        assemble("ovl", bp, bank, rubrics, POLICY)
    assert "change-agent / true_false" in str(exc.value) and "max_overlap (0)" in str(exc.value)


def test_seed_changes_forms_and_labels_follow_first_label():
    bank, rubrics = synthetic_bank(300, 5)
    bp = _bp(forms=2, counts={"peer-support": {Kind.multiple_choice: 8}}, max_overlap=4)
    a = assemble("s", bp, bank, rubrics, POLICY)
    b = assemble("s", bp, bank, rubrics, POLICY, seed=bp.seed + 1)
    c = assemble("s", bp, bank, rubrics, POLICY, first_label="D")
    assert [m.canonical_json() for m in a.manifests] != [m.canonical_json() for m in b.manifests]
    assert [m.assignment for m in c.manifests] == ["s-D", "s-E"]
    assert [m.items for m in c.manifests] == [m.items for m in a.manifests]


def test_same_manifests_in_processes_with_different_hash_seeds():
    """Set and dict order vary between processes; the manifests must not."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib\n"
        "from exam_builder.assembly.assemble import assemble\n"
        "from exam_builder.assembly.blueprint import Blueprint\n"
        "from exam_builder.assembly.synthetic import synthetic_bank\n"
        "from exam_builder.settings.policy import ProgramPolicy\n"
        "bank, rubrics = synthetic_bank(1000, 21)\n"
        "kinds = {'true_false': 5, 'multiple_choice': 14, 'open_response': 1}\n"
        "bp = Blueprint(title='x', seed=4, forms=3, cut_score='70%', max_overlap=3, difficulty_tolerance=0.005,\n"
        "    points={'true_false': 1, 'multiple_choice': 1, 'open_response': 6},\n"
        "    counts={c: kinds for c in ('peer-support', 'in-but-not-of', 'change-agent')})\n"
        "ms = assemble('x', bp, bank, rubrics, ProgramPolicy()).manifests\n"
        "print(hashlib.sha256(''.join(m.canonical_json() for m in ms).encode()).hexdigest())\n"
    )
    outs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        outs.add(proc.stdout.strip())
    assert len(outs) == 1, outs


def test_module_minimums_and_scenario_sets_per_form():
    bank, rubrics = synthetic_bank(600, 13, scenario_share=0.3)
    bp = _bp(forms=3, max_overlap=6, modules={7: 6, 2: 4}, scenario_sets=3, difficulty_tolerance=0.05)
    result = assemble("mod", bp, bank, rubrics, POLICY)
    check_forms(bank, rubrics, bp, result)
    for m in result.manifests:
        by_module = Counter(e.module for e in m.items)
        assert by_module[7] >= 6 and by_module[2] >= 4
        assert len({e.scenario for e in m.items if e.scenario}) == 3
