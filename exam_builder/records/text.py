"""Text that people type or paste: which characters are refused, which are removed, and how a
bad value is shown in a message.

Two policies, one table of characters:

* **Records** (names, ids, cohorts, details of a coordinator's sheet): a character nobody can
  see or type on purpose is *refused* with a located error, because a name is compared,
  sorted and printed on seat cards, and "Ada" with a hidden NUL or a right-to-left override is
  not "Ada". The coordinator fixes the sheet; nothing is stored as it came.
* **Answers** (what a candidate types in a sitting): the candidate cannot fix a sheet, and a
  refused save during an exam costs them time. So their text is *kept* and the invisible junk
  is *removed* (``clean_answer``): control characters, noncharacters and bidi overrides go,
  every kind of line break becomes ``\\n``, tabs stay.
"""
from __future__ import annotations

# The rule itself is the bottom layer's (``exam_builder.text``): bank, rubrics, QTI and the command
# line apply the same one. Re-exported here for the records modules that name it.
from ..text import BIDI_CONTROLS, BREAKS as _BREAKS, bad_character, shown, text_problem  # noqa: F401


def clean_answer(value: str) -> str:
    """A candidate's typed text as stored: every line break as ``\\n``, tabs kept, invisible junk removed.

    Removed: NUL and the other C0 controls, DEL, C1 controls, noncharacters, lone surrogates and
    bidi overrides/embeddings/isolates. Everything a person can see (any script, emoji, the
    LRM/RLM marks of right-to-left text) is kept as typed.
    """
    value = _BREAKS.sub("\n", value)
    if all(bad_character(ch, multiline=True) is None for ch in value):  # the usual case: nothing to do
        return value
    return "".join(ch for ch in value if bad_character(ch, multiline=True) is None)
