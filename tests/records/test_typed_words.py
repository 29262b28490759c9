"""The stored words (sitting event kinds, submit reasons, audit actions) are written and compared only as
``records.states`` members: a scan of the program's source finds no string literal where one is meant, and
no sitting event written past ``records.events.record_event``."""
from __future__ import annotations

import ast
from pathlib import Path

import exam_builder
from exam_builder.model.states import AuditAction, EventKind, SubmitReason

ROOT = Path(exam_builder.__file__).parent
WORDS = set(EventKind.values()) | set(SubmitReason.values()) | set(AuditAction.values())
#: Names a stored word travels under: a literal compared with one of these is a word written as text.
HOLDERS = {"kind", "submit_reason", "reason", "action"}
#: Calls that take a word: function name -> the position of the word among the arguments.
WRITERS = {"record_event": 2, "record": 2, "_event": 0, "log_event": 0, "_submit": 2, "select_last_event_details": 2,
           "select_recent_event": 2}


def _name(node: ast.AST) -> str | None:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _problems(path: Path) -> list[str]:
    where = path.relative_to(ROOT.parent) if path.is_relative_to(ROOT.parent) else path.name
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name == "SittingEvent" and path.name != "events.py":
                out.append(f"{where}:{node.lineno}: a SittingEvent made past record_event")
            pos = WRITERS.get(name or "")
            if pos is not None and len(node.args) > pos and _literal(node.args[pos]) in WORDS:
                out.append(f"{where}:{node.lineno}: {name}(... {node.args[pos].value!r} ...)")
            for kw in node.keywords:
                if kw.arg in {"kind", "submit_reason", "action"} and _literal(kw.value) in WORDS \
                        and name in {"SittingEvent", "Sitting", "AuditEntry", "record_event"}:
                    out.append(f"{where}:{node.lineno}: {kw.arg}={kw.value.value!r}")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_name(s) in HOLDERS for s in sides):
                out += [f"{where}:{node.lineno}: compared with {_literal(s)!r}" for s in sides if _literal(s) in WORDS]
        elif isinstance(node, ast.Assign) and any(_name(t) in {"submit_reason", "action"} for t in node.targets):
            if _literal(node.value) in WORDS:
                out.append(f"{where}:{node.lineno}: assigned {node.value.value!r}")
    return out


def test_no_stored_word_is_written_as_text():
    problems = [p for path in sorted(ROOT.rglob("*.py")) if "migrations" not in path.parts for p in _problems(path)]
    assert problems == []


def test_the_scan_finds_a_word_written_as_text(tmp_path):
    """The scan can fail: each shape it looks for is caught in a sample."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "s.add(SittingEvent(sitting_id=1, kind='submit'))\n"
        "record_event(s, 1, 'start')\n"
        "audit.record(s, 'Lee', 'sitting.void', 'sitting', 1)\n"
        "self._submit(s, sit, 'deadline')\n"
        "ok = sit.submit_reason == 'deadline'\n"
        "ok = kind == 'taken_over'\n"
        "action = 'form.built'\n"
        "record_event(s, 1, EventKind.start)\n", encoding="utf-8")
    found = _problems(sample)
    assert sorted(int(p.split(": ", 1)[0].rsplit(":", 1)[1]) for p in found) == [1, 1, 2, 3, 4, 5, 6, 7], found
