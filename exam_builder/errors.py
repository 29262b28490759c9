"""Errors that carry their location, so a person can find and fix the bad input.

Every user-facing failure is an ``ExamBuilderError``; the CLI prints it without a traceback
and exits non-zero. Validation collects ``Problem`` records so that every problem of a file
is reported at once.

A location and a problem are written with ``text.visible``: a file name, an id or a message that
quotes a hostile value (an escape sequence, a bidi override, a lone surrogate) is shown escaped,
so printing a problem can never drive a terminal, reorder a line or fail to encode.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .text import visible


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem is: a file and, when known, a notebook cell, a line or a CSV row."""

    file: str
    cell: int | None = None  # 1-based notebook cell number
    line: int | None = None  # 1-based line in a text file
    row: int | None = None  # 1-based data row of a CSV file (the header is row 0, shown "header row")
    column: str | None = None  # CSV column or YAML key path
    item: str | None = None  # item, scenario or rubric id

    def __str__(self) -> str:
        parts = [self.file]
        if self.cell is not None:
            parts.append(f"cell {self.cell}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:  # row 0 is the header: a person reads "header row", not "row 0"
            parts.append("header row" if self.row == 0 else f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        text = ":".join(parts)
        if self.item:
            text += f" [{self.item}]"
        return visible(text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, with what to do about it."""

    location: Location
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.location}: {tag}{visible(self.message, multiline=True)}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class ExamBuilderError(Exception):
    """A failure the user can fix; printed without a traceback, exit code 1."""

    exit_code = 1


@dataclass
class ValidationFailed(ExamBuilderError):
    """Input had one or more errors; nothing was written."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        errors = [p for p in self.problems if p.is_error]
        # errors first: the CLI prints this after "error:", which must never stand before a warning
        lines = [str(p) for p in errors] + [str(p) for p in self.problems if not p.is_error]
        lines.append(f"{len(errors)} error(s); nothing was written. Fix them and run the command again.")
        return "\n".join(lines)


def rel(path: Path | str, root: Path | None = None) -> str:
    """A path as the user typed it or relative to the course root, for messages."""
    p = Path(path)
    if root is not None:
        try:
            return str(p.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(p)
