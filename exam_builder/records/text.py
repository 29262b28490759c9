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

import re

#: Line breaks of every convention (CR LF, CR, VT, FF, NEL, LINE/PARAGRAPH SEPARATOR).
_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
#: Bidi embeddings, overrides and isolates: they reorder what a reader sees (Trojan Source).
#: The zero-width marks LRM, RLM and ALM are not here: they are typed in right-to-left text.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def bad_character(ch: str, multiline: bool = False) -> str | None:
    """What is wrong with one character in a text field, or None when it may be stored.

    ``multiline``: tab and line breaks are allowed (free text); elsewhere they are refused.
    """
    code = ord(ch)
    if ch in "\n\t" or _BREAKS.fullmatch(ch):
        return None if multiline else ("a tab" if ch == "\t" else "a line break")
    if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
        return "a control character"
    if ch in BIDI_CONTROLS:
        return "a bidirectional-text override"
    if _is_noncharacter(code) or 0xD800 <= code <= 0xDFFF:
        return "a Unicode noncharacter"
    return None


def text_problem(
    value: str, max_chars: int, multiline: bool = False, fix: str = "delete it and try again"
) -> str | None:
    """Why ``value`` may not be stored as a text field (the first bad character, or its length), or None.

    The message reads after its subject ("the cell has a control character (U+0000) at
    character 3; ..."); ``fix`` says what to do about a character.
    """
    for index, ch in enumerate(value):
        what = bad_character(ch, multiline)
        if what is not None:
            return f"has {what} (U+{ord(ch):04X}) at character {index + 1}; {fix}"
    if len(value) > max_chars:
        return f"is {len(value):,} characters long; at most {max_chars:,} fit"
    return None


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


def shown(value: object, limit: int = 40) -> str:
    """A value for a message: quoted, invisible characters escaped (repr), cut short when long."""
    text = str(value)
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text):,} characters)"
    return repr(text)
