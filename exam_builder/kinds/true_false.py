"""True/false: the choices True and False, in that order (A and B on every form), one key.

Authoring: ``**[TF] id** · ...`` with ``- [ ] True`` and ``- [ ] False``, the key marked ``- [x]``.
The form's answer cell holds ``qNN = "A"``; nbgrader's hidden test asserts the key; scoring is
all or nothing.
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..errors import Location, Problem
from ..model.kind import Kind
from .base import Checker, ItemKind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..model.item import Choice, Item
    from ..model.manifest import ManifestItem
    from ..model.rubric import Rubric

TRUE_FALSE = ("True", "False")


class TrueFalse(ItemKind):
    kind = Kind.true_false
    name = "true/false"

    def validate(self, item: Item, check: Checker) -> None:
        texts = tuple(c.text for c in item.choices)
        if not texts:
            check.error("no choices; write '- [ ] True' and '- [ ] False' and mark the key '- [x]'")
            return
        one_key = self.check_choices(item, check)
        if texts == TRUE_FALSE:
            return
        if tuple(t.strip().rstrip(".").capitalize() for t in texts) == TRUE_FALSE[::-1]:
            check.error("a true/false item lists True first, then False; swap the two choices")
        else:
            shown = ", ".join(repr(t) for t in texts)
            check.error(f"a true/false item has exactly the choices True and False (it has {shown}); "
                        "use those two, or make it [MC]")
        if one_key and item.choices[item.key].text.strip().rstrip(".").capitalize() not in TRUE_FALSE:
            check.error(f"the key {item.choices[item.key].text!r} is not True or False; mark True or False '- [x]'")

    def sample_choices(self, rng: random.Random, n: int) -> tuple[Choice, ...]:
        key = rng.randrange(2)
        from ..model.item import Choice

        return (Choice(text="True", correct=key == 0), Choice(text="False", correct=key == 1))

    def choice_order(self, item: Item, shuffle: bool, rng: random.Random) -> tuple[int, ...]:
        """True is always A, False B: never shuffled."""
        n = len(item.choices)
        return tuple(sorted(range(n), key=lambda k: (item.choices[k].text.strip().lower() != "true", k)))

    qti_shuffle = False  # True is A, False B on every form

    def qti_fits(self, found) -> int:
        """Better than multiple choice for a single choice of exactly True and False."""
        return 2 * super().qti_fits(found) if tuple(found.texts()) == TRUE_FALSE else 0

    def lint(self, entry: ManifestItem, item: Item, where: Location, assignment: str,
             rubrics: Mapping[str, Rubric]) -> list[Problem]:
        out = super().lint(entry, item, where, assignment, rubrics)
        if [item.choices[k].text.strip().lower() for k in entry.option_order] != ["true", "false"]:
            out.append(Problem(where, "a true/false item must have the choices True and False (shown as A and B)"))
        return out


KIND = TrueFalse()
