"""The one number parser: every number read from a file (an item header, a rubric or blueprint,
a coordinator's sheet, a QTI package) or typed on the command line is read here.

Python's own ``int()`` and ``float()`` are lax on purpose and wrong for input: they read
``0_5`` as 5, ``6_5`` as 65, Arabic-Indic ``٣`` as 3, ``nan``/``inf``/``Infinity`` as numbers and
a 5,000-digit cell as a traceback. YAML 1.1 adds ``0x1F``, ``017`` (octal), ``1:30`` (base 60)
and ``yes``/``on`` (true, which a lax schema takes for 1). The rule here, for every door:

* **Spelling**: ASCII digits only, an optional sign, an optional decimal point (``WHOLE`` takes
  none), no underscores, no other scripts' digits, no hex/octal/base-60 forms. An exponent
  (``1.5e-05``, at most 4 digits) is part of a decimal, because spreadsheets write very small or
  large values that way (Excel's CSV export of a p-value of 0.000015); a whole number never takes
  one. A percentage (``percentage``) is a decimal followed by ``%``, only where a percent is meant.
  Spaces around the number are trimmed.
* **Range**: every number has one, finite, stated in the error (``span``): "must be a number above
  0 and at most 100, not '1e9'", so the author fixes it at once. ``nan``, ``inf`` and ``1e309``
  (infinite as a float) are outside every range.

API: ``whole_number(text, what, low, high)``, ``decimal(text, what, low, high, above_low)``,
``percentage(...)`` return the number or raise ``NumberError`` (a ``ValueError`` whose message
names ``what``, the range and the value as written); ``yaml_number(text)`` is the YAML loader's
reading of a plain scalar (a number, or None when the spelling is not one); ``in_range``,
``span`` and ``fmt`` are the range rule and the way a number is written in messages.

Writing a statistic: ``fixed(value, places)`` rounds it for a reader and never writes "-0.00";
``against(value, threshold, places)`` writes a value compared with a threshold with as many more
decimals as it takes for the comparison to show (0.096 below 0.1, not "0.10 below 0.1"; an SD of
15.3% above 15%, not "15%"), so a reader never sees a flag its printed number contradicts.

Bottom layer: imports only ``exam_builder.text``.
"""
from __future__ import annotations

import math
import re

from .text import shown

#: A whole number: ASCII digits and an optional sign ("007" is 7).
WHOLE = re.compile(r"[+-]?[0-9]+")
#: A decimal: digits with an optional point (".5", "1.", "2.25"), an optional exponent of at most 4 digits.
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
#: YAML's own spelling of the non-finite floats; read as numbers so the range check names them ("it is inf").
YAML_NONFINITE = re.compile(r"[+-]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
#: A whole number of more digits is out of every range (and int() of 4,300 digits raises).
MAX_WHOLE_DIGITS = 18
#: No number is written in more characters; longer text is not read as a number at all.
MAX_CHARS = 100


class NumberError(ValueError):
    """A value that is not a number of its kind, or not in its range; the message says what is expected."""


def fmt(number: float | int) -> str:
    """A number as an author would write it: 1, 0.5, 1e9, inf, nan (never 1.0 or 1e+09)."""
    if isinstance(number, bool):
        return "true" if number else "false"
    if isinstance(number, int):
        return str(number) if abs(number) < 10**30 else fmt(float(number))
    if math.isfinite(number) and number.is_integer() and abs(number) < 1e6:  # 1e9 stays 1e9, as written
        return str(int(number))
    return re.sub(r"e\+?(-?)0*(?=[0-9])", r"e\1", f"{number:g}")  # 1e+09 -> 1e9, 1e-05 -> 1e-5


def fixed(value: float, places: int = 2) -> str:
    """``value`` with ``places`` decimals; a value that rounds to zero is written without a sign (never "-0.00")."""
    text = f"{value:.{places}f}"
    return text.lstrip("-") if float(text) == 0 else text


def against(value: float, threshold: float, places: int = 2, *, most: int = 6) -> str:
    """``value`` with at least ``places`` decimals and more, up to ``most``, until it no longer reads as the
    ``threshold`` it is compared with (both rounded alike): 0.096 against 0.1 is "0.096", 0.153 against 0.15
    (as percent: 15.3 against 15, ``places`` 0) is "15.3". A value equal to the threshold keeps ``places``."""
    for p in range(places, max(places, most) + 1):
        if value == threshold or fixed(value, p) != fixed(threshold, p):
            return fixed(value, p)
    return fixed(value, most)


def span(low: float, high: float, *, above_low: bool = False, unit: str = "") -> str:
    """The range in words: "from 0 to 100 points", "above 0 and at most 100"."""
    text = f"above {fmt(low)} and at most {fmt(high)}" if above_low else f"from {fmt(low)} to {fmt(high)}"
    return f"{text} {unit}" if unit else text


def in_range(value: float, low: float, high: float, *, above_low: bool = False) -> bool:
    """Whether ``value`` is finite and within ``low``..``high`` (strictly above ``low`` with ``above_low``)."""
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False
    return finite and (value > low if above_low else value >= low) and value <= high


def is_whole(text: str) -> bool:
    """Whether ``text`` (trimmed) is spelled as a whole number by the one rule."""
    text = text.strip()
    return len(text) <= MAX_CHARS and WHOLE.fullmatch(text) is not None


def is_decimal(text: str) -> bool:
    """Whether ``text`` (trimmed) is spelled as a decimal number by the one rule."""
    text = text.strip()
    return len(text) <= MAX_CHARS and DECIMAL.fullmatch(text) is not None


def whole_number(value: str, what: str, low: int, high: int, *, unit: str = "") -> int:
    """A whole number from ``low`` to ``high`` (ASCII digits, an optional sign), or ``NumberError``."""
    text = value.strip()
    where = span(low, high, unit=unit)
    if not is_whole(text):
        raise NumberError(f"{what} must be a whole number {where}, not {shown(value.strip())}")
    if len(text.lstrip("+-")) > MAX_WHOLE_DIGITS or not low <= int(text) <= high:  # no int() of 5,000 digits
        raise NumberError(f"{what} must be {where}, not {shown(text)}")
    return int(text)


def decimal(value: str, what: str, low: float, high: float, above_low: bool = False, *, unit: str = "") -> float:
    """A finite decimal number in ``[low, high]`` (``(low, high]`` with ``above_low``), or ``NumberError``.

    ``nan``, ``inf`` and ``1e309`` (infinite as a float) are out of every range.
    """
    text = value.strip()
    where = span(low, high, above_low=above_low, unit=unit)
    if not is_decimal(text):
        raise NumberError(f"{what} must be a number {where}, not {shown(value.strip())}")
    number = float(text)
    if not in_range(number, low, high, above_low=above_low):
        raise NumberError(f"{what} must be {where}, not {shown(text)}")
    return number + 0.0  # -0.0 -> 0.0


def percentage(value: str, what: str, low: float = 0, high: float = 100, above_low: bool = False) -> float:
    """A percent written with its sign ("70%", "62.5 %"), as the number of percent, or ``NumberError``."""
    text = value.strip()
    if not text.endswith("%"):
        raise NumberError(f"{what} must be a percent {span(low, high, above_low=above_low)} written with '%' "
                          f"(e.g. '70%'), not {shown(text)}")
    number = text[:-1].strip()
    if not is_decimal(number):
        raise NumberError(f"{what} must be a percent {span(low, high, above_low=above_low)}, not {shown(text)}")
    pct = float(number)
    if not in_range(pct, low, high, above_low=above_low):
        raise NumberError(f"{what} must be {span(low, high, above_low=above_low)} percent, not {shown(text)}")
    return pct + 0.0


def yaml_number(text: str) -> int | float | None:
    """A YAML plain scalar read as a number by the one rule: an int for a whole spelling, a float for a
    decimal one or YAML's ``.inf``/``.nan``; None for anything else (it stays text).

    No range here: the schema that knows what the number is for checks it (``in_range``).
    """
    if len(text) > MAX_CHARS:
        return None
    if WHOLE.fullmatch(text):
        return int(text)
    if DECIMAL.fullmatch(text):
        return float(text)
    if YAML_NONFINITE.fullmatch(text):
        return float(text.replace(".", "").lower())  # "+.inf" -> "+inf"
    return None
