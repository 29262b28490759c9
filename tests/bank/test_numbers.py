"""The one number parser (issue 23): property tests against a reference written independently.

``exam_builder.numbers`` reads every number of an item header, a rubric or blueprint (through the
YAML loader), a coordinator's sheet, a QTI package and the command line. The reference here states
the rule without regular-expression shortcuts (``str.isdigit`` would take other scripts' digits, so
the digits are listed), and hypothesis looks for any text on which the two disagree.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from exam_builder import numbers
from exam_builder.numbers import NumberError, against, decimal, fixed, fmt, percentage, whole_number, yaml_number
from exam_builder.safeload import load_yaml

ASCII_DIGITS = "0123456789"


def reference_whole(text: str) -> bool:
    """A sign at most, then one or more ASCII digits: nothing else."""
    body = text[1:] if text[:1] in "+-" else text
    return bool(body) and all(ch in ASCII_DIGITS for ch in body)


def reference_decimal(text: str) -> bool:
    """A sign, digits with at most one point (a digit on one side at least), then an optional exponent."""
    body = text[1:] if text[:1] in "+-" else text
    mantissa, _, exponent = body.partition("e") if "e" in body else body.partition("E")
    if "e" in body or "E" in body:
        exp = exponent[1:] if exponent[:1] in "+-" else exponent
        if not (1 <= len(exp) <= 4 and all(ch in ASCII_DIGITS for ch in exp)):
            return False
    whole, point, frac = mantissa.partition(".")
    if not (whole or frac):
        return False
    return all(ch in ASCII_DIGITS for ch in whole + frac) and (point == "" or "." not in frac)


# The same rule as a regular expression written apart from the module's (ASCII-only ``\d``): the two
# references must agree with each other, and the parser with both.
REFERENCE_WHOLE = re.compile(r"[+-]?\d+", re.ASCII)
REFERENCE_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)


# Text that is close to a number: digits of several scripts, signs, points, exponents, underscores, spaces.
NEAR = st.lists(st.sampled_from(list("0123456789+-.eE_ %x") + ["\u0663", "\u06f5", "\uff11", "\u2007", "\u00a0",
                                                              "inf", "nan", "\u0661\u0665"]),
                max_size=10).map("".join)
ANY = st.one_of(NEAR, st.text(max_size=12), st.from_regex(r"\A[+-]?[0-9]{0,20}(\.[0-9]{0,6})?([eE][+-]?[0-9]{0,6})?\Z"))


def examples(*texts: str):
    """Cases hypothesis always tries, besides what it generates."""
    def apply(test):
        for text in reversed(texts):
            test = example(text)(test)
        return test
    return apply


@settings(max_examples=600, deadline=None)
@given(ANY)
@examples("0_5", "6_5", "\u0663", "1e5", "١٢", " 7 ", "+.5", "1.", ".", "-", "1e", "1e12345", "9" * 30, "٣.٥")
def test_whole_number_agrees_with_the_reference(text):
    stripped = text.strip()
    assert reference_whole(stripped) == bool(REFERENCE_WHOLE.fullmatch(stripped))
    try:
        value = whole_number(text, "n", -(10**18), 10**18)
    except NumberError as exc:
        assert str(exc).startswith("n must be"), exc  # the message names what and the range
        assert not reference_whole(stripped) or len(stripped.lstrip("+-")) > 18 or abs(int(stripped)) > 10**18
        return
    assert reference_whole(stripped) and value == int(stripped)


@settings(max_examples=600, deadline=None)
@given(ANY)
@examples("0_5", "6_5", "\u0663", "nan", "inf", "1e309", "-0", "1.5e-05", "1E3", "1e+4", ".5", "5.", "1.2.3", "1e1_0")
def test_decimal_agrees_with_the_reference(text):
    stripped = text.strip()
    assert reference_decimal(stripped) == bool(REFERENCE_DECIMAL.fullmatch(stripped))
    try:
        value = decimal(text, "x", -1e6, 1e6)
    except NumberError as exc:
        assert str(exc).startswith("x must be"), exc
        assert not reference_decimal(stripped) or len(stripped) > numbers.MAX_CHARS \
            or not (math.isfinite(float(stripped)) and -1e6 <= float(stripped) <= 1e6)
        return
    assert reference_decimal(stripped) and value == float(stripped) and math.isfinite(value)
    assert math.copysign(1, value) == 1 or value != 0  # "-0" reads as 0, never -0.0


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.booleans())
def test_the_range_is_finite_and_inclusive_as_stated(value, above):
    text = repr(value)
    inside = math.isfinite(value) and (value > 0 if above else value >= 0) and value <= 100
    try:
        decimal(text, "points", 0, 100, above_low=above)
    except NumberError as exc:
        assert not inside
        if text not in ("nan", "inf", "-inf"):
            assert ("above 0 and at most 100" if above else "from 0 to 100") in str(exc)
        return
    assert inside


def test_messages_name_the_range_and_the_value_as_written():
    with pytest.raises(NumberError, match=r"^points must be a number above 0 and at most 100, not '0_5'$"):
        decimal("0_5", "points", 0, 100, above_low=True)
    with pytest.raises(NumberError, match=r"^the module must be a whole number from 1 to 9, not '٣'$"):
        whole_number("٣", "the module", 1, 9)
    with pytest.raises(NumberError, match=r"^the class must be from 1 to 40, not '99999999999999999999'$"):
        whole_number("99999999999999999999", "the class", 1, 40)
    with pytest.raises(NumberError, match=r"must be a percent above 0 and at most 100, not '6_5%'"):
        percentage("6_5%", "the cut score", 0, 100, above_low=True)
    with pytest.raises(NumberError, match=r"written with '%'"):
        percentage("65", "the cut score", 0, 100)
    assert percentage(" 62.5 % ", "the cut score", 0, 100) == 62.5
    assert (whole_number(" 007 ", "n", 0, 10), decimal("-0", "x", -1, 1),
            decimal("1.5e-05", "p", 0, 1)) == (7, 0.0, 1.5e-05)


@pytest.mark.parametrize("value,text", [(1e9, "1e9"), (1e30, "1e30"), (1.5e-5, "1.5e-5"), (0.5, "0.5"), (3.0, "3"),
                                        (10**40, "1e40"), (-1e9, "-1e9"), (math.inf, "inf"), (True, "true")])
def test_numbers_are_written_as_an_author_would(value, text):
    assert fmt(value) == text


# -- the YAML loader reads plain scalars by the same rule ------------------------------------------

SCALAR = st.one_of(NEAR.filter(lambda t: t.strip() == t and t and not t.startswith(("%", "-", "."))
                               and ": " not in t and not t.endswith(":")),
                   st.sampled_from(["0x1F", "0o17", "017", "0b101", "1:30", "1_000", "+1", "-2.5", "1e9", ".inf",
                                    "-.inf", ".NaN", "1.", ".5", "12e3", "yes", "on", "~", "true", "2024-05-01"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SCALAR)
def test_yaml_reads_a_plain_scalar_as_a_number_only_by_the_one_rule(tmp_path, text):
    path = tmp_path / "x.yaml"
    path.write_text(f"v: {text}\n", encoding="utf-8")
    data, problems = load_yaml(path, "x.yaml")
    if problems:  # a scalar YAML itself cannot read ("%" directives, a stray indicator): refused, located
        assert problems[0].location.file == "x.yaml"
        return
    value = data["v"]
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
        assert not reference_decimal(text), (text, value)  # a number spelling is never left as text
        return
    if isinstance(value, int):
        assert reference_whole(text) and value == int(text)
    elif re.fullmatch(r"[+-]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)", text):
        assert not math.isfinite(value)
    else:
        assert reference_decimal(text) and not reference_whole(text) and value == float(text)


@pytest.mark.parametrize("text,expected", [("0x1F", "0x1F"), ("017", 17), ("1_000", "1_000"), ("1:30", "1:30"),
                                           ("0b11", "0b11"), ("1e9", 1e9), ("+1", 1), ("٣", "٣"),
                                           ("9" * 101, "9" * 101)])
def test_yaml_numbers(tmp_path: Path, text, expected):
    path = tmp_path / "x.yaml"
    path.write_text(f"v: {text}\n", encoding="utf-8")
    data, problems = load_yaml(path, "x.yaml")
    assert problems == [] and data["v"] == expected and type(data["v"]) is type(expected)
    assert yaml_number(text) == (expected if not isinstance(expected, str) else None)


# -- the rule cannot be missed: every number and yes/no an author writes in YAML is strict -------------

def _leaves(annotation):
    """The int/float/bool leaves of a field's type, each with the metadata of its ``Annotated`` wrapper."""
    import typing

    from pydantic import BaseModel

    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        if base in (int, float, bool):
            yield base, meta
            return
        yield from _leaves(base)
        return
    if annotation in (int, float, bool):
        yield annotation, []
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return  # a nested model is walked as a model of its own
    for arg in typing.get_args(annotation):
        yield from _leaves(arg)


def test_every_number_and_yes_no_of_a_rubric_or_blueprint_is_strict():
    """A lax field would take ``yes`` for 1 or ``"1"`` for 1 again; every schema read from a file is listed here.

    A field read by a validator of its own (mode "plain", e.g. ``cut_score``: points or a percent) does the
    reading itself; the blueprint tests give it ``yes`` and ``6_5%``.
    """
    import typing

    from pydantic import Strict

    from exam_builder.assembly.blueprint import Blueprint, Shuffle
    from exam_builder.model.rubric import Criterion, Level, RubricContent

    lax = []
    for model in (Blueprint, Shuffle, RubricContent, Criterion, Level):
        hints = typing.get_type_hints(model, include_extras=True)
        plain = {name for dec in model.__pydantic_decorators__.field_validators.values() if dec.info.mode == "plain"
                 for name in dec.info.fields}
        for name, field in model.model_fields.items():
            if name in plain:
                continue
            for base, meta in _leaves(hints[name]):
                if not any(isinstance(m, Strict) and m.strict for m in [*meta, *field.metadata]):
                    lax.append(f"{model.__name__}.{name} ({base.__name__})")
    assert lax == []
    assert "cut_score" in {n for d in Blueprint.__pydantic_decorators__.field_validators.values()
                           if d.info.mode == "plain" for n in d.info.fields}


def test_the_text_rules_character_classes_are_the_rule_itself():
    """``text.REFUSED`` (the fast search) refuses exactly what ``bad_character`` says: every code point of the
    basic plane, and the edges (noncharacters) of every other plane."""
    from exam_builder.text import REFUSED, REFUSED_MULTILINE, bad_character, visible

    edges = [p * 0x10000 + x for p in range(1, 17) for x in (0, 1, 0xFFFD, 0xFFFE, 0xFFFF)]
    for code in [*range(0x10000), *edges]:
        ch = chr(code)
        assert (REFUSED.match(ch) is not None) == (bad_character(ch) is not None), hex(code)
        assert (REFUSED_MULTILINE.match(ch) is not None) == (bad_character(ch, multiline=True) is not None), hex(code)
    assert visible("a\tb\nc\rd\x1b\u202e\ud800") == "a\\tb\\nc\\rd\\x1b\\u202e\\ud800"
    assert visible("a\tb\nc\rd\u2028", multiline=True) == "a\tb\nc\\rd\\u2028"
    assert visible("Ada \u05e9\u200f \U0001f600") == "Ada \u05e9\u200f \U0001f600"


def test_a_statistic_is_written_with_the_decimals_its_threshold_needs():
    assert against(0.096, 0.1) == "0.096" and against(0.104, 0.1) == "0.104"  # not "0.10" beside "below 0.1"
    assert against(0.25, 0.1) == "0.25" and against(0.1, 0.1) == "0.10"
    assert against(15.3, 15, 0) == "15.3" and against(14.8, 15, 0) == "14.8" and against(22.0, 15, 0) == "22"
    assert against(0.199, 0.2) == "0.199" and against(-0.001, 0.1) == "0.00"
    assert fixed(-0.001) == "0.00" and fixed(-0.004, 2) == "0.00" and fixed(-0.005001) == "-0.01"
