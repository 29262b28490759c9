"""The one text rule: which characters an identifier or a free text may hold, and how any text is
shown safely in a message or on a terminal.

Everything the program stores or prints comes from somewhere a person (or a hostile file) wrote:
a notebook cell, a rubric, a QTI package, a sheet, the command line. Every reader applies the
same two rules from here, so a value refused in one door is refused in all of them:

* **Free text** (a stem, a choice, a name, a reason, a title): a character nobody types on
  purpose is refused (``text_problem``): C0/C1 control characters (ESC drives a terminal), DEL,
  bidi embeddings/overrides/isolates (they reorder what a reader sees: Trojan Source),
  noncharacters and lone surrogates (not text at all: they cannot be written as UTF-8, so they
  crash whatever prints or saves them later). One-line fields also refuse tabs and line breaks.
  Any script, emoji and the LRM/RLM marks of right-to-left text are kept.
* **Identifiers** (item, scenario, rubric and criterion ids): ``ID``, lower-case ASCII letters,
  digits, ``.``, ``_`` and ``-``, starting with a letter or digit, at most ``MAX_ID_CHARS``. An id is
  compared, used in file names, cell ids and URLs: a Cyrillic look-alike or a hidden character
  would make two ids that look the same and are not (``id_problem``).

Printing: ``visible`` escapes what ``bad_character`` refuses (``\\x1b``, ``\\u202e``), so text
that was stored before these rules existed (an old audit entry) or that names a bad value cannot
drive the terminal or reorder a line. ``shown`` quotes a value for a message.

This module is the bottom layer: it imports nothing of exam-builder, and every layer may use it
(``records.text`` keeps the answer-cleaning policy and re-exports the rest).
"""
from __future__ import annotations

import re

#: Line breaks of every convention (CR LF, CR, VT, FF, NEL, LINE/PARAGRAPH SEPARATOR).
BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
#: Bidi embeddings, overrides and isolates: they reorder what a reader sees (Trojan Source).
#: The zero-width marks LRM, RLM and ALM are not here: they are typed in right-to-left text.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: Item, scenario, rubric and criterion ids (ASCII only: no look-alikes, no hidden characters).
ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
MAX_ID_CHARS = 100
ID_RULE = "may use only lower-case letters, digits, '.', '_' and '-' (starting with a letter or digit)"


#: Every character ``bad_character`` refuses in a one-line field, as one character class (a search is
#: far faster than a loop in Python); ``tests/bank/test_numbers.py`` proves it equal to the function.
_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(chr(p * 0x10000 + 0xFFFE) + chr(p * 0x10000 + 0xFFFF)
                                                       for p in range(1, 17))
_CONTROLS = "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff" + _NONCHARACTERS
REFUSED = re.compile(f"[{_CONTROLS}\t\n\r\x0b\x0c\x85\u2028\u2029]")  # one-line text
REFUSED_MULTILINE = re.compile(f"[{_CONTROLS}]")  # free text: tabs and every line break allowed
_UNPRINTABLE_MULTILINE = re.compile(f"[{_CONTROLS}\r\x0b\x0c\x85\u2028\u2029]")  # a terminal keeps \n and tabs


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def bad_character(ch: str, multiline: bool = False) -> str | None:
    """What is wrong with one character in a text field, or None when it may be stored.

    ``multiline``: tab and line breaks are allowed (free text); elsewhere they are refused.
    """
    code = ord(ch)
    if ch in "\n\t" or BREAKS.fullmatch(ch):
        return None if multiline else ("a tab" if ch == "\t" else "a line break")
    if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
        return "a control character"
    if ch in BIDI_CONTROLS:
        return "a bidirectional-text override"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate (half of a character, not text)"
    if _is_noncharacter(code):
        return "a Unicode noncharacter"
    return None


def text_problem(
    value: str, max_chars: int | None = None, multiline: bool = False, fix: str = "delete it and try again"
) -> str | None:
    """Why ``value`` may not be stored as a text field (the first bad character, or its length), or None.

    The message reads after its subject ("the cell has a control character (U+0000) at
    character 3; ..."); ``fix`` says what to do about a character. ``max_chars`` None: no limit.
    """
    found = (REFUSED_MULTILINE if multiline else REFUSED).search(value)
    if found is not None:
        ch = found.group()
        return f"has {bad_character(ch, multiline)} (U+{ord(ch):04X}) at character {found.start() + 1}; {fix}"
    if max_chars is not None and len(value) > max_chars:
        return f"is {len(value):,} characters long; at most {max_chars:,} fit"
    return None


def is_id(value: object) -> bool:
    """Whether ``value`` is an identifier by the one id rule."""
    return isinstance(value, str) and len(value) <= MAX_ID_CHARS and ID.fullmatch(value) is not None


def id_fault(value: str) -> str | None:
    """What is wrong with ``value`` as an identifier, read after it ("may use only ..., not 'е' (U+0435) at
    character 3; rename it": the code point shows a look-alike for what it is), or None."""
    if is_id(value):
        return None
    if len(value) > MAX_ID_CHARS:
        return f"is {len(value):,} characters long; an id has at most {MAX_ID_CHARS}: shorten it"
    if not value:
        return "is empty; write the id"
    for index, ch in enumerate(value):
        if not ID.fullmatch(ch if index == 0 else "a" + ch):
            return f"{ID_RULE}, not {shown(ch)} (U+{ord(ch):04X}) at character {index + 1}; rename it"
    return f"{ID_RULE}; rename it"  # not reached: every character passed


def id_problem(value: str, what: str = "id") -> str | None:
    """Why ``value`` is not an identifier, as a whole message ("id 'Core 07' may use only ..."), or None."""
    fault = id_fault(value)
    return None if fault is None else f"{what} {shown(value)} {fault}"


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str, multiline: bool = False) -> str:
    """``text`` for a terminal or a message: every character ``bad_character`` refuses written as an
    escape (``\\x1b``, ``\\u202e``, ``\\ud800``, ``\\r``); ``multiline`` keeps ``\\n`` and tabs as they are.

    The usual text (any script, emoji) is returned unchanged; the result is always valid UTF-8.
    """
    pattern = _UNPRINTABLE_MULTILINE if multiline else REFUSED
    if pattern.search(text) is None:  # the usual case: nothing to do
        return text
    return pattern.sub(lambda m: _escape(m.group()), text)


def shown(value: object, limit: int = 40) -> str:
    """A value for a message: quoted, invisible characters escaped (repr), cut short when long."""
    text = str(value)
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text):,} characters)"
    return repr(text)
