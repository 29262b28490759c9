"""Rubrics: criteria, each with levels (points and a descriptor), read from YAML files.

A response is scored by choosing one level per criterion; the score is the sum. Errors carry
the file and the line of the YAML node that is wrong.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import math
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import Location, Problem
from ..safeload import load_yaml, walk_files

load_yaml_with_lines = load_yaml  # the name other modules import

# What a certification program would accept; anything outside is a slip (1e9, .inf, a stray digit).
MAX_ITEM_POINTS = 100  # one criterion level, or one item, is worth at most this
MAX_COUNT = 1000  # items, criteria, levels, forms' overlap: no exam comes near it
MAX_CRITERIA = 50
MAX_LEVELS = 20


def _shown(value: object) -> str:
    """A number as the author would recognise it: 1e+09, inf, nan, -1 (text as written)."""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:g}"
    if isinstance(value, str):
        try:
            float(value)  # '1e9' reads as text in YAML 1.1: show it as written, it is meant as a number
            return value
        except ValueError:
            return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**30:
        return str(value)
    text = str(value)
    return text if len(text) <= 30 else text[:27] + "..."


class OutOfRange(ValueError):
    """A number outside its sane range; the message states the range and why."""


def in_range(lo: float, hi: float, unit: str = "", *, above: bool = False, whole: bool = False) -> AfterValidator:
    """A pydantic check that a number is finite and within ``lo``..``hi`` (``above``: strictly above ``lo``).

    Pydantic's own ge/le errors name one bound and let ``nan`` through; this names the whole
    range ("a number from 0 to 100 points"), which is what an author needs to fix the number.
    """
    kind = "a whole number" if whole else "a number"
    span = f"above {_shown(lo)} and at most {_shown(hi)}" if above else f"from {_shown(lo)} to {_shown(hi)}"
    text = f"{kind} {span}" + (f" {unit}" if unit else "")

    def check(value: float) -> float:
        ok = math.isfinite(value) and (value > lo if above else value >= lo) and value <= hi
        if not ok:
            raise OutOfRange(f"must be {text}")
        return value

    return AfterValidator(check)


LevelPoints = Annotated[float, in_range(0, MAX_ITEM_POINTS, "points")]


class Level(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    points: LevelPoints
    label: str = ""
    descriptor: str = Field(min_length=1)
    anchor: str | None = None  # an example response at this level, shown to graders


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
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


class Rubric(BaseModel):
    """Criteria x levels for one open-response item."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    title: str = ""
    item: str | None = None  # the item it scores (defaults to the rubric id)
    notes: str = ""  # guidance for graders
    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=MAX_CRITERIA)
    file: str = Field(default="", exclude=True)
    line: int | None = Field(default=None, exclude=True)  # line of its ``id:`` key, for messages

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


def strip_lines(data):
    if isinstance(data, dict):
        return {k: strip_lines(v) for k, v in data.items() if k not in ("__lines__", "__line__")}
    if isinstance(data, list):
        return [strip_lines(v) for v in data]
    return data


def line_of(data, loc: tuple) -> int | None:
    """The YAML line of a pydantic error location, as close as it can be found.

    A missing key has no line of its own: the line of the mapping that should hold it is used.
    """
    node = data
    line = data.get("__line__") if isinstance(data, dict) else None
    for part in loc:
        if isinstance(node, dict):
            line = node.get("__lines__", {}).get(str(part), line)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, dict):
                line = node.get("__line__", line)
        else:
            break
    return line


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The pydantic model whose field the error location ends in (for the list of valid keys)."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if isinstance(part, str) else None
        if field is None:
            continue
        for candidate in (Criterion, Level, Rubric):
            if candidate.__name__ in str(field.annotation):
                model = candidate
                break
    return model


def _friendly(err: dict, model: type[BaseModel] | None) -> str:
    """Say what is wrong and what to do, in the author's words rather than pydantic's."""
    loc = tuple(err["loc"])
    key = str(loc[-1]) if loc and isinstance(loc[-1], str) else (str(loc[-2]) if len(loc) > 1 else "value")
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return f"'{key}' is missing; add it"
    if kind == "extra_forbidden":
        allowed = [n for n, f in model.model_fields.items() if not f.exclude] if model else []
        hint = f"; use one of: {', '.join(allowed)}" if allowed else "; remove it"
        return f"unknown key '{key}' (a typo?){hint}"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"'{key}' needs at least {n} {'entry' if n == 1 else 'entries'} (it has {ctx.get('actual_length', 0)}); add more"
    if kind == "string_too_short":
        return f"'{key}' is empty; write it"
    if kind == "value_error" and isinstance(ctx.get("error"), OutOfRange):
        subject = f"'{key}'" if not (len(loc) >= 3 and loc[-1] == "[key]") else f"the key of '{loc[-3]}'"
        return f"{subject} {ctx['error']} (it is {_shown(got)}); fix the number"
    if kind in ("greater_than_equal", "greater_than"):
        return f"'{key}' must be {ctx.get('ge', ctx.get('gt')):g} or more (it is {_shown(got)}); fix the number"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "below"
        return f"'{key}' must be {word} {bound:g} (it is {_shown(got)}); fix the number"
    if kind == "finite_number":
        return f"'{key}' must be a finite number (it is {_shown(got)}); fix the number"
    if kind == "too_long":
        n = ctx.get("max_length")
        return f"'{key}' may have at most {n} entries (it has {ctx.get('actual_length')}); is the file what you meant?"
    if kind.startswith("int_"):
        return f"'{key}' must be a whole number (it is {_shown(got)}); write e.g. '{key}: 2'"
    if kind.startswith("float_"):
        return f"'{key}' must be a number (it is {got!r}); write e.g. '{key}: 2'"
    if kind == "string_type":
        return f"'{key}' must be text (it is {got!r}); quote it"
    if kind in ("tuple_type", "list_type"):
        return f"'{key}' must be a list (one '- ' entry per line)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"'{key}' must be a mapping of 'name: value' lines"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return f"'{key}': {err['msg']}; fix it"


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
        if err["type"] == "too_short" and any(len(e["loc"]) > len(loc) and tuple(e["loc"][: len(loc)]) == loc for e in errors):
            continue  # a list "too short" only because one of its entries is wrong: report the entry
        owner = _model_at(model, loc) if model else None
        message = _friendly(err, owner)
        if err["type"] == "extra_forbidden" and owner is not None:
            # a misspelt key is reported once, as a typo, not also as the key that is missing
            near = difflib.get_close_matches(str(loc[-1]), [n for n, f in owner.model_fields.items() if not f.exclude], n=1)
            if near and loc[:-1] + (near[0],) in missing:
                message = f"unknown key '{loc[-1]}' (a typo?); rename it to '{near[0]}'"
                errors_skipped.add(loc[:-1] + (near[0],))
        out.append((loc, Problem(Location(label, line=line_of(data, loc), column=".".join(map(str, loc)) or None, item=item), message)))
    return [problem for loc, problem in out if loc not in errors_skipped]


def load_rubric(path: Path, label: str | None = None) -> tuple[Rubric | None, list[Problem]]:
    """Read and validate one rubric file."""
    label = label or str(path)
    data, problems = load_yaml_with_lines(path, label)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(Location(label, line=1), "a rubric file must be a mapping with 'id:' and 'criteria:'; start from another file in rubrics/")]
    rid = data.get("id") if isinstance(data.get("id"), str) else None
    line = data["__lines__"].get("id", 1)
    clean = strip_lines(data)
    clean.pop("file", None), clean.pop("line", None)  # not authored keys
    try:
        rubric = Rubric.model_validate({**clean, "file": label, "line": line})
    except ValidationError as exc:
        return None, pydantic_problems(exc, data, label, rid, Rubric)
    return rubric, []


def rubric_walk(folder: Path, label=lambda p: str(p)) -> tuple[list[Path], list[Problem]]:
    """YAML files under a folder, sorted, without checkpoints and blueprints, and what was odd (see safeload.walk_files)."""
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
