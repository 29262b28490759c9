"""Rubrics: criteria, each with levels (points and a descriptor), read from YAML files.

A response is scored by choosing one level per criterion; the score is the sum. Errors carry
the file and the line of the YAML node that is wrong.

Every value an author writes is read strictly (the schema types of this module, also used by the
blueprint): a number is a YAML number spelled by the one number rule (``numbers``), never
``yes``/``on`` (true) or text such as ``"1"``; a yes/no is a YAML boolean, never 1; an id follows
the one id rule and free text the one text rule (``exam_builder.text``). Where a key was written
comes from the loader's ``YamlMap`` beside the data, so ``file:``, ``line:`` or ``__line__:`` in a
rubric are unknown keys like any other (``RubricContent`` is what an author may write; ``Rubric``
adds the file and line it was read from).
"""
from __future__ import annotations

import difflib
import hashlib
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from .. import numbers
from ..errors import Location, Problem
from ..safeload import load_yaml, read_yaml_text, walk_files
from ..text import id_fault, is_id, shown, text_problem

load_yaml_with_lines = load_yaml  # the name other modules import

# What a certification program would accept; anything outside is a slip (1e9, .inf, a stray digit).
MAX_ITEM_POINTS = 100  # one criterion level, or one item, is worth at most this
MAX_COUNT = 1000  # items, criteria, levels, forms' overlap: no exam comes near it
MAX_CRITERIA = 50
MAX_LEVELS = 20


def _shown(value: object) -> str:
    """A value as the author would recognise it: 1e9, inf, nan, -1, a yes/no value; text quoted."""
    if isinstance(value, bool):
        return f"a yes/no value, {'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return numbers.fmt(value)
    if isinstance(value, str):
        return shown(value)
    text = str(value)
    return text if len(text) <= 30 else text[:27] + "..."


class OutOfRange(ValueError):
    """A number outside its sane range; the message states the range and why."""


class BadText(ValueError):
    """Text that breaks the one text or id rule; the message reads after the key ("'name' has ...")."""


def in_range(lo: float, hi: float, unit: str = "", *, above: bool = False, whole: bool = False) -> AfterValidator:
    """A pydantic check that a number is finite and within ``lo``..``hi`` (``above``: strictly above ``lo``).

    Pydantic's own ge/le errors name one bound and let ``nan`` through; this names the whole
    range ("a number from 0 to 100 points"), which is what an author needs to fix the number.
    """
    text = f"{'a whole number' if whole else 'a number'} {numbers.span(lo, hi, above_low=above, unit=unit)}"

    def check(value: float) -> float:
        if not numbers.in_range(value, lo, hi, above_low=above):
            raise OutOfRange(f"must be {text}")
        return value

    return AfterValidator(check)


def number(lo: float, hi: float, unit: str = "", *, above: bool = False):
    """The schema type of a number an author writes: strict (a YAML number; an int is fine, never a
    yes/no value or text), finite and in its range."""
    return Annotated[float, Strict(), in_range(lo, hi, unit, above=above)]


def whole(lo: int, hi: int, unit: str = "", *, above: bool = False):
    """The schema type of a whole number an author writes: strict (never 2.0, a yes/no value or text), in range."""
    return Annotated[int, Strict(), in_range(lo, hi, unit, above=above, whole=True)]


def _text_rule(multiline: bool, max_chars: int):
    def check(value: str) -> str:
        why = text_problem(value, max_chars, multiline, fix="delete it")
        if why is not None:
            raise BadText(why)
        return value

    return AfterValidator(check)


def _id_rule(value: str) -> str:
    fault = id_fault(value)
    if fault is not None:
        raise BadText(f"is {shown(value)}, which {fault}" if fault.startswith("may") else fault)
    return value


#: An identifier (rubric, criterion, item, anchor ids): the one id rule.
Ident = Annotated[str, Strict(), AfterValidator(_id_rule)]
#: One line of free text (a name, a title, a label): the one text rule, no line breaks.
Line = Annotated[str, Strict(), _text_rule(False, 500)]
#: Free text that may run over several lines (a descriptor, notes, an anchor response).
Prose = Annotated[str, Strict(), _text_rule(True, 20_000)]
#: A yes/no value: a YAML boolean (true/false, yes/no, on/off), never 1 or "true".
YesNo = Annotated[bool, Strict()]

if TYPE_CHECKING:  # what a type checker reads (a call is no type to it); pydantic reads the schema type
    LevelPoints = float
else:
    LevelPoints = number(0, MAX_ITEM_POINTS, "points")


class Level(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    points: LevelPoints
    label: Line = ""
    descriptor: Prose = Field(min_length=1)
    anchor: Prose | None = None  # an example response at this level, shown to graders


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Ident = Field(min_length=1)
    name: Line = Field(min_length=1)
    description: Prose = ""
    levels: tuple[Level, ...] = Field(min_length=2, max_length=MAX_LEVELS)

    @field_validator("levels")
    @classmethod
    def _distinct_points(cls, levels: tuple[Level, ...]) -> tuple[Level, ...]:
        pts = [lv.points for lv in levels]
        if len(set(pts)) != len(pts):
            raise ValueError("two levels have the same points; give each level its own points")
        return tuple(sorted(levels, key=lambda lv: lv.points))

    @property
    def max_points(self) -> float:
        return max(lv.points for lv in self.levels)

    def level(self, points: float) -> Level:
        for lv in self.levels:
            if lv.points == points:
                return lv
        raise KeyError(points)


class RubricContent(BaseModel):
    """What a rubric file may say: criteria x levels for one open-response item (nothing else)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Ident = Field(min_length=1)
    title: Line = ""
    item: Ident | None = None  # the item it scores (defaults to the rubric id)
    notes: Prose = ""  # guidance for graders
    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=MAX_CRITERIA)

    @field_validator("criteria")
    @classmethod
    def _unique_criteria(cls, criteria: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
        ids = [c.id for c in criteria]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"criterion id {dup[0]!r} is used twice; give each criterion its own id")
        return criteria

    @property
    def item_id(self) -> str:
        return self.item or self.id

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.criteria)

    def score(self, levels: dict[str, float]) -> float:
        """The sum of the chosen level per criterion; every criterion must have a valid level."""
        total = 0.0
        for c in self.criteria:
            if c.id not in levels:
                raise ValueError(f"no level chosen for criterion {c.id!r}")
            total += c.level(levels[c.id]).points
        return total

    def content_hash(self) -> str:
        data = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class Rubric(RubricContent):
    """A rubric as the program holds it: the content, and the file and line it was read from (never
    authored: a ``file:`` or ``line:`` key in a rubric file is an unknown key)."""

    file: str = Field(default="", exclude=True)
    line: int | None = Field(default=None, exclude=True)  # line of its ``id:`` key, for messages


def line_of(data, loc: tuple) -> int | None:
    """The YAML line of a pydantic error location, as close as it can be found.

    A missing key has no line of its own: the line of the mapping that should hold it is used.
    Lines come from the loader's ``YamlMap`` (``line``, ``lines``), never from keys in the data.
    """
    node = data
    line = getattr(data, "line", None)
    for part in loc:
        if isinstance(node, dict):
            lines = getattr(node, "lines", {})
            key = part if part in node else next((k for k in node if str(k) == str(part)), part)
            line = lines.get(key, line)
            node = node.get(key)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = getattr(node, "line", None) or line
        else:
            break
    return line


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The pydantic model whose field the error location ends in (for the list of valid keys)."""
    for part in loc[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        inner = _model_in(field.annotation) if field is not None else None
        if inner is not None:
            model = inner
    return model


def _model_in(annotation) -> type[BaseModel] | None:
    """The model a field holds (``Shuffle``, ``tuple[Criterion, ...]``, ``Level | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _subject(loc: tuple) -> str:
    """The key an error is about, as the author wrote it: 'points', or "the key of 'modules'"."""
    if len(loc) >= 2 and loc[-1] == "[key]":
        return f"the key of '{loc[-3]}'" if len(loc) >= 3 else "a key"
    key = str(loc[-1]) if loc and isinstance(loc[-1], str) else (str(loc[-2]) if len(loc) > 1 else "value")
    return f"'{key}'"


def _friendly(err: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """Say what is wrong and what to do, in the author's words rather than pydantic's."""
    loc = tuple(err["loc"])
    subject = _subject(loc)
    key = subject.strip("'") if subject.startswith("'") else "value"
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return f"{subject} is missing; add it"
    if kind == "extra_forbidden":
        allowed = [n for n, f in model.model_fields.items() if not f.exclude] if model else []
        hint = f"; use one of: {', '.join(allowed)}" if allowed else "; remove it"
        return f"unknown key {shown(str(loc[-1]))} (a typo?){hint}"
    if kind == "too_short":
        n = ctx.get("min_length")
        return (f"{subject} needs at least {n} {'entry' if n == 1 else 'entries'} (it has "
                f"{ctx.get('actual_length', 0)}); add more")
    if kind == "string_too_short":
        return f"{subject} is empty; write it"
    if kind == "value_error" and isinstance(ctx.get("error"), OutOfRange):
        return f"{subject} {ctx['error']} (it is {_shown(got)}); fix the number"
    if kind == "value_error" and isinstance(ctx.get("error"), BadText):
        return f"{subject} {ctx['error']}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{subject} must be {ctx.get('ge', ctx.get('gt')):g} or more (it is {_shown(got)}); fix the number"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "below"
        return f"{subject} must be {word} {bound:g} (it is {_shown(got)}); fix the number"
    if kind == "finite_number":
        return f"{subject} must be a finite number (it is {_shown(got)}); fix the number"
    if kind == "too_long":
        n = ctx.get("max_length")
        return (f"{subject} may have at most {n} entries (it has {ctx.get('actual_length')}); is the file what you "
                "meant?")
    hint = f"write e.g. '{key}: 2'" if not subject.startswith("the key") else "fix the key"
    if kind.startswith("int_"):
        was = repr(got) if isinstance(got, float) else _shown(got)  # 2.0, not 2: the point is the problem
        return f"{subject} must be a whole number (it is {was}); {hint}"
    if kind.startswith("float_"):
        return f"{subject} must be a number (it is {_shown(got)}); {hint}"
    if kind.startswith("bool_"):
        return f"{subject} must be true or false (it is {_shown(got)}); write e.g. '{key}: true'"
    if kind == "string_type":
        return f"{subject} must be text (it is {_shown(got)}); quote it"
    if kind in ("tuple_type", "list_type"):
        return f"{subject} must be a list (one '- ' entry per line)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{subject} must be a mapping of 'name: value' lines"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return f"{subject}: {err['msg']}; fix it"


def pydantic_problems(
    exc: ValidationError, data, label: str, item: str | None = None, model: type[BaseModel] | None = None
) -> list[Problem]:
    """Turn pydantic errors into located problems (file, line, key path) that say what to do."""
    out: list[tuple[tuple, Problem]] = []
    errors_skipped: set[tuple] = set()
    errors = exc.errors()
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(len(e["loc"]) > len(loc) and tuple(e["loc"][: len(loc)]) == loc
                                              for e in errors):
            continue  # a list "too short" only because one of its entries is wrong: report the entry
        owner = _model_at(model, loc) if model else None
        message = _friendly(err, owner)
        if err["type"] == "extra_forbidden" and owner is not None:
            # a misspelt key is reported once, as a typo, not also as the key that is missing
            near = difflib.get_close_matches(str(loc[-1]), [n for n, f in owner.model_fields.items() if not f.exclude],
                                             n=1)
            if near and loc[:-1] + (near[0],) in missing:
                message = f"unknown key '{loc[-1]}' (a typo?); rename it to '{near[0]}'"
                errors_skipped.add(loc[:-1] + (near[0],))
        out.append((loc,
                    Problem(Location(label, line=line_of(data, loc), column=".".join(map(str, loc)) or None, item=item),
                            message)))
    return [problem for loc, problem in out if loc not in errors_skipped]


#: Rubrics this process has read, by (label, the file's text): a grading run, a grader's desk or the demo read
#: the same few files for every response, and parsing YAML is what costs. The text decides, so an edited file is
#: read again; the results are frozen models and fresh lists of problems.
_READ: dict[tuple[str, str], tuple[Rubric | None, tuple[Problem, ...]]] = {}
_READ_MAX = 256


def load_rubric(path: Path, label: str | None = None) -> tuple[Rubric | None, list[Problem]]:
    """Read and validate one rubric file (parsed once per text, ``_READ``)."""
    label = label or str(path)
    text, problems = read_yaml_text(path, label)
    if text is None:
        return None, problems
    hit = _READ.get((label, text))
    if hit is None:
        rubric, found = _parse_rubric(path, label, text)
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        hit = _READ[(label, text)] = (rubric, tuple(found))
    return hit[0], list(hit[1])


def _parse_rubric(path: Path, label: str, text: str) -> tuple[Rubric | None, list[Problem]]:
    data, problems = load_yaml_with_lines(path, label, text=text)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(Location(label, line=1),
                              "a rubric file must be a mapping with 'id:' and 'criteria:'; start from another file in "
                              "rubrics/")]
    rid = data.get("id") if is_id(data.get("id")) else None
    line = getattr(data, "lines", {}).get("id", 1)
    try:
        content = RubricContent.model_validate(data)  # only what an author may write: file/line are unknown keys
    except ValidationError as exc:
        return None, pydantic_problems(exc, data, label, rid, RubricContent)
    return Rubric(**dict(content), file=label, line=line), []


def rubric_walk(folder: Path, label=lambda p: str(p)) -> tuple[list[Path], list[Problem]]:
    """YAML files under a folder, sorted, without checkpoints and blueprints, and what was odd (see
    safeload.walk_files)."""
    files, problems = walk_files(folder, (".yaml", ".yml"), label)
    return [f for f in files if f.stem != "blueprint"], problems


def rubric_files(folder: Path) -> list[Path]:
    """YAML files under a folder, sorted, without checkpoints and blueprints (not rubrics)."""
    return rubric_walk(folder)[0]


def load_rubrics(paths: list[Path], label=lambda p: str(p)) -> tuple[dict[str, Rubric], list[Problem]]:
    """Every rubric under the given files or folders, by id; duplicate ids are problems."""
    rubrics: dict[str, Rubric] = {}
    problems: list[Problem] = []
    files: list[Path] = []
    for p in paths:
        if p.is_dir() and p.suffix not in (".yaml", ".yml"):
            found, odd = rubric_walk(p, label)
            files += found
            problems += odd
        else:
            files.append(p)
    for f in files:
        rubric, probs = load_rubric(f, label(f))
        problems += probs
        if rubric is None:
            continue
        if rubric.id in rubrics:
            problems.append(
                Problem(
                    Location(label(f), line=rubric.line, item=rubric.id),
                    f"rubric id {rubric.id!r} is also used by {rubrics[rubric.id].file}; give each rubric its own id",
                )
            )
            continue
        rubrics[rubric.id] = rubric
    return rubrics, problems
