"""The rule that keeps the practice pool and the certification pool apart (pure).

A practice item's key and rationale are shown to anyone who opens a practice link, so a practice
item must not *be* a certification item under another name. Two tests, each cheap and each
explainable to an author:

- the same id (an item that was on a certification form and was later marked ``pool: practice``);
- the same or nearly the same question (a copy, edited or not): stems compared as a reader would
  (case, spacing and punctuation do not count), "nearly" meaning ``SIMILAR`` or more alike by
  ``difflib``'s ratio;
- a certification story retold: a certification scenario's text, or a long certification stem,
  whose words appear in the practice item's own text (its scenario and its stem), ``RETOLD`` or
  more of them in runs of ``RUN`` words or longer, in any order. This catches a vignette pasted
  into a practice stem under a scenario of its own, which neither test above sees; shorter common
  runs are ordinary phrasing ("what is the best next step").

``bank.validate`` applies it inside the bank; ``practice.sets`` applies it again, when a set is
built, against the bank and every form ever stored, and writes what it compared into the set.
"""
from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping

from ..model.item import Item, Scenario

#: Stems at least this alike (``difflib.SequenceMatcher.ratio``) count as the same question.
SIMILAR = 0.85
#: A story counts as retold when this share of its words appears in runs of ``RUN`` or more words.
RETOLD = 0.6
RUN = 4
#: A certification stem this long (in words) is a story too; shorter stems are judged as questions only.
STORY_WORDS = 12


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


@functools.lru_cache(maxsize=256)  # a practice item's text is read against every certification story
def _runs(text: str) -> frozenset[tuple[str, ...]]:
    words = text.split()
    return frozenset(tuple(words[i:i + RUN]) for i in range(len(words) - RUN + 1))


def retold(story: str, text: str) -> float:
    """The share of a plain ``story``'s words that appear in a plain ``text`` in runs of ``RUN`` or more
    words (0..1). Runs, not single words, so that a shared topic is not a shared story."""
    words = story.split()
    if len(words) < RUN:
        return 0.0
    there = _runs(text)
    covered: set[int] = set()
    for i in range(len(words) - RUN + 1):
        if tuple(words[i:i + RUN]) in there:
            covered.update(range(i, i + RUN))
    return len(covered) / len(words)


def overlaps(practice: Iterable[Item], certification: Iterable[Item],
             scenarios: Mapping[str, Scenario] | None = None) -> list[tuple[Item, Item, str]]:
    """Every (practice item, certification item, how) that breaks the rule, in the practice items' order.

    ``scenarios`` (the bank's) give the practice items' own scenario text and the certification
    stories; without them only the practice stems are read.
    """
    scenarios = scenarios or {}
    cert = [(c, plain(c.stem)) for c in certification]
    stories: dict[str, tuple[str, Item]] = {}  # a story's plain text -> (what it is, one certification item)
    for c, c_stem in cert:
        if c.scenario in scenarios:
            stories.setdefault(plain(scenarios[c.scenario].text), (f"scenario {c.scenario!r}", c))
        if len(c_stem.split()) >= STORY_WORDS:
            stories.setdefault(c_stem, ("the question", c))
    out = []
    for p in practice:
        stem = plain(p.stem)
        told = plain((scenarios[p.scenario].text if p.scenario in scenarios else "") + " " + p.stem)
        for c, c_stem in cert:
            if p.id == c.id:
                out.append((p, c, "has the id of"))
            elif stem and c_stem and (ratio := alike(stem, c_stem)) >= SIMILAR:
                out.append((p, c, "repeats the question of" if ratio == 1.0 else
                            f"nearly repeats ({ratio:.0%} alike) the question of"))
        flagged = {c.id for q, c, _ in out if q is p}
        for story, (what, c) in stories.items():
            if c.id not in flagged and (share := retold(story, told)) >= RETOLD:
                out.append((p, c, f"retells {what} ({share:.0%} of its words) of"))
    return out
