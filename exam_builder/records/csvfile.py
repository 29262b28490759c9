"""Reading the coordinator's CSV files with every problem located by row and column.

Rosters, attendance sheets, homework lists and accommodation lists come from spreadsheets,
so headers are matched loosely ("Candidate ID", "candidate_id", "id" are one column) and
every bad cell is collected before anything is written: the caller raises
``ValidationFailed`` with all of them, or writes the whole file in one transaction.

Every cell of a known column is checked here once, for every importer: characters nobody
types on purpose (``text.bad_character``) and the column's length limit. A bad cell reads as
empty afterwards and is reported once, so no importer sees hostile text. Numbers and dates go
through one set of parsers (``whole_number``, ``decimal``: the program's one number rule,
``exam_builder.numbers``; ``calendar_date``) that always know their range: a 20-digit class number, ``nan``, ``inf`` or
the year 9999 is refused with the
range it should be in, never stored and never a traceback.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import numbers
from ..errors import ExamBuilderError, Location, Problem, ValidationFailed, rel
from ..files import replace_file
from ..numbers import NumberError
from ..safeload import read_text, require_inside
from .text import shown, text_problem

EMAIL = re.compile(r"^[^@\s,;<>()\[\]\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z")
#: Candidate ids become nbgrader student ids and folder names under submitted/.
CANDIDATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
CANDIDATE_ID_RULE = ("may use only letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)")
#: A records sheet is a few hundred rows; anything bigger is the wrong file.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: The dates a record may carry (a letter, a request): a typo such as 0026 or 9999 is refused.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)

SHEET_FIX = "delete it and save the sheet again"

_DATE_FORMATS = ((re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"), "%Y-%m-%d"),
                 (re.compile(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"), "%m/%d/%Y"))

#: A cell that is not of its kind or not in its range; the message says what is expected.
#: The numbers' rule is the one every reader uses (``exam_builder.numbers``).
CellError = NumberError


def whole_number(value: str, what: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (ASCII digits, an optional sign), or ``CellError``."""
    return numbers.whole_number(value, what, low, high)


def decimal(value: str, what: str, low: float, high: float, above_low: bool = False) -> float:
    """A finite decimal number in ``[low, high]`` (``(low, high]`` with ``above_low``), or ``CellError``."""
    return numbers.decimal(value, what, low, high, above_low)


def calendar_date(value: str, what: str, earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE) -> dt.date:
    """A date written YYYY-MM-DD (ISO) or MM/DD/YYYY (US spreadsheets), within a sane range."""
    value = value.strip()
    for pattern, fmt in _DATE_FORMATS:
        if pattern.fullmatch(value):
            try:
                day = dt.datetime.strptime(value, fmt).date()
            except ValueError:
                break
            if not earliest <= day <= latest:
                raise CellError(f"{what} {day.isoformat()} is out of range; it must be from {earliest.isoformat()} "
                                f"to {latest.isoformat()}")
            return day
    raise CellError(f"{what} {shown(value)} is not a date; write it as YYYY-MM-DD")


def parse_date(value: str) -> dt.date:
    """A date as YYYY-MM-DD (ISO) or MM/DD/YYYY (US spreadsheets); ``ValueError`` otherwise."""
    return calendar_date(value, "the date")


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower())


@dataclass(frozen=True)
class Change:
    """One stored value an import changes: listed to the coordinator, never silent."""

    who: str  # the candidate (and, for attendance or homework, what of theirs)
    field: str  # as the sheet names it
    old: object
    new: object

    def __str__(self) -> str:
        return f"{self.who}: {self.field} {_value(self.old)} -> {_value(self.new)}"


def _value(v: object) -> str:
    if v is None or v == "":
        return "(empty)"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return repr(v) if isinstance(v, str) else str(v)


class DryRun(Exception):
    """Raised inside an import's transaction under ``--dry-run``: everything is rolled back."""


@dataclass(frozen=True)
class Column:
    """A column the file may have, under any of its spellings, and what its cells may hold.

    ``max_chars``: the longest value stored (the database column's width); ``multiline``:
    free text that may hold tabs and line breaks.
    """

    key: str
    aliases: tuple[str, ...]
    required: bool = True
    max_chars: int = 64
    multiline: bool = False

    def matches(self, header: str) -> bool:
        return _norm(header) in {_norm(a) for a in (self.key, *self.aliases)}


@dataclass
class Row:
    """One data row: its 1-based number (the header is row 0) and its cells by column key.

    ``bad`` holds the columns whose cell was refused (already reported): they read as empty.
    """

    number: int
    cells: dict[str, str]
    bad: set[str] = field(default_factory=set)

    def get(self, key: str) -> str:
        if key in self.bad:
            return ""
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
            if key not in row.bad:  # a refused cell was reported already
                self.error(row.number, key, f"{what} is missing; fill it in or remove the row")
            return None
        return value

    def candidate_id(self, row: Row, key: str = "candidate id") -> str | None:
        """A candidate id: required, and of the pattern nbgrader ids and folder names need."""
        cid = self.required(row, key, "the candidate id")
        if cid is not None and not CANDIDATE_ID.match(cid):
            self.error(row.number, key, f"candidate id {shown(cid)} {CANDIDATE_ID_RULE}")
            return None
        return cid

    def _typed(self, row: Row, key: str, parse, *args, required: bool = True, what: str = ""):
        value = self.required(row, key, what) if required else (row.get(key) or None)
        if value is None:
            return None
        try:
            return parse(value, what, *args)
        except CellError as exc:
            self.error(row.number, key, str(exc))
            row.bad.add(key)
            return None

    def integer(self, row: Row, key: str, what: str, low: int, high: int, required: bool = True) -> int | None:
        """A whole number from ``low`` to ``high`` (both bounds: every number has a range)."""
        return self._typed(row, key, whole_number, low, high, required=required, what=what)

    def number(self, row: Row, key: str, what: str, low: float, high: float, above_low: bool = False,
               required: bool = True) -> float | None:
        """A finite decimal number in its range."""
        return self._typed(row, key, decimal, low, high, above_low, required=required, what=what)

    def date(self, row: Row, key: str, what: str, required: bool = False,
             earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE) -> dt.date | None:
        if required and not row.get(key):
            if key not in row.bad:
                self.error(row.number, key, f"{what} is missing; write it as YYYY-MM-DD")
            return None
        return self._typed(row, key, calendar_date, earliest, latest, required=False, what=what)


def open_to_others(path: Path) -> str | None:
    """Why other accounts on this computer can read ``path`` (its mode lets them, and so does its
    folder's), or None. A warning, never a refusal: the coordinator decides where sheets live."""
    try:
        mode, folder = path.stat().st_mode, path.resolve().parent.stat().st_mode
    except OSError:
        return None
    if not mode & 0o044 or not folder & 0o011:
        return None
    return (f"this sheet holds candidate data and other accounts on this computer can read it (mode "
            f"{mode & 0o777:04o}, in a folder they can open); run `chmod 600 {shown(str(path))}`, and keep the sheets "
            "in a folder only you can open, such as the course's rosters/ (`mkdir -m 700 rosters`; git ignores it)")


def read_csv(path: Path | str, columns: Sequence[Column], root: Path | None = None, *,
             candidate_data: bool = False) -> CsvFile:
    """Read ``path``, map its headers onto ``columns`` and keep the non-blank rows.

    Problems with the file as a whole (unreadable, too big, no header, a required column
    missing) are raised at once; every cell of a known column is checked for hidden characters
    and length (recorded, the cell then reads as empty); the rest is for the caller to add and raise.
    ``candidate_data``: a sheet other accounts can read gets a warning (``open_to_others``).
    """
    path = Path(path)
    label = rel(path, root)
    if root is not None:  # the link rule of every command: a sheet in the course is never read from out of it
        require_inside(path, [(root, "the course")], label)
    if not path.exists() and not path.is_symlink():
        raise ExamBuilderError(f"{label}: no such file")
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # a link that loops or points nowhere: safeload names it
    if size > MAX_FILE_BYTES:
        raise ExamBuilderError(f"{label}: {size:,} bytes; a records sheet is at most {MAX_FILE_BYTES:,} bytes "
                               "(is this the right file?)")
    # safeload: a regular file only (a pipe swapped in is refused, never waited on), bounded, UTF-8
    text = read_text(path, label, max_bytes=MAX_FILE_BYTES, bom=True,
                     hint="save the sheet as 'CSV UTF-8' and try again")
    result = CsvFile(path=path, label=label)
    exposed = open_to_others(path) if candidate_data else None
    if exposed is not None:
        result.warn(None, None, exposed)
    # newline="": a quoted cell keeps its line breaks (splitlines() would drop them and also
    # split at characters such as U+2028 inside a cell)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed(problems=[Problem(Location(label, row=0),
                                                 "the file is empty; it needs a header row")]) from None
    except csv.Error as exc:
        raise ValidationFailed(problems=[Problem(Location(label, row=0), f"not a CSV file ({exc})")]) from exc

    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        # a header is shown in every location of its column: refuse what cannot be shown
        why = text_problem(name, 200, fix=SHEET_FIX)
        if why is not None:
            result.problems.append(Problem(Location(label, row=0, column=str(index + 1)), f"the header {why}"))
            continue
        col = next((c for c in columns if c.matches(name)), None)
        if col is None:
            if name.strip():
                result.warn(0, name.strip(), "unknown column, ignored")
            continue
        if col.key in positions:
            result.error(0, name.strip(), f"a second {col.key!r} column (already column {positions[col.key] + 1}); "
                                          "keep one")
            continue
        positions[col.key] = index
        result.headers[col.key] = name.strip()
    for col in columns:
        if col.required and col.key not in positions and not result.has_errors:
            spellings = ", ".join(repr(a) for a in (col.key, *col.aliases))
            result.error(0, None, f"the header has no {col.key!r} column (accepted spellings: {spellings})")
    result.raise_if_errors()

    by_key = {c.key: c for c in columns}
    ignored = [i for i, name in enumerate(header) if i not in positions.values()]
    ignored_with_data: dict[int, int] = {}  # position -> first row with a value there
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                result.error(number, None, f"{len(cells)} cells but the header has {len(header)} columns; "
                                           "quote cells that contain commas")
            for i in ignored:
                if i < len(cells) and cells[i].strip() and not header[i].strip():
                    ignored_with_data.setdefault(i, number)
            row = Row(number, {key: (cells[i] if i < len(cells) else "") for key, i in positions.items()})
            for key, value in row.cells.items():
                col = by_key[key]
                # spaces and tabs around a value are trimmed; anything else invisible, even at the edges, is refused
                why = text_problem(value.strip(" \t"), col.max_chars, col.multiline, SHEET_FIX)
                if why is not None:
                    result.error(number, key, f"the cell {why}")
                    row.bad.add(key)
            result.rows.append(row)
    except csv.Error as exc:
        raise ValidationFailed(problems=[Problem(Location(label, row=reader.line_num - 1),
                                                 f"not a CSV file ({exc})")]) from exc
    for i, first in sorted(ignored_with_data.items()):
        result.warn(first, str(i + 1), "this column has no header, so its values are ignored; name it or clear it")
    if not result.rows:
        result.error(None, None, "the file has a header but no rows")
    return result


def write_csv_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, root: Path | None) -> None:
    """Write a CSV file all at once: a temporary file beside it, renamed into place (``files.replace_file``:
    ``0600``, candidate records; ``root``, the course's, has the path checked first)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    replace_file(path, buf.getvalue(), root)
