"""The seam: outside ``exam_builder/kinds/`` (and the enum in model/item.py) no module names a kind.

Branching on ``Kind.true_false`` and friends anywhere else is how one kind's rules spread over a
dozen modules; every other module asks ``kinds.kind_for(kind)`` instead.
"""
from __future__ import annotations

import re
from pathlib import Path

from exam_builder.model.item import Kind
from exam_builder.kinds import all_kinds, kind_for, kind_for_tag

PACKAGE = Path(__file__).resolve().parents[2] / "exam_builder"
ALLOWED = {PACKAGE / "model" / "item.py"}


def test_no_module_outside_kinds_branches_on_a_kind_member():
    member = re.compile(r"\bKind\.(" + "|".join(k.name for k in Kind) + r")\b")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in ALLOWED or (PACKAGE / "kinds") in path.parents:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if member.search(line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
    assert not offenders, "ask kinds.kind_for(kind) instead of naming a kind:\n" + "\n".join(offenders)


def test_every_kind_is_registered_once_by_member_value_and_tag():
    assert [k.kind for k in all_kinds()] == list(Kind)
    for k in Kind:
        assert kind_for(k) is kind_for(k.value) is kind_for_tag(k.tag)
        assert kind_for(k).name and kind_for(k).kind is k
