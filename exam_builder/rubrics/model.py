"""Rubrics: criteria, each with levels (points and a descriptor), read from YAML files.

A response is scored by choosing one level per criterion; the score is the sum. Errors carry
the file and the line of the YAML node that is wrong.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import Location, Problem


class Level(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    points: float = Field(ge=0)
    label: str = ""
    descriptor: str = Field(min_length=1)
    anchor: str | None = None  # an example response at this level, shown to graders


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    levels: tuple[Level, ...] = Field(min_length=2)

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
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    file: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _unique_criteria(self) -> "Rubric":
        ids = [c.id for c in self.criteria]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"criterion id {dup[0]!r} is used twice; give each criterion its own id")
        return self

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


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    lines = {}
    for key_node, _ in node.value:
        lines[str(key_node.value)] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(data):
    if isinstance(data, dict):
        return {k: _strip_lines(v) for k, v in data.items() if k not in ("__lines__", "__line__")}
    if isinstance(data, list):
        return [_strip_lines(v) for v in data]
    return data


def _line_of(data, loc: tuple) -> int | None:
    """The YAML line of a pydantic error location, as close as it can be found."""
    node, line = data, None
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


def load_yaml_with_lines(path: Path, label: str) -> tuple[object, list[Problem]]:
    """Parse a YAML file safely, turning syntax errors into a located problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(Location(label), f"cannot read the file ({exc})")]
    try:
        return yaml.load(text, Loader=_LineLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(Location(label, line=line), f"not valid YAML ({what}); fix the indentation or quoting")]


def pydantic_problems(exc: ValidationError, data, label: str, item: str | None = None) -> list[Problem]:
    """Turn pydantic errors into located problems (file, line, key path)."""
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = ".".join(str(p) for p in loc) or None
        msg = err["msg"].removeprefix("Value error, ")
        out.append(Problem(Location(label, line=_line_of(data, loc), column=path, item=item), msg))
    return out


def load_rubric(path: Path, label: str | None = None) -> tuple[Rubric | None, list[Problem]]:
    """Read and validate one rubric file."""
    label = label or str(path)
    data, problems = load_yaml_with_lines(path, label)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(Location(label, line=1), "a rubric file must be a mapping with id and criteria")]
    rid = data.get("id") if isinstance(data.get("id"), str) else None
    try:
        rubric = Rubric.model_validate({**_strip_lines(data), "file": label})
    except ValidationError as exc:
        return None, pydantic_problems(exc, data, label, rid)
    return rubric, []


def load_rubrics(paths: list[Path], label=lambda p: str(p)) -> tuple[dict[str, Rubric], list[Problem]]:
    """Every rubric under the given files or folders, by id; duplicate ids are problems."""
    rubrics: dict[str, Rubric] = {}
    problems: list[Problem] = []
    files: list[Path] = []
    for p in paths:
        files += sorted(p.rglob("*.y*ml")) if p.is_dir() else [p]
    for f in files:
        rubric, probs = load_rubric(f, label(f))
        problems += probs
        if rubric is None:
            continue
        if rubric.id in rubrics:
            problems.append(
                Problem(
                    Location(label(f), line=1, item=rubric.id),
                    f"rubric id {rubric.id!r} is also used by {rubrics[rubric.id].file}; give each rubric its own id",
                )
            )
            continue
        rubrics[rubric.id] = rubric
    return rubrics, problems
