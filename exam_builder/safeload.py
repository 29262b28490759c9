"""One safe loader per input format: YAML (rubrics, blueprints), JSON, notebooks and small text files.

Every file an author, a candidate, a coordinator or another tool hands us is read through here,
so the limits and the wording are the same everywhere (``tests/test_one_loader.py`` fails when a
module opens a file any other way). The contract:

* Nothing here raises anything but ``ExamBuilderError`` (JSON, notebooks, text, bytes) or returns
  located ``Problem`` records (YAML); never a ``RecursionError``, ``MemoryError``, ``TypeError``
  or a traceback from a parser, whatever the bytes.
* Only regular files are read: a folder named like a file, a pipe, a socket or a device (a link
  to ``/dev/zero``) is refused by its type, never opened for reading; the file is opened without
  blocking and its type checked again on the open descriptor, so a file swapped for a pipe
  between the check and the open cannot hang the reader either.
* Size is checked before the file is parsed (and while it is read: at most one byte over the
  limit is ever read), and nesting depth is checked by an iterative scan before ``json.loads``
  (or while YAML is composed), so a hostile file costs at most one bounded read.
* Text is UTF-8 (a UTF-8 byte-order mark is allowed where spreadsheets write one); anything else
  is refused with the line and byte where it stops being UTF-8 (UTF-16 is named as such).
* YAML refuses aliases and anchors altogether (a rubric or blueprint has no use for them, and an
  alias is what an expansion bomb is made of) and refuses a key given twice in one mapping,
  compared by the value it reads as (``1`` and ``01``, ``true`` and ``True``): YAML keeps the last
  one silently, so graders would score against a rubric nobody wrote. A plain scalar is a number
  only when the one number rule (``numbers``) spells it so: ``0x1F``, ``1_000`` and ``1:30`` are text.
  Where each key is (``YamlMap.lines``) is kept beside the data, never as keys in it.
* A notebook is returned only when it is nbformat 4 and the structure its readers rely on has
  the right types: a top-level mapping, ``cells`` a list of mappings, each ``source`` text or a
  list of text, every ``metadata`` (and its ``nbgrader`` and ``exam_builder`` parts) a mapping.
  The error names the file and the cell (nbformat's own schema errors too).
  ``read_notebook_json`` does the same without importing nbformat.
* ``walk_files`` lists a folder's files without going round a link loop or out of the folder.
* The link rule, the same for every command: a course file is read only where it resolves inside
  the course folder that holds it (``source/``, ``rubrics/``, ``practice/``, else the course), so
  its content cannot change without the course changing. ``walk_files`` applies it below the
  folder it lists; ``linked_out``/``require_inside`` to a folder or file a command reads by name (a
  blueprint, the exam's and the rubrics' folders, a sheet inside the course, a path named to ``check``).
  The program's own files (``.exam-builder/``, form sources, released notebooks, practice sets) are
  stricter: no link at all, checked by ``files.check_owned`` before they are read here.

Reading is here, writing is in ``files`` (which uses ``holds`` and these readers: a folder is
copied by ``files.copy_tree`` through ``walk_files`` and ``read_bytes``).

API: ``load_yaml(path, label) -> (data, problems)`` (mappings are ``YamlMap``); ``read_bytes(path, where,
max_bytes=...)``, ``read_text(path, where, max_bytes=...)``, ``read_json(source, where)``,
``read_notebook(path)``, ``read_notebook_json(path)`` raise ``LoadError`` (an ``ExamBuilderError``
with ``.location`` and ``.problem``); ``holds(path, data)`` (whether a file already holds these
bytes: never blocks); ``walk_files(folder, suffixes, label) -> (files, problems)``;
``linked_out(path, tops) -> message | None``, ``require_inside(path, tops, where)``
(``LoadError``); ``absolute(path)`` (a path made absolute without resolving a link).
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import stat
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from . import numbers
from .errors import ExamBuilderError, Location, Problem, rel

if TYPE_CHECKING:  # nbformat's import alone takes seconds; it is imported when a notebook is read
    import nbformat

# A notebook of a 200-item exam with outputs is a few MB; 20 MB leaves room for embedded images
# while refusing a file that would make the reader (and every grader's page) crawl.
MAX_JSON_BYTES = 20 * 1024 * 1024
# nbformat 4 nests about 6 levels deep and cell metadata a few more; 100 is far above any real
# file and far below where Python's recursive json decoder (and anything walking the result) fails.
MAX_JSON_DEPTH = 100
# The largest real rubric or blueprint is a few KB.
MAX_YAML_BYTES = 1024 * 1024
# A blueprint nests section > item list > mapping: about 6 levels.
MAX_YAML_DEPTH = 50


# --------------------------------------------------------------------------------------- YAML


class _LineLoader(yaml.SafeLoader):  # pure Python on purpose: libyaml words its errors differently
    """A safe YAML loader that remembers the line of every mapping key and refuses aliases."""

    max_depth = MAX_YAML_DEPTH

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        # An alias is refused when it is met, before anything is expanded: "*name" in the text.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                event.start_mark.line + 1,
                f"alias '*{event.anchor}' is not allowed; rubrics and blueprints do not use YAML "
                "anchors (&) or aliases (*): write the value out in full",
            )
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(
                event.start_mark.line + 1,
                f"anchor '&{anchor}' is not allowed; rubrics and blueprints do not use YAML "
                "anchors (&) or aliases (*): write the value out in full",
            )
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise _Refused(
                    event.start_mark.line + 1,
                    f"nested more than {self.max_depth} levels deep; a rubric or blueprint needs fewer than 10",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    """A YAML file we will not load, with the line to point at."""

    def __init__(self, line: int | None, message: str, needs_hint: bool = False) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.needs_hint = needs_hint

    def with_hint(self, hint: str) -> str:
        return f"{self.message}; {hint}" if self.needs_hint else self.message


class YamlMap(dict):
    """A YAML mapping that knows where it is: ``line`` (its first line) and ``lines`` (key -> the line
    of that key). Kept beside the data, never in it, so an author's own ``line:`` or ``__line__:``
    key is an ordinary key to the schema (unknown: an error), not the loader's bookkeeping."""

    __slots__ = ("line", "lines")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line: int | None = None
        self.lines: dict = {}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> YamlMap:
    """A mapping whose keys are compared by the value they read as, not by their spelling: ``1`` and
    ``01``, ``1`` and ``1.0``, ``true`` and ``True`` are one key, and a key given twice is refused."""
    mapping = YamlMap()
    spelled: dict = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Refused(key_node.start_mark.line + 1, "a key must be a plain name, not a list or a mapping")
        spelling, line = str(key_node.value), key_node.start_mark.line + 1
        if spelling == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
            raise _Refused(line, "merge keys ('<<') are not allowed; write the keys out in full")
        key = loader.construct_object(key_node, deep=True)
        if key in mapping.lines:
            first, before = spelled[key], mapping.lines[key]
            at = f"lines {before} and {line}" if before != line else f"line {line}"
            same = "" if first == spelling else f": '{first}' and '{spelling}' are the same key"
            raise _Refused(
                line,
                f"key '{spelling}' is given twice ({at}{same}); YAML would keep "
                "only the second and silently drop the first: merge them into one",
            )
        mapping.lines[key], spelled[key] = line, spelling
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping.line = node.start_mark.line + 1
    return mapping


def _construct_number(loader: _LineLoader, node: yaml.ScalarNode) -> int | float | str:
    """A scalar the resolver took for a number, read by the one number rule (``numbers.yaml_number``);
    a spelling that is not a number by that rule (an explicit ``!!int 0x1F``) stays text."""
    value = loader.construct_scalar(node)
    number = numbers.yaml_number(value)
    return value if number is None else number


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
# YAML 1.1 reads 0x1F, 017 (octal), 0b11, 1_000 and 1:30 (base 60) as numbers: here only what the one
# number rule spells is a number (``1e9`` and ``.inf`` included); the rest is text, refused by the schema.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(_INT, re.compile(rf"^(?:{numbers.WHOLE.pattern})\Z"), list("+-0123456789"))
_LineLoader.add_implicit_resolver(
    _FLOAT, re.compile(rf"^(?:{numbers.DECIMAL.pattern}|{numbers.YAML_NONFINITE.pattern})\Z"), list("+-.0123456789"))
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(_INT, _construct_number)
_LineLoader.add_constructor(_FLOAT, _construct_number)


def read_yaml_text(path: Path, label: str, *, max_bytes: int = MAX_YAML_BYTES) -> tuple[str | None, list[Problem]]:
    """The text of a YAML file, read as ``load_yaml`` reads it: ``(text, [])`` or ``(None, [a located problem])``."""
    try:
        return _read_bounded(path, max_bytes).decode("utf-8"), []
    except _Refused as exc:
        hint = "a rubric or blueprint is a few KB: is it the right file?"
        return None, [Problem(Location(label), exc.with_hint(hint))]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(Location(label), f"cannot read the file ({_plain(exc)})")]


def load_yaml(path: Path, label: str, *, max_bytes: int = MAX_YAML_BYTES,
              text: str | None = None) -> tuple[object, list[Problem]]:
    """Parse a YAML file safely: ``(data, [])`` or ``(None, [a located problem])``.

    Every mapping is a ``YamlMap``: its ``lines`` (key -> line) and ``line`` locate messages, outside the data.
    ``text``: the file's new text, parsed instead of the file (a change checked before it is written).
    """
    if text is None:
        text, problems = read_yaml_text(path, label, max_bytes=max_bytes)
        if text is None:
            return None, problems
    try:
        return yaml.load(text, Loader=_LineLoader), []
    except _Refused as exc:
        return None, [Problem(Location(label, line=exc.line), exc.message)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(Location(label, line=line), f"not valid YAML ({what}); fix the indentation or quoting")]
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:  # belt and braces
        return None, [Problem(Location(label), f"cannot read the YAML ({type(exc).__name__}); simplify the file")]


# --------------------------------------------------------------------------------------- files


#: Open for reading without blocking (a pipe swapped in after the type check), without making a
#: terminal ours, and not into a child process.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; never reads a big file, never blocks on a pipe.

    ``_Refused`` with a message that ends in what to do (``needs_hint``: the caller adds its own).
    The type is checked on the path (a folder is named as such) and again on the open descriptor:
    a path swapped for a pipe or a device in between is refused too, without a blocking read.
    """
    st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        raise _Refused(None, "a folder named like a file; rename the folder (only files are read)")
    if not stat.S_ISREG(st.st_mode):
        raise _Refused(None, "not a regular file (a pipe or device?); remove it")
    if st.st_size > max_bytes:
        raise _Refused(None, f"the file is {_mb(st.st_size)}, over the {_mb(max_bytes)} limit", needs_hint=True)
    fd = os.open(path, _READ_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refused(None, "not a regular file (a pipe or device?); remove it")
        chunks: list[bytes] = []
        got = 0
        while True:  # a file that grows while it is read stops at one byte over the limit
            chunk = os.read(fd, min(1024 * 1024, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            if got > max_bytes:
                raise _Refused(None, f"the file is over the {_mb(max_bytes)} limit", needs_hint=True)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_bytes(path: Path, where: str, *, max_bytes: int, hint: str = "is it the right file?") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, or ``LoadError`` located at ``where``."""
    try:
        return _read_bounded(Path(path), max_bytes)
    except _Refused as exc:
        raise LoadError(Location(where), exc.with_hint(hint)) from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a link loop, as pathlib words it on some versions
        raise LoadError(Location(where), f"cannot read the file ({_plain(exc)}); {hint}") from None


def decode_text(data: bytes, where: str, *, hint: str = "is it the right file?", bom: bool = False) -> str:
    """UTF-8 text (without a leading byte-order mark when ``bom``), or ``LoadError`` at the line and byte."""
    if bom and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise LoadError(Location(where), f"cannot read the file (UTF-16 text, not UTF-8); {hint}") from None
        line = data.count(b"\n", 0, exc.start) + 1
        raise LoadError(Location(where, line=line),
                        f"cannot read the file (not UTF-8 text at byte {exc.start + 1}); {hint}") from None


def read_text(path: Path, where: str, *, max_bytes: int, hint: str = "is it the right file?", bom: bool = False) -> str:
    """A small UTF-8 text file (``timestamp.txt``, a CSV sheet, a config file), or ``LoadError``."""
    return decode_text(read_bytes(path, where, max_bytes=max_bytes, hint=hint), where, hint=hint, bom=bom)


def holds(path: Path, data: bytes | str) -> bool:
    """Whether ``path`` is a regular file (not a link) holding exactly ``data``: "nothing to write".

    Reads at most ``len(data) + 1`` bytes and never blocks: anything but a regular file of that
    size (a link, a pipe, a device, a folder, a file that is not there) is "no", so the caller
    replaces it instead of reading through it.
    """
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError:  # text no file can hold as UTF-8: the write that follows says so
        return False
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(raw):
            return False
        fd = os.open(path, _READ_FLAGS | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        got = bytearray()
        while len(got) <= len(raw):
            chunk = os.read(fd, min(1024 * 1024, len(raw) + 1 - len(got)))
            if not chunk:
                break
            got += chunk
        return bytes(got) == raw
    except OSError:
        return False
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------- JSON


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _plain(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return getattr(exc, "strerror", None) or type(exc).__name__


#: A whole JSON string (escapes included); the depth scan drops them before it counts brackets.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
#: Every byte but a bracket (``bytes.translate`` deletes them).
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_over(text: str | bytes, limit: int) -> int | None:
    """The 1-based line where ``[``/``{`` nesting first exceeds ``limit``, or None.

    An iterative scan that skips strings, so the check itself cannot overflow the stack. The strings
    and everything but brackets are dropped by C code first (a notebook in a millisecond, not a byte
    at a time in Python); the line is looked for only once the nesting is known to go too deep.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return None
    outside = _JSON_STRING.sub(b"", data)
    unclosed = outside.find(b'"')  # a string that never closes: nothing after it counts
    if unclosed >= 0:
        outside = outside[:unclosed]
    depth = 0
    for b in outside.translate(None, _NOT_BRACKET):
        depth += 1 if b in (0x5B, 0x7B) else -1
        if depth > limit:
            return _line_over(data, limit)
    return None


def _line_over(data: bytes, limit: int) -> int | None:
    """The line of the bracket that first goes deeper than ``limit`` (strings skipped, as above)."""
    depth, at = 0, 0
    while True:
        string = _JSON_STRING.search(data, at)
        end = string.start() if string else len(data)
        quote = data.find(b'"', at, end)  # a quote before the next whole string opens one that never closes
        if quote >= 0:
            end = quote
        for i in range(at, end):
            b = data[i]
            if b in (0x5B, 0x7B):
                depth += 1
                if depth > limit:
                    return data.count(b"\n", 0, i) + 1
            elif b in (0x5D, 0x7D):
                depth -= 1
        if string is None or quote >= 0:
            return None
        at = string.end()


class LoadError(ExamBuilderError):
    """A file that cannot be read safely, with where (file, line or cell) and what to do."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message

    @property
    def problem(self) -> Problem:
        return Problem(self.location, self.message)


def read_json(
    source: Path | str | bytes, where: str, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH,
    what: str = "JSON", hint: str = "is it the right file?",
) -> object:
    """Parse JSON from a file (``Path``) or text/bytes; ``LoadError`` (an ``ExamBuilderError``) located at ``where``.

    ``what`` names the content in messages ("notebook JSON"); ``hint`` says what to do.
    """
    data: str | bytes = (read_bytes(source, where, max_bytes=max_bytes, hint=hint) if isinstance(source, Path)
                         else source)
    if len(data) > max_bytes:
        raise LoadError(Location(where), f"{_mb(len(data))} of {what}, over the {_mb(max_bytes)} limit; {hint}")
    if isinstance(data, bytes):
        data = decode_text(data, where, hint=hint)
    deep = json_depth_over(data, max_depth)
    if deep is not None:
        raise LoadError(Location(where, line=deep), f"{what} nested more than {max_depth} levels deep, "
                                                    f"which no real file is; {hint}")
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise LoadError(Location(where, line=exc.lineno),
                        f"not valid {what} ({exc.msg}, column {exc.colno}); {hint}") from None
    except (RecursionError, ValueError, OverflowError) as exc:  # the scan makes these unreachable; kept at the root
        raise LoadError(Location(where), f"cannot read the {what} ({type(exc).__name__}); {hint}") from None


# ----------------------------------------------------------------------------------- notebooks

NOTEBOOK_HINT = "open it in JupyterLab or restore it from git"
RESAVE = "re-save the notebook from JupyterLab"


def old_notebook_format(raw: object) -> str | None:
    """What to say of a notebook saved in nbformat 3 or older (cells in ``worksheets``), or None.

    Refused by one rule for every reader: the candidate's kernel and grading read plain JSON and
    cannot convert, so converting in some readers would score and show different notebooks.
    """
    version = raw.get("nbformat") if isinstance(raw, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version < 4 and "worksheets" in raw:
        return (f"an nbformat {version} notebook (saved by IPython 2 or older); this tool reads nbformat 4: "
                "open it in JupyterLab and save it, which converts it")
    return None


def notebook_shape_problem(raw: object) -> tuple[int | None, str] | None:
    """``(cell or None, what is wrong)`` if parsed JSON lacks a notebook's structure types; else None."""
    if not isinstance(raw, dict):
        return None, "not a notebook (the file has no list of cells); re-save it from JupyterLab"
    cells = raw.get("cells")
    version = raw.get("nbformat")
    old = old_notebook_format(raw)
    if old is not None:
        return None, old
    if not isinstance(cells, list):
        return None, "not a notebook (the file has no list of cells); re-save it from JupyterLab"
    if not isinstance(version, int) or isinstance(version, bool) or version != 4:
        return None, f"not a notebook this tool reads (nbformat {version!r}, expected 4); re-save it from JupyterLab"
    if not isinstance(raw.get("metadata", {}), dict):
        return None, f"the notebook's metadata is {_kind(raw['metadata'])}, not a mapping; {RESAVE}"
    for n, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            return n, f"the cell is {_kind(cell)}, not a mapping; {RESAVE}"
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            return n, f"the cell's source is {_kind(source)}, not text; {RESAVE}"
        if not isinstance(cell.get("metadata", {}), dict):
            return n, f"the cell's metadata is {_kind(cell['metadata'])}, not a mapping; {RESAVE}"
        for key, value in cell["metadata"].items() if isinstance(cell.get("metadata"), dict) else ():
            if key in ("nbgrader", "exam_builder") and not isinstance(value, dict):
                return n, f"the cell's metadata.{key} is {_kind(value)}, not a mapping; {RESAVE}"
        if not isinstance(cell.get("cell_type", ""), str):
            return n, f"the cell's cell_type is {_kind(cell['cell_type'])}, not text; {RESAVE}"
    for key in ("exam_builder", "nbgrader"):
        value = raw.get("metadata", {}).get(key, {})
        if not isinstance(value, dict):
            return None, f"the notebook's metadata.{key} is {_kind(value)}, not a mapping; {RESAVE}"
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def read_notebook_json(
    path: Path, *, where: str | None = None, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH,
) -> dict:
    """A notebook as plain parsed JSON with its structure types checked, without importing nbformat.

    For readers that must start fast (the candidate's kernel); ``LoadError`` located at file and cell.
    """
    where = where or str(path)
    raw = read_json(path, where, max_bytes=max_bytes, max_depth=max_depth, what="notebook JSON", hint=NOTEBOOK_HINT)
    _check_shape(raw, where)
    return raw  # type: ignore[return-value]  # _check_shape proved it is a mapping


def read_notebook(
    path: Path, *, where: str | None = None, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH,
    validate: bool = True,
) -> nbformat.NotebookNode:
    """A notebook (nbformat 4) from a file, or ``LoadError`` located at the file and cell.

    ``where`` is the file's name in messages (default: the path). ``validate`` also runs nbformat's
    schema (slow on big notebooks; the structure checks here are what readers rely on).
    """
    where = where or str(path)
    raw = read_notebook_json(path, where=where, max_bytes=max_bytes, max_depth=max_depth)

    try:
        return _nbformat_notebook(raw, validate)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        msg = str(exc).strip().split("\n")[0][:200]
        cell = _schema_cell(exc) or _failing_cell(raw, validate)
        raise LoadError(Location(where, cell=cell),
                        f"not a valid notebook ({msg}); re-save it from JupyterLab") from None


def _nbformat_notebook(raw: dict, validate: bool) -> nbformat.NotebookNode:
    """What ``nbformat.reads`` does (join multi-line strings, drop transient keys), without parsing again."""
    import nbformat

    with warnings.catch_warnings():  # nbformat warns about missing cell ids; not the author's problem
        warnings.simplefilter("ignore")
        major, minor = nbformat.reader.get_version(raw)
        nb = nbformat.convert(nbformat.versions[major].to_notebook_json(raw, minor=minor), 4)
        if validate:
            nbformat.validate(nb)
    return nb


def _schema_cell(exc: Exception) -> int | None:
    """The 1-based cell a schema error of nbformat is about (its JSON path starts ``cells, N``), if any."""
    path = list(getattr(exc, "absolute_path", None) or getattr(exc, "path", None) or [])
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        return path[1] + 1
    return None


def _failing_cell(raw: dict, validate: bool) -> int | None:
    """The first cell nbformat fails on alone (when its error does not say which): only on failure."""
    for n, cell in enumerate(raw.get("cells", []), start=1):
        try:
            _nbformat_notebook({**raw, "metadata": {}, "cells": [cell]}, validate)
        except Exception:  # noqa: BLE001 - any failure of this cell alone names it
            return n
    return None


def _check_shape(raw: object, where: str) -> None:
    shape = notebook_shape_problem(raw)
    if shape is not None:
        cell, message = shape
        raise LoadError(Location(where, cell=cell), message)


# ---------------------------------------------------------------------------------- folders


def safe_rel(path: Path, root: Path | None) -> str:
    """``errors.rel`` for a path that may be a looping or dangling link (resolving it would raise)."""
    try:
        return rel(path, root)
    except (RuntimeError, OSError):  # a symlink loop: name it by its folder, which resolves
        return str(Path(safe_rel(path.parent, root)) / path.name) if path.parent != path else str(path)


def absolute(path: Path) -> Path:
    """``path`` made absolute without following links (a relative path from the real working folder)."""
    p = Path(path)
    if not p.is_absolute():
        p = Path(os.path.realpath(os.getcwd())) / p
    return Path(os.path.normpath(p))


def linked_out(path: Path, tops: Sequence[tuple[Path, str]]) -> str | None:
    """Why a course file may not be read through ``path`` (a link out of its folder, a loop), or None.

    ``tops`` are the course's folders with their names for messages, most specific first
    (``source/``, ``rubrics/``, ..., the course root last); the first that holds ``path`` as written
    is its folder. A path outside all of them is not a course file (a sheet a person named
    elsewhere): None. Inside, the path must resolve to a place inside that folder, as
    ``walk_files`` requires of what it lists, and inside the course (the last of ``tops``).
    """
    p = absolute(path)  # as written, from the real working folder: never resolving a link
    course = absolute(tops[-1][0]) if tops else None
    for top, name in tops:
        top = absolute(top)
        if top != p and top not in p.parents:
            continue
        try:
            target = p.resolve(strict=True)
        except FileNotFoundError:
            if os.path.islink(p):
                return "a symbolic link that points nowhere; it is not read: remove it or point it at a file"
            return None  # missing: the reader says so
        except (OSError, RuntimeError):
            return "a symbolic link that loops; it is not read: remove it or point it at a file"
        for folder, what in ((top, name), (course, "the course")):
            real = folder.resolve()
            if target != real and real not in target.parents:
                return (f"a symbolic link out of {what} ({target}); links out of it are not followed: "
                        "copy the file in instead")
        return None
    return None


def require_inside(path: Path, tops: Sequence[tuple[Path, str]], where: str) -> None:
    """``linked_out`` as an error: ``LoadError`` located at ``where`` when the file may not be read."""
    why = linked_out(path, tops)
    if why is not None:
        raise LoadError(Location(where), why)


def walk_files(
    folder: Path, suffixes: tuple[str, ...], label: Callable[[Path], str] = str, *,
    skip: tuple[str, ...] = (".ipynb_checkpoints",), folders_named_like_files: bool = True,
) -> tuple[list[Path], list[Problem]]:
    """Regular files under ``folder`` whose name ends in one of ``suffixes``, sorted, and what was odd.

    Iterative, each real folder once, so a link loop cannot make it go round. Symbolic links are
    followed only to places inside ``folder`` (a link out of it, e.g. out of the course, is an
    error: its content would change without the course changing). A link that loops or points
    nowhere is an error when named like a file we read, else a warning; a folder named like a file
    we read (``x.ipynb/``) is an error, and so is a special file (a pipe would block the reader).
    Each file is listed once, by the first path that reaches it. ``skip``: names (or ``fnmatch``
    patterns) of entries left out; ``folders_named_like_files=False`` when every name matches
    (``suffixes=("",)``: every file), so no folder is an error for its name.
    """
    problems: list[Problem] = []
    files: list[Path] = []
    try:
        top = folder.resolve(strict=True)
    except (OSError, RuntimeError):
        return [], [Problem(Location(safe_rel(folder, None) if label is str else _label(label, folder)),
                            "a folder that cannot be read (a symbolic link loop?); check the path")]
    seen_dirs: set[Path] = {top}
    seen_files: set[Path] = set()
    stack: list[Path] = [folder]
    matches = lambda name: name.endswith(suffixes)  # noqa: E731
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(Location(_label(label, current)),
                                    f"cannot read the folder ({_plain(exc)}); check its permissions"))
            continue
        subdirs: list[Path] = []
        for entry in entries:
            if entry.name in skip or any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in skip):
                continue
            path = Path(entry.path)
            where = str(Path(_label(label, current)) / entry.name)
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    problems.append(Problem(
                        Location(where),
                        "a symbolic link that loops or points nowhere; it is not read: remove it or point it at a file",
                        "error" if matches(entry.name) else "warning",
                    ))
                    continue
                if target != top and top not in target.parents:
                    if target.is_dir() or matches(entry.name):
                        problems.append(Problem(
                            Location(where),
                            f"a symbolic link out of {_label(label, folder)}/ ({target}); links out of it are not "
                            "followed: copy the files in instead",
                        ))
                    continue
            else:
                target = None
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                real = target or path.resolve()
                if folders_named_like_files and matches(entry.name):
                    problems.append(Problem(Location(where), f"a folder named like a {_what(entry.name)} file; "
                                                             "rename the folder (only files are read)"))
                if real in seen_dirs:
                    if target is not None:
                        problems.append(Problem(Location(where), "a symbolic link back to a folder already read "
                                                                 "(a loop); not followed", "warning"))
                    continue
                seen_dirs.add(real)
                subdirs.append(path)
            elif matches(entry.name):
                if not is_file:
                    problems.append(Problem(Location(where),
                                            "not a regular file (a pipe or device?); it is not read: remove it"))
                    continue
                real = target or path.resolve()
                if real not in seen_files:
                    seen_files.add(real)
                    files.append(path)
        stack.extend(reversed(subdirs))
    return sorted(files), problems


def _label(label: Callable[[Path], str], path: Path) -> str:
    try:
        return label(path)
    except (RuntimeError, OSError):
        return str(path)


def _what(name: str) -> str:
    return "notebook (.ipynb)" if name.endswith(".ipynb") else "YAML (.yaml)"


#: One file of a copied folder (an image, a data file next to the items): far above any real one.
MAX_COPY_BYTES = 64 * 1024 * 1024
