"""The rule that keeps the practice pool and the certification pool apart (pure).

A practice item's key and rationale are shown to anyone who opens a practice link, so a practice
item must not *be* a certification item under another name. Two tests, each cheap and each
explainable to an author:

- the same id (an item that was on a certification form and was later marked ``pool: practice``);
- the same or nearly the same question (a copy, edited or not): stems compared as a reader would
  (case, spacing and punctuation do not count), "nearly" meaning ``SIMILAR`` or more alike by
  ``difflib``'s ratio.

``bank.validate`` applies it inside the bank; ``practice.sets`` applies it again, when a set is
built, against the bank and every form ever stored, and writes what it compared into the set.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from ..bank.model import Item

#: Stems at least this alike (``difflib.SequenceMatcher.ratio``) count as the same question.
SIMILAR = 0.85


def plain(text: str) -> str:
    """A stem as a reader compares it: lower case, words only."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def alike(a: str, b: str) -> float:
    """How alike two plain stems are (0..1); the quick bounds first, since most pairs differ a lot."""
    if a == b:
        return 1.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if m.real_quick_ratio() < SIMILAR or m.quick_ratio() < SIMILAR:
        return 0.0
    return m.ratio()


def overlaps(practice: Iterable[Item], certification: Iterable[Item]) -> list[tuple[Item, Item, str]]:
    """Every (practice item, certification item, how) that breaks the rule, in the practice items' order."""
    cert = [(c, plain(c.stem)) for c in certification]
    out = []
    for p in practice:
        stem = plain(p.stem)
        for c, c_stem in cert:
            if p.id == c.id:
                out.append((p, c, "has the id of"))
            elif stem and c_stem and (ratio := alike(stem, c_stem)) >= SIMILAR:
                out.append((p, c, "repeats the question of" if ratio == 1.0 else
                            f"nearly repeats ({ratio:.0%} alike) the question of"))
    return out
