"""Reading the coordinator's CSV files with every problem located by row and column.

Rosters, attendance sheets, homework lists and accommodation lists come from spreadsheets,
so headers are matched loosely ("Candidate ID", "candidate_id", "id" are one column) and
every bad cell is collected before anything is written: the caller raises
``ValidationFailed`` with all of them, or writes the whole file in one transaction.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExamBuilderError, Location, Problem, ValidationFailed, rel
from ..files import private_temp

EMAIL = re.compile(r"^[^@\s,;<>()\[\]\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
#: Candidate ids become nbgrader student ids and folder names under submitted/.
CANDIDATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower())


@dataclass(frozen=True)
class Column:
    """A column the file may have, under any of its spellings."""

    key: str
    aliases: tuple[str, ...]
    required: bool = True

    def matches(self, header: str) -> bool:
        return _norm(header) in {_norm(a) for a in (self.key, *self.aliases)}


@dataclass
class Row:
    """One data row: its 1-based number (the header is row 0) and its cells by column key."""

    number: int
    cells: dict[str, str]

    def get(self, key: str) -> str:
        return (self.cells.get(key) or "").strip()


@dataclass
class CsvFile:
    """A parsed CSV file and the problems found in it so far."""

    path: Path
    label: str  # the file as shown in messages
    headers: dict[str, str] = field(default_factory=dict)  # column key -> header as written
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def where(self, row: int | None = None, column: str | None = None) -> Location:
        return Location(self.label, row=row, column=self.headers.get(column, column) if column else None)

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.where(row, column), message))

    def warn(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.where(row, column), message, severity="warning"))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise ValidationFailed(problems=sorted(self.problems, key=lambda p: (p.location.row or 0, str(p.location))))

    # -- typed cells: each returns None (and records the problem) when the cell is bad ------
    def required(self, row: Row, key: str, what: str) -> str | None:
        value = row.get(key)
        if not value:
            self.error(row.number, key, f"{what} is missing; fill it in or remove the row")
            return None
        return value

    def integer(self, row: Row, key: str, what: str, low: int | None = None, high: int | None = None) -> int | None:
        value = self.required(row, key, what)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            self.error(row.number, key, f"{what} must be a whole number, not {value!r}")
            return None
        if (low is not None and number < low) or (high is not None and number > high):
            span = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.error(row.number, key, f"{what} must be {span}, not {number}")
            return None
        return number

    def date(self, row: Row, key: str, what: str, required: bool = False) -> dt.date | None:
        value = row.get(key)
        if not value:
            if required:
                self.error(row.number, key, f"{what} is missing; write it as YYYY-MM-DD")
            return None
        try:
            return parse_date(value)
        except ValueError:
            self.error(row.number, key, f"{what} {value!r} is not a date; write it as YYYY-MM-DD")
            return None


def parse_date(value: str) -> dt.date:
    """A date as YYYY-MM-DD (ISO) or MM/DD/YYYY (US spreadsheets)."""
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def read_csv(path: Path | str, columns: Sequence[Column], root: Path | None = None) -> CsvFile:
    """Read ``path``, map its headers onto ``columns`` and keep the non-blank rows.

    Problems with the file as a whole (unreadable, no header, a required column missing) are
    raised at once; problems of single cells are for the caller to add and raise.
    """
    path = Path(path)
    label = rel(path, root)
    if not path.is_file():
        raise ExamBuilderError(f"{label}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExamBuilderError(
            f"{label}: byte {exc.start} is not UTF-8 text; save the sheet as 'CSV UTF-8' and try again"
        ) from exc
    result = CsvFile(path=path, label=label)
    # newline="": a quoted cell keeps its line breaks (splitlines() would drop them and also
    # split at characters such as U+2028 inside a cell)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed(problems=[Problem(Location(label, row=0), "the file is empty; it needs a header row")])
    except csv.Error as exc:
        raise ValidationFailed(problems=[Problem(Location(label, row=0), f"not a CSV file ({exc})")])

    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        col = next((c for c in columns if c.matches(name)), None)
        if col is None:
            if name.strip():
                result.warn(0, name, "unknown column, ignored")
            continue
        if col.key in positions:
            result.error(0, name, f"a second {col.key!r} column (already column {positions[col.key] + 1}); keep one")
            continue
        positions[col.key] = index
        result.headers[col.key] = name.strip()
    for col in columns:
        if col.required and col.key not in positions:
            spellings = ", ".join(repr(a) for a in (col.key, *col.aliases))
            result.error(0, None, f"the header has no {col.key!r} column (accepted spellings: {spellings})")
    result.raise_if_errors()

    try:
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                result.error(number, None, f"{len(cells)} cells but the header has {len(header)} columns; "
                                           "quote cells that contain commas")
            values = {key: (cells[i] if i < len(cells) else "") for key, i in positions.items()}
            result.rows.append(Row(number, values))
    except csv.Error as exc:
        raise ValidationFailed(problems=[Problem(Location(label, row=reader.line_num - 1), f"not a CSV file ({exc})")])
    if not result.rows:
        result.error(None, None, "the file has a header but no rows")
    return result


def write_csv_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV file all at once: a temporary file beside it, renamed into place."""
    fd, tmp = private_temp(path.parent, path.name)  # candidate records: owner only
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
