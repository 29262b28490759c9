"""The query layer holds: no SQL outside ``records/queries`` and ``records/migrations``.

A source scan (``ast``): a module elsewhere may not import SQL builders from sqlalchemy, run a
statement on a session or connection, lock rows through ``session.get``, or ask which
database it talks to. ``records/db.py`` is the one exception: it sets up engines (SQLite's
pragmas and ``BEGIN IMMEDIATE`` run on the driver's connection there).
"""
from __future__ import annotations

import ast
from pathlib import Path

import exam_builder

PACKAGE = Path(exam_builder.__file__).parent
ALLOWED = ("records/queries/", "records/migrations/")
ENGINE_SETUP = {"records/db.py"}  # engine setup: PRAGMAs and BEGIN on the driver's connection
BUILDERS = {"select", "insert", "update", "delete", "text", "func", "case", "or_", "and_", "not_", "distinct",
            "bindparam", "exists", "literal", "literal_column", "union", "union_all"}
RUNS = {"execute", "scalars", "scalar", "exec_driver_sql", "query"}


def offences(path: Path, rel: str) -> list[str]:
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            bad = sorted(a.name for a in node.names if a.name in BUILDERS)
            if bad:
                out.append(f"{rel}:{node.lineno}: imports {', '.join(bad)} from {node.module}")
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlalchemy" and a.name != "sqlalchemy.orm"
                                                  for a in node.names):
            out.append(f"{rel}:{node.lineno}: imports sqlalchemy itself")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in RUNS and rel not in ENGINE_SETUP:
                out.append(f"{rel}:{node.lineno}: runs SQL (.{node.func.attr}(...))")
            if node.func.attr == "get" and any(k.arg == "with_for_update" for k in node.keywords):
                out.append(f"{rel}:{node.lineno}: locks a row through session.get")
            if node.func.attr in ("with_for_update", "prefix_with", "on_conflict_do_nothing"):
                out.append(f"{rel}:{node.lineno}: .{node.func.attr}: a dialect difference outside dialect.py")
        elif (isinstance(node, ast.Attribute) and node.attr == "name" and isinstance(node.value, ast.Attribute)
              and node.value.attr == "dialect"):
            out.append(f"{rel}:{node.lineno}: asks dialect.name")
    return out


def test_no_sql_outside_the_query_layer():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if not rel.startswith(ALLOWED):
            found += offences(path, rel)
    assert not found, "SQL outside exam_builder/records/queries (move it into a query module):\n" + "\n".join(found)


def test_dialect_names_only_in_dialect_module():
    found = []
    for path in sorted((PACKAGE / "records" / "queries").glob("*.py")):
        if path.name != "dialect.py":
            found += [o for o in offences(path, path.relative_to(PACKAGE).as_posix())
                      if "dialect.name" in o or "with_for_update" in o or "prefix_with" in o or "session.get" in o]
    assert not found, "dialect differences belong in records/queries/dialect.py:\n" + "\n".join(found)


def test_the_scan_finds_sql():
    """The scan itself works: a module with SQL is reported at its lines."""
    src = ("from sqlalchemy import select, text\n"
           "def f(s):\n    return s.execute(select(1)).scalar()\n"
           "def g(s):\n    return s.get_bind().dialect.name\n")
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.py"
        p.write_text(src)
        got = offences(p, "m.py")
    assert any("m.py:1: imports select, text" in o for o in got)
    assert any("m.py:3: runs SQL (.execute" in o for o in got)
    assert any("m.py:5: asks dialect.name" in o for o in got)
