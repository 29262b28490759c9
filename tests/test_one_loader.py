"""Every file the toolkit reads goes through ``exam_builder.safeload`` (issue 23): a test that fails
when a module opens a course file any other way.

Each module under ``exam_builder/`` is parsed with ``ast`` and every call that opens or reads a
file by its path is found: ``open()``, ``io.open``/``os.open``/``codecs.open``, ``Path.read_text``/
``read_bytes``, ``Path.open`` with a read mode, ``json.load``, ``yaml.*load``, ``nbformat.read(s)``,
``csv.reader`` on anything but in-memory text, XML ``parse``, ``shutil.copy*`` (a copy reads the file:
a link to ``/dev/zero`` makes one without end), ``zipfile.ZipFile`` for reading, ``pickle``/``numpy``/
``pandas`` loaders, traitlets' config file loaders. Writes (a mode with ``w``, ``a`` or ``x``;
``os.open`` with ``O_WRONLY`` or ``O_CREAT``) are not reads, nor is opening a folder (``os.open``
with ``O_DIRECTORY``: a descriptor to work inside a checked folder, which fails on anything but a
folder). What is left must be in ``ALLOWED``, each entry with why: the loaders themselves, and
files that are the program's own (packaged templates and schemas, a log it wrote).
Parsing text already read (``json.loads`` of a websocket frame) is not a file read.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "exam_builder"

#: (module, function, door) -> why it may read a file by itself. Keep this small: a new entry
#: needs a reason a reviewer accepts, or the read belongs in ``safeload``.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("lab/install.py", "install", "shutil.copytree"):
        "the lab extension's installer copies its own built assets (in the package) into the environment's prefix",
    ("lab/install.py", "install", ".read_text()"):
        "the lab extension's installer copies its own switch file (in the package) into the environment's prefix",
    # -- the loaders themselves
    ("safeload.py", "_read_bounded", "os.open"):
        "THE bounded reader: a regular file (checked on the path and the open descriptor), non-blocking, "
        "at most max_bytes + 1 bytes; every other reader calls it",
    ("safeload.py", "holds", "os.open"):
        "THE 'already written?' check: a regular file, no link, no blocking, at most len(data) + 1 bytes",
    ("safeload.py", "load_yaml", "yaml.load"):
        "THE YAML loader: parses text read by _read_bounded, with its alias, depth and duplicate-key rules",
    ("qti/package.py", "_central_directory", ".open()"):
        "the QTI package loader (one per format): reads a zip's end record (a bounded tail) after "
        "Package.open checked the path is a regular file within MAX_PACKAGE_BYTES",
    ("qti/package.py", "Package.open", "zipfile.ZipFile"):
        "the QTI package loader: opens the zip only after its size and central directory were checked",
    ("qti/package.py", "Package._read_file", "os.open"):
        "the QTI package loader: a folder's member, O_NOFOLLOW | O_NONBLOCK, type and size checked on the "
        "descriptor, read in bounded chunks",
    # -- the program's own files, not the course's
    ("qti/schema.py", "_schema", "etree.parse"):
        "the QTI 3.0 XML schemas packaged with exam-builder (exam_builder/qti/schemas), never a course file",
    ("ui/widgets.py", "<module>", ".read_text()"):
        "widgets.css packaged next to the module, never a course file",
    ("loadtest/rehearse.py", "ServerProcess.alive", ".read_text()"):
        "the rehearsal server's own log in its scratch folder (written by this process), shown on a crash",
    ("course.py", "load_config", "config loader"):
        "nbgrader_config.py is loaded as nbgrader loads it (traitlets executes it); safeload.read_bytes checks "
        "first that it is a regular file of at most 1 MB, so no pipe or device reaches traitlets",
    # -- the one door for writing (files.py) changes a file's mode, reading nothing
    ("files.py", "make_private", "os.open"):
        "opens the program's own file (no link followed, never blocking) only to narrow its mode with fchmod "
        "on the descriptor; nothing is read from it",
}

WRITE_MODE = re.compile(r"[wax]")
MODE = re.compile(r"^[rwxabt+U]+$")
COPIES = {"copy", "copy2", "copyfile", "copytree", "copyfileobj"}
YAML_LOADS = {"load", "safe_load", "full_load", "unsafe_load", "load_all", "safe_load_all", "full_load_all",
              "unsafe_load_all", "compose", "compose_all", "parse", "scan"}


@dataclass(frozen=True)
class Read:
    module: str
    function: str
    door: str
    line: int

    def __str__(self) -> str:
        return f"exam_builder/{self.module}:{self.line} in {self.function}: {self.door}"


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` of a name or attribute chain ('' for anything else)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _mode(call: ast.Call, position: int) -> str | None:
    """The literal mode of an open-like call (positional ``position`` or ``mode=``), if written."""
    node = call.args[position] if len(call.args) > position else next(
        (k.value for k in call.keywords if k.arg == "mode"), None)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _names_in(node: ast.AST) -> set[str]:
    return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)} | {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def door(call: ast.Call) -> str | None:
    """Which file-reading door ``call`` is, or None (not a read of a file by its path)."""
    f = call.func
    name = _dotted(f)
    attr = f.attr if isinstance(f, ast.Attribute) else None
    if isinstance(f, ast.Name) and f.id == "open":
        mode = _mode(call, 1)
        return None if mode and WRITE_MODE.search(mode) else "open()"
    if name in ("io.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open", "tarfile.open", "tokenize.open"):
        mode = _mode(call, 1)
        return None if mode and WRITE_MODE.search(mode) else name
    if name == "os.open":
        flags = _names_in(call.args[1]) if len(call.args) > 1 else set()
        return None if flags & {"O_WRONLY", "O_CREAT", "O_DIRECTORY"} else "os.open"
    if attr in ("read_text", "read_bytes"):
        return f".{attr}()"
    if attr == "open" and name not in ("os.open", "io.open"):
        # Path.open: a literal mode or a text keyword says it is a file; zero-argument .open() of a
        # page or a proctor is not (a path opened that way would still need a read: .read_text)
        mode = _mode(call, 0)
        texty = {k.arg for k in call.keywords} & {"encoding", "newline", "errors", "buffering"}
        if (mode and MODE.match(mode)) or texty:
            return None if mode and WRITE_MODE.search(mode) else ".open()"
        return None
    if name in ("json.load",):
        return "json.load"
    if name.startswith("yaml.") and attr in YAML_LOADS:
        return "yaml.load"
    if name in ("nbformat.read", "nbformat.reads", "nbformat.v4.reads"):
        return name
    if name in ("csv.reader", "csv.DictReader"):
        arg = call.args[0] if call.args else None
        in_memory = isinstance(arg, ast.Call) and _dotted(arg.func) in ("io.StringIO", "StringIO")
        return None if in_memory else name
    if attr in ("parse", "iterparse") and name.split(".")[0] in ("etree", "ET", "ElementTree", "lxml", "minidom",
                                                                 "xml"):
        return "etree.parse"
    if name.startswith("shutil.") and attr in COPIES:
        return f"shutil.{attr}"
    if name in ("zipfile.ZipFile", "ZipFile"):
        mode = _mode(call, 1)
        return None if mode and WRITE_MODE.search(mode) else "zipfile.ZipFile"
    if name in ("pickle.load", "pickle.loads", "np.load", "numpy.load", "tomllib.load", "marshal.load"):
        return name
    if name.split(".")[-1] in ("PyFileConfigLoader", "JSONFileConfigLoader"):  # traitlets opens the file itself
        return "config loader"
    if name.split(".")[0] in ("pd", "pandas") and attr and attr.startswith("read_"):
        return name
    return None


def reads_in(source: str, module: str) -> list[Read]:
    """Every file-reading call in one module's source, with the function it is in."""
    found: list[Read] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.Call):
                d = door(child)
                if d is not None:
                    found.append(Read(module, ".".join(scope) or "<module>", d, child.lineno))
            visit(child, scope)

    visit(ast.parse(source), [])
    return found


def all_reads() -> list[Read]:
    out: list[Read] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        out += reads_in(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    return out


def test_every_file_is_read_through_the_one_loader():
    stray = [r for r in all_reads() if (r.module, r.function, r.door) not in ALLOWED]
    assert not stray, ("read these through exam_builder.safeload (read_bytes, read_text, read_json, read_notebook, "
                       "load_yaml; files.copy_tree for a folder) or records.csvfile.read_csv, or add an entry to "
                       "ALLOWED that says why:\n  "
                       + "\n  ".join(map(str, stray)))


def test_every_allowance_is_still_used():
    """An entry nobody needs any more is a hole for the next direct read: remove it."""
    used = {(r.module, r.function, r.door) for r in all_reads()}
    assert not [k for k in ALLOWED if k not in used], [k for k in ALLOWED if k not in used]
    assert all(len(why) > 30 for why in ALLOWED.values())


@pytest.mark.parametrize("snippet, expected", [
    ("open(p)", "open()"),
    ("open(p, 'rb')", "open()"),
    ("open(p, 'w')", None),
    ("p.read_text(encoding='utf-8')", ".read_text()"),
    ("(root / 'x.json').read_bytes()", ".read_bytes()"),
    ("p.open(newline='', encoding='utf-8')", ".open()"),
    ("p.open('rb')", ".open()"),
    ("p.open('w')", None),
    ("page.open()", None),
    ("json.load(fh)", "json.load"),
    ("json.loads(frame)", None),
    ("yaml.safe_load(text)", "yaml.load"),
    ("nbformat.read(p, as_version=4)", "nbformat.read"),
    ("csv.DictReader(fh)", "csv.DictReader"),
    ("csv.reader(io.StringIO(text, newline=''))", None),
    ("shutil.copyfile(stamp, dest)", "shutil.copyfile"),
    ("shutil.copytree(src, dest)", "shutil.copytree"),
    ("os.open(p, os.O_RDONLY)", "os.open"),
    ("os.open(p, os.O_WRONLY | os.O_CREAT, 0o600)", None),
    ("os.open(d, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)", None),
    ("os.open(p, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK)", "os.open"),
    ("etree.parse(str(p))", "etree.parse"),
    ("zipfile.ZipFile(p)", "zipfile.ZipFile"),
    ("zipfile.ZipFile(fh, 'w')", None),
    ("pd.read_csv(p)", "pd.read_csv"),
    ("PyFileConfigLoader(name, path=root).load_config()", "config loader"),
])
def test_the_scan_finds_each_door(snippet, expected):
    """The scanner itself: a direct read is found (so the test above can fail), a write is not."""
    found = reads_in(f"def f():\n    {snippet}\n", "m.py")
    assert [r.door for r in found] == ([expected] if expected else [])
    assert all(r.function == "f" for r in found)
