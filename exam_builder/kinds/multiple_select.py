"""Multiple select ("select all that apply"): two or more keys among three or more choices.

Authoring::

    **[MS] ps-ms-01** · competency: peer-support · module: 2 · points: 2 · scoring: partial · status: live · ...
    Which of these are signs that a conversation is mutual? Select all that apply.
    - [x] Both people decide what to talk about.
    - [ ] The specialist steers toward the treatment plan.
    - [x] Each person can say no to a question.
    > **Rationale:** ...

``scoring:`` is ``all-or-nothing`` (the default: full points only for exactly the keys) or
``partial``: ``points × max(0, (right picks − wrong picks) / number of keys)``, capped at the
item's points, so a wrong pick cancels a right one and the floor is 0.

The stored answer (``eb_response.value``) and the form's answer cell hold the chosen labels sorted
and joined by ",": ``q05 = "A,C"``; nothing chosen is no answer (``q05 = None``). The hidden test
nbgrader runs asserts the key (all-or-nothing) or, for partial credit, refuses an answer that is
not sorted, distinct offered labels and prints the points as its last value (nbgrader's partial
credit), computed by the very expression ``score`` uses, so both give the same float.
"""
from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ..model.kind import LABELS, Kind
from ..model.states import ScoreFlagKind
from .base import NO_KEY, Checker, ItemKind, ReadAnswer, label

if TYPE_CHECKING:
    from ..model.item import Choice, Item
    from ..model.manifest import ManifestItem
    from ..model.qti import Found, ItemWriter

ALL_OR_NOTHING = "all-or-nothing"
PARTIAL = "partial"
SCORING = (ALL_OR_NOTHING, PARTIAL)
MIN_MS_CHOICES = 3
MIN_MS_KEYS = 2


def partial_points(points: float, right: int, wrong: int, n_keys: int) -> float:
    """Partial credit: ``min(points, points * max(0, right - wrong) / n_keys)`` (floor 0, never above points).

    The hidden test cell evaluates this same expression, so nbgrader's float equals ours.
    """
    return min(points, points * max(0, right - wrong) / n_keys)


def split_answer(answer: str | None) -> list[str]:
    return answer.split(",") if answer else []


class MultipleSelect(ItemKind):
    kind = Kind.multiple_select
    name = "multiple select"
    header_fields = ("scoring",)
    question_note = "select all that apply"
    multiple = True
    default_points = None  # a blueprint says what one is worth
    key_rule = f"mark at least {MIN_MS_KEYS} with - [x]"

    # -- authoring ------------------------------------------------------------------------
    def parse_fields(self, fields: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
        if "scoring" not in fields:
            return {}, []
        value = fields["scoring"].strip().lower()
        if value not in SCORING:
            return {}, [f"scoring {fields['scoring']!r} is unknown; write 'scoring: {ALL_OR_NOTHING}' (the default) "
                        f"or 'scoring: {PARTIAL}'"]
        return {"scoring": value}, []

    def own_text(self, item: Item) -> dict[str, str]:
        return {"scoring": item.own["scoring"]} if item.own.get("scoring") else {}

    def validate(self, item: Item, check: Checker) -> None:
        n = len(item.choices)
        if n < MIN_MS_CHOICES:
            check.error(f"a multiple-select item needs at least {MIN_MS_CHOICES} choices (it has {n}); "
                        "write each as '- [ ] text' below the stem")
        if any(c.anchored for c in item.choices):
            first = next(i for i, c in enumerate(item.choices) if c.anchored)
            check.error(f"choice {label(first)} ({item.choices[first].text!r}) does not fit 'select all that apply'; "
                        "the candidate selects the choices themselves: remove it")
        if self.check_choices(item, check) and len(item.keys) == n:
            check.warn("every choice is marked correct; add a plausible distractor")

    def key_count_problem(self, keys: list[int], n_choices: int) -> str | None:
        if len(keys) < MIN_MS_KEYS:
            return (f"{len(keys)} choice{'' if len(keys) == 1 else 's'} marked correct; a multiple-select item has "
                    f"at least {MIN_MS_KEYS} keys: mark each right answer '- [x]' (one right answer: make it [MC])")
        return None

    def key_count_ok(self, n_keys: int) -> bool:
        return n_keys >= MIN_MS_KEYS

    def sample_choices(self, rng: random.Random, n: int) -> tuple[Choice, ...]:
        k = rng.choice((4, 5))
        keys = set(rng.sample(range(k), rng.randint(MIN_MS_KEYS, k - 1)))
        from ..model.item import Choice

        return tuple(Choice(text=f"Option {j + 1} of item {n}", correct=j in keys) for j in range(k))

    def sample_fields(self, rng: random.Random) -> dict[str, Any]:
        return {"scoring": rng.choice(SCORING)}

    # -- assembly -------------------------------------------------------------------------
    def manifest_fields(self, item: Item) -> dict[str, Any]:
        """The scoring rule travels with the form: grading and analysis read it from the manifest."""
        return {"scoring": item.own.get("scoring") or ALL_OR_NOTHING}

    # -- the form notebook ----------------------------------------------------------------
    def test_source(self, entry: ManifestItem, variable: str) -> str:
        if (entry.scoring or ALL_OR_NOTHING) == ALL_OR_NOTHING:
            return f'assert {variable} == "{entry.key}"'
        offered = tuple(LABELS[:len(entry.option_order)])
        key = tuple(split_answer(entry.key))
        return "\n".join([
            f"_picked = {variable}.split(',') if isinstance({variable}, str) else None",
            f"assert _picked is not None and _picked == sorted(set(_picked)) and set(_picked) <= set({offered!r})",
            f"_right = len(set(_picked) & set({key!r}))",
            "_wrong = len(_picked) - _right",
            f"min({float(entry.points)!r}, {float(entry.points)!r} * max(0, _right - _wrong) / {len(key)})",
        ])

    # -- delivery -------------------------------------------------------------------------
    def clean_answer(self, value: object, labels: tuple[str, ...]) -> str | None:
        """Labels (a list, or a string "C,A") as stored: sorted, joined by ","; none chosen is None."""
        if value is None:
            return None
        picked = split_answer(value) if isinstance(value, str) else value
        if not isinstance(picked, Iterable) or isinstance(picked, (bytes, Mapping)):
            raise ValueError(f"{value!r} is not a selection of choices")
        picked = list(picked)
        if not all(isinstance(p, str) and p in labels for p in picked) or len(set(picked)) != len(picked):
            raise ValueError(f"{value!r} is not a selection of the choices {', '.join(labels)}")
        return ",".join(sorted(picked)) or None

    def control(self, number: int, options: list[tuple[str, str]], saved: str | None, rows: int = 10):
        """A named group of native checkboxes (``ChoiceGroup`` in its ``multiple`` mode)."""
        from ..ui.widgets import ChoiceGroup

        labels = tuple(lab for lab, _ in options)
        try:
            value = split_answer(self.clean_answer(saved, labels))
        except ValueError:
            value = []
        return ChoiceGroup([(lab, f"{lab}. {text}") for lab, text in options], legend=self.legend(number),
                           value=value, multiple=True)

    def control_answer(self, value: object) -> str | None:
        return (",".join(sorted(cast(Iterable[str], value))) or None) if value else None

    def control_value(self, answer: str | None) -> object:
        return split_answer(answer)

    # -- paper ----------------------------------------------------------------------------
    def paper_answer(self, marked: tuple[str, ...]) -> tuple[str | None, str | None]:
        """Every clearly marked bubble counts: the labels sorted and joined, as ``clean_answer`` stores them."""
        return (",".join(sorted(marked)) or None), None

    # -- grading --------------------------------------------------------------------------
    def answer_pattern(self, variable: str) -> str:
        """``qNN = "A,C"`` (or single quotes), or ``qNN = None``."""
        labels = r"[A-Z](?:,[A-Z])*"
        return rf"""\A\s*{re.escape(variable)}\s*=\s*(?:"(?P<d>{labels})"|'(?P<s>{labels})'|(?P<none>None))\s*\Z"""

    def check_labels(self, answer: str, labels: tuple[str, ...], number: int) -> ReadAnswer:
        try:
            if self.clean_answer(answer, labels) == answer:
                return ReadAnswer(answer)
        except ValueError:
            pass
        return ReadAnswer(None, ScoreFlagKind.unknown_label, f"question {number}: {answer!r} is not distinct labels of "
                                                 f"{', '.join(labels)} in order; scored 0")

    def score_step(self, entry: ManifestItem) -> float:
        """Partial credit moves in ``points / number of keys``; all-or-nothing in the item's points."""
        if (entry.scoring or ALL_OR_NOTHING) == PARTIAL and entry.key:
            return float(entry.points) / len(split_answer(entry.key))
        return float(entry.points)

    def score(self, answer: str | None, key: str, points: float, scoring: str | None = None) -> float:
        """All-or-nothing: points for exactly the keys. Partial: ``partial_points`` (floor 0)."""
        if not answer:  # no answer (or one refused): nbgrader's test fails its assert
            return 0.0
        if (scoring or ALL_OR_NOTHING) == ALL_OR_NOTHING:
            return points if answer == key else 0.0
        picked, keys = split_answer(answer), split_answer(key)
        right = len(set(picked) & set(keys))
        return partial_points(float(points), right, len(picked) - right, len(keys))

    # -- interchange (QTI 3.0) ------------------------------------------------------------
    def qti_item(self, item: Item, w: ItemWriter) -> None:
        """``multiple`` cardinality, ``max-choices=0``; all-or-nothing: ``match_correct``; partial: a
        ``qti-mapping`` of +1/keys per key and -1/keys per distractor, bounds 0 and 1, and ``map_response``
        (the SCORE fraction equals ``partial_points / points``)."""
        from ..model.qti import MAP_RESPONSE, MATCH_CORRECT, choice_id

        w.declare_response("multiple", "identifier", [choice_id(k) for k in item.keys])
        w.choice_interaction([c.text for c in item.choices], 0, True, [c.anchored for c in item.choices])
        if item.own.get("scoring") == PARTIAL:
            step = 1 / len(item.keys)
            w.mapping({choice_id(i): step if c.correct else -step for i, c in enumerate(item.choices)}, 0, 1)
            w.template(MAP_RESPONSE)
        else:
            w.template(MATCH_CORRECT)

    def qti_fits(self, found: Found) -> int:
        return int(found.interaction == "qti-choice-interaction" and found.cardinality == "multiple")

    def from_qti(self, found: Found) -> tuple[dict[str, Any], list[str]]:
        """Keys from ``qti-correct-response``; a mapping means partial credit (exam-builder's rule)."""
        correct = set(found.correct)
        from ..model.item import Choice

        fields: dict[str, Any] = {"choices": tuple(Choice(text=t, correct=i in correct) for i, t, _ in found.choices)}
        if not correct & {i for i, _, _ in found.choices}:
            return fields, [NO_KEY]
        if found.mapping is None:
            return fields, []
        fields["scoring"] = PARTIAL
        # exam-builder's rule, at any scale: each key c, each distractor -c, floored at 0 (and at most c x keys)
        values = {i: found.mapping.get(i, found.mapping_default) for i, _, _ in found.choices}
        c = values.get(next(iter(correct)), 0) if correct else 0
        low, high = found.mapping_bounds
        if c <= 0 or any(abs(v - (c if i in correct else -c)) > 1e-9 * max(1, c) for i, v in values.items()) \
                or low is None or abs(low) > 1e-12 or (high is not None and high < c * len(correct) - 1e-9):
            return fields, ["the mapping's values differ from exam-builder's partial credit (+1/keys right, "
                            "-1/keys wrong, floor 0): exam-builder would score answers otherwise, so the item is "
                            "not imported"]
        return fields, []

    # -- analysis -------------------------------------------------------------------------
    def dichotomous(self, scoring: str | None = None) -> bool:
        return (scoring or ALL_OR_NOTHING) == ALL_OR_NOTHING

    def picks(self, answer: str | None) -> tuple[str, ...]:
        return tuple(split_answer(answer))


KIND = MultipleSelect()
