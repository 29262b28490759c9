"""Multiple choice: one key among three or more choices, shuffled per form ('none of the above' last).

Authoring: ``**[MC] id** · ...`` with one ``- [ ] text`` line per choice and the key ``- [x]``.
The form's answer cell holds ``qNN = "B"``; nbgrader's hidden test asserts the key; scoring is
all or nothing.
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ..model.kind import Kind
from .base import Checker, ItemKind

if TYPE_CHECKING:
    from ..model.item import Choice, Item

MIN_MC_CHOICES = 3  # fewer is a warning (two) or an error (none or one)


class MultipleChoice(ItemKind):
    kind = Kind.multiple_choice
    name = "multiple choice"

    def validate(self, item: Item, check: Checker) -> None:
        n = len(item.choices)
        if n < 2:
            check.error(f"a multiple-choice item needs at least {MIN_MC_CHOICES} choices (it has {n}); "
                        "write each as '- [ ] text' below the stem")
            if n:
                self.check_choices(item, check)
            return
        if n < MIN_MC_CHOICES:
            check.warn(f"only {n} choices; add a plausible distractor (at least {MIN_MC_CHOICES}) or make it [TF]")
        self.check_choices(item, check)
        self.check_anchored_last(item, check)


    def sample_choices(self, rng: random.Random, n: int) -> tuple[Choice, ...]:
        k = rng.choice((3, 4, 4, 5))
        key = rng.randrange(k)
        texts = [f"Option {j + 1} of item {n}" for j in range(k)]
        if rng.random() < 0.2:
            texts[-1] = "None of the above"
        from ..model.item import Choice

        return tuple(Choice(text=t, correct=j == key) for j, t in enumerate(texts))


KIND = MultipleChoice()
