"""The layers contract: no module imports from a layer above its own, and no import circle.

The layers are written once, in the ``layers`` block of docs/architecture.md; this test parses
that block. Every import of every module of ``exam_builder`` counts: at module level, inside a
function, under ``TYPE_CHECKING``, ``importlib.import_module("...")`` / ``__import__("...")``, a
dotted ``"exam_builder.x.y"`` or ``"exam_builder.x.y:Name"`` string (a registry), and the code
cells of the package's notebooks (a notebook sits in its folder's layer). A failure names the
file and line of every offending import.
"""
from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "exam_builder"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def layers(text: str) -> list[tuple[str, list[str]]]:
    """``[(layer name, [module prefixes])]`` bottom-up, from the fenced ``layers`` block of the text."""
    block = re.search(r"^```layers\n(.*?)^```", text, re.S | re.M)
    if block is None:
        raise AssertionError(f"{ARCHITECTURE}: no ```layers block")
    out = []
    for line in block.group(1).splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"(\d+)\s+([\w-]+):\s*(.+)", line)
        assert match, f"{ARCHITECTURE}: layers line {line!r} is not `N name: module module ...`"
        assert int(match.group(1)) == len(out), f"{ARCHITECTURE}: layer {line!r} is out of order"
        out.append((match.group(2), match.group(3).split()))
    return out


LAYERS = layers(ARCHITECTURE.read_text(encoding="utf-8"))


def layer_of(module: str, table: list[tuple[str, list[str]]] = LAYERS) -> int | None:
    """The layer of a module: the one whose longest listed prefix names it (``exam_builder.`` implied)."""
    best, length = None, -1
    for n, (_name, prefixes) in enumerate(table):
        for prefix in prefixes:
            full = "exam_builder" if prefix == "exam_builder" else f"exam_builder.{prefix}"
            if (module == full or module.startswith(full + ".")) and len(full) > length:
                best, length = n, len(full)
    return best


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    where: str  # file:line


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module (and notebook) of the package, by dotted name."""
    out = {}
    for path in sorted(package.rglob("*.py")) + sorted(package.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name if path.suffix == ".py" else f"{name}.ipynb"] = path
    return out


def _sources(path: Path) -> list[tuple[str, int]]:
    """(source, first line) of a module, or of each code cell of a notebook."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return [(text, 1)]
    cells = json.loads(text)["cells"]
    return [("".join(c["source"]), 1) for c in cells if c["cell_type"] == "code"]


def _target(name: str, known: dict[str, Path]) -> str:
    """The known module an imported name lands in (``a.b.func`` -> ``a.b``)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def edges(package: Path = PACKAGE) -> list[Edge]:
    """Every import from one module of the package to another, with where it is."""
    known = modules(package)
    out: set[Edge] = set()
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        here = name.removesuffix(".ipynb").split(".")
        if path.suffix == ".ipynb" or not is_package:
            here = here[:-1]  # the package the module (or notebook) is in
        shown = path.relative_to(package.parent)

        def add(target: str, line: int, name: str = name, shown: Path = shown) -> None:
            if target == "exam_builder" or target.startswith("exam_builder."):
                found = _target(target, known)
                if found and found != name:
                    out.add(Edge(name, found, f"{shown}:{line}"))

        for source, first in _sources(path):
            for node in ast.walk(ast.parse(source)):
                line = getattr(node, "lineno", 0) + first - 1
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        add(alias.name, line)
                elif isinstance(node, ast.ImportFrom):
                    base = here[: len(here) - node.level + 1] if node.level else []
                    module = ".".join([*base, *([node.module] if node.module else [])])
                    for alias in node.names:
                        add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module, line)
                elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                    func = node.func
                    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    value = node.args[0].value
                    if called in ("import_module", "__import__") and isinstance(value, str):
                        if (value.startswith(".") and len(node.args) > 1
                                or any(k.arg == "package" for k in node.keywords)):
                            level = len(value) - len(value.lstrip("."))
                            value = ".".join([*here[: len(here) - level + 1], value.lstrip(".")])
                        add(value, line)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = node.value.split(":")[0]
                    if re.fullmatch(r"exam_builder(\.\w+)+", text):
                        add(text, line)
    return sorted(out, key=lambda e: (e.where.split(":")[0], int(e.where.split(":")[1]), e.target))


def upward(all_edges: list[Edge], table: list[tuple[str, list[str]]] = LAYERS) -> list[str]:
    """An import from a lower layer to a higher one, as ``file:line: a (layer) imports b (layer)``."""
    bad = []
    for e in all_edges:
        low, high = layer_of(e.source, table), layer_of(e.target, table)
        if low is not None and high is not None and high > low:
            bad.append(f"{e.where}: {e.source} ({table[low][0]}) imports {e.target} ({table[high][0]})")
    return sorted(bad)


def circles(all_edges: list[Edge]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for e in all_edges:
        graph[e.source].add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


EDGES = edges()


def test_every_module_has_a_layer():
    missing = sorted(m for m in modules() if layer_of(m.removesuffix(".ipynb")) is None)
    assert not missing, f"modules in no layer of {ARCHITECTURE.name}'s layers block: {missing}"


def test_no_import_goes_up_a_layer():
    bad = upward(EDGES)
    assert not bad, f"{len(bad)} imports go up a layer (docs/architecture.md):\n" + "\n".join(bad)


def test_no_import_circle():
    found = circles(EDGES)
    lines = []
    for component in found:
        inside = set(component)
        lines.append(f"circle of {len(component)} modules: {', '.join(component)}")
        lines += [f"  {e.where}: {e.source} imports {e.target}" for e in EDGES
                  if e.source in inside and e.target in inside]
    assert not found, "\n".join(lines)


# -- the scanner itself: each kind of import it must see --------------------------------------

@pytest.fixture
def house(tmp_path):
    pkg = tmp_path / "exam_builder"
    for folder in ("low", "high"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "high" / "top.py").write_text("X = 1\n")
    return pkg


TABLE = [("low", ["exam_builder", "low"]), ("high", ["high"])]


@pytest.mark.parametrize("source", [
    "from exam_builder.high.top import X\n",
    "from ..high import top\n",
    "def f():\n    from ..high.top import X\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from exam_builder.high import top\n",
    "import importlib\nimportlib.import_module('exam_builder.high.top')\n",
    "__import__('exam_builder.high.top')\n",
    "REGISTRY = {'x': 'exam_builder.high.top:X'}\n",
])
def test_the_scanner_sees_every_kind_of_import(house, source):
    (house / "low" / "mod.py").write_text(source)
    bad = upward(edges(house), TABLE)
    assert len(bad) == 1 and bad[0].startswith("exam_builder/low/mod.py:"), bad


def test_the_scanner_sees_a_notebook_and_a_circle(house):
    (house / "low" / "app.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": ["from exam_builder.high.top import X\n"]}]}))
    (house / "high" / "a.py").write_text("from . import b\n")
    (house / "high" / "b.py").write_text("def f():\n    from .a import g\n")
    found = edges(house)
    assert upward(found, TABLE) == [
        "exam_builder/low/app.ipynb:1: exam_builder.low.app.ipynb (low) imports exam_builder.high.top (high)"]
    assert circles(found) == [["exam_builder.high.a", "exam_builder.high.b"]]


def test_the_layers_block_is_parsed():
    assert [name for name, _ in LAYERS][:2] == ["foundation", "kinds"]
    assert layer_of("exam_builder.kinds.base") == 1
    assert layer_of("exam_builder.cli.bank") == len(LAYERS) - 1
