"""What the author's desk in JupyterLab asks of a bank notebook: its problems by cell, its items' review
states, and a new item's text. Plain functions over a course and a notebook path (the server extension
``exam_builder.lab`` calls them in a worker thread and sends the result as JSON).

Contract:

- ``find_course(path, top)``: the course a notebook belongs to, the nearest folder at or above it that
  holds ``nbgrader_config.py``, never above ``top`` (the server's root); None when there is none.
- ``is_bank_notebook(course, path)``: under the course's ``source/`` and not a generated form.
- ``desk_report(course, path)``: exam-builder's own ``check`` of the notebook in its course, with the
  blueprints of ``source/`` (so "the blueprint can no longer be filled" is seen while editing): each
  cell's problems (``cells``, by 1-based index with the cell's id and item id) and the problems of the
  notebook or of other files (``bank``), each with ``severity``, ``message`` and ``fix`` (the message's
  "what to do" part, after its first "; "), and each item cell's review state (``review``: ``state``
  and ``label``, None when the database cannot be read). The same rules as ``exam-builder check``.
- ``new_item_source(course, path, kind)``: the markdown of a new draft item of a kind (``MC``, ``TF``,
  ``MS``, ``SA``, ``OR``) whose header is filled from the notebook: its module (``metadata.exam_builder
  .module``, else its items' most common module), its items' most common competency, and a fresh id
  (the notebook's id prefix and the kind, numbered after the highest id in the bank).
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..assembly.blueprint import check_blueprint
from ..bank.check import check
from ..bank.review import list_reviews
from ..course import Course
from ..errors import Problem
from ..kinds import all_kinds, kind_for_tag
from ..model.item import METADATA_KEY
from ..safeload import read_notebook, safe_rel

CONFIG = "nbgrader_config.py"


def find_course(path: Path, top: Path) -> Path | None:
    """The course root of ``path``: the nearest folder with ``nbgrader_config.py``, at or below ``top``."""
    top = top.resolve()
    here = path.resolve()
    for folder in [here, *here.parents] if here.is_dir() else here.parents:
        if not folder.is_relative_to(top):
            return None
        if (folder / CONFIG).is_file():
            return folder
    return None


def is_bank_notebook(course: Course, path: Path) -> bool:
    """A notebook of the item bank: under ``source/``, and not a form the builder generated."""
    path = path.resolve()
    if path.suffix != ".ipynb" or not path.is_relative_to(course.source_dir.resolve()) or not path.is_file():
        return False
    try:
        nb = read_notebook(path, where=safe_rel(path, course.root), validate=False)
    except Exception:  # noqa: BLE001 (an unreadable notebook is the check's to report, as a bank notebook's)
        return True
    return not (nb.metadata.get(METADATA_KEY) or {}).get("generated")


def _fix(message: str) -> str:
    """The "what to do" half of a message (the house writes "what is wrong; what to do")."""
    return message.split("; ", 1)[1] if "; " in message else ""


def _problem(p: Problem) -> dict:
    return {"severity": p.severity, "message": p.message, "fix": _fix(p.message), "item": p.location.item,
            "where": str(p.location)}


def desk_report(course: Course, path: Path) -> dict:
    """The notebook's problems by cell, the bank's problems, and each item's review state (see the module)."""
    path = path.resolve()
    blueprints = sorted(course.source_dir.rglob("blueprint.y*ml")) if course.source_dir.is_dir() else []
    report = check(course, [path, *blueprints], blueprint_check=check_blueprint, reviews=list_reviews)
    label = safe_rel(path, course.root)
    try:
        nb = read_notebook(path, where=label, validate=False)
        ids = [str(c.get("id", "")) for c in nb.cells]
    except Exception:  # noqa: BLE001 (the check reports why the notebook cannot be read)
        ids = []
    cells: dict[int, dict] = {}
    bank: list[dict] = []
    for p in report.problems:
        if p.location.file == label and p.location.cell:
            n = p.location.cell
            cell = cells.setdefault(n, {"index": n, "id": ids[n - 1] if n <= len(ids) else "", "item": None,
                                        "problems": []})
            cell["item"] = cell["item"] or p.location.item
            cell["problems"].append(_problem(p))
        else:
            bank.append(_problem(p))
    mine = next((nb for nb in report.bank.notebooks if nb.path.resolve() == path), None)
    states = list_reviews(course, report.bank)
    review: dict[str, dict | None] = {}
    for item in mine.items if mine else []:
        state = states.get(item.id) if states is not None else None
        n = item.where.cell
        review[str(n)] = {"item": item.id, "id": ids[n - 1] if n <= len(ids) else "", "status": item.status.value,
                                        "state": state.state.value if state else None,
                                        "label": state.label if state else "review state unknown (no current "
                                                                           "database: run 'exam-builder db upgrade')"}
    return {"notebook": label, "bank_notebook": True, "ok": report.ok, "summary": report.summary(),
            "errors": len(report.errors), "warnings": len(report.warnings), "notes": report.notes,
            "cells": [cells[n] for n in sorted(cells)], "bank": bank, "review": review}


ID_NUMBER = re.compile(r"^(?P<prefix>.*?)-?(?P<n>\d+)$")


def new_item_source(course: Course, path: Path, tag: str) -> dict:
    """A new draft item of kind ``tag`` for this notebook, its header filled in (see the module)."""
    kind = kind_for_tag(tag.upper())
    if kind is None:
        raise ValueError(f"unknown kind {tag!r}; use one of {', '.join(k.tag for k in all_kinds())}")
    path = path.resolve()
    label = safe_rel(path, course.root)
    nb = read_notebook(path, where=label, validate=False)
    from ..bank import load_bank

    bank = load_bank([course.source_dir], lambda p: safe_rel(p, course.root))
    mine = [i for i in bank.items.values() if i.where.file == label]
    module = (nb.metadata.get(METADATA_KEY) or {}).get("module")
    if not isinstance(module, int):
        modules = Counter(i.module for i in mine if i.module is not None)
        module = modules.most_common(1)[0][0] if modules else None
    competencies = Counter(i.competency for i in mine if i.competency)
    competency = competencies.most_common(1)[0][0] if competencies else next(iter(course.policy.competencies), "")
    prefix = Counter(m.group("prefix").rsplit("-", 1)[0] for i in mine if (m := ID_NUMBER.match(i.id)))
    stem = prefix.most_common(1)[0][0] if prefix else Path(label).stem.split("-", 1)[-1][:12] or "item"
    base = f"{stem}-{kind.tag.lower()}"
    taken = set(bank.items)
    n = 1 + max((int(m.group("n")) for i in taken if (m := ID_NUMBER.match(i)) and m.group("prefix") == base),
                default=0)
    while f"{base}-{n:02d}" in taken:
        n += 1
    item_id = f"{base}-{n:02d}"
    fields = [f"competency: {competency}"] if competency else []
    if module is not None:
        fields.append(f"module: {module}")
    fields += ["points: 1", "difficulty: medium", "status: draft", "author: Your Name"]
    body = {
        "TF": ["- [x] True", "- [ ] False"],
        "MC": ["- [ ] A distractor", "- [x] The key", "- [ ] Another distractor"],
        "MS": ["- [x] A right answer", "- [ ] A distractor", "- [x] Another right answer"],
    }.get(kind.tag, [])
    if kind.tag == "SA":
        fields.insert(3, "accept: the answer; another way to write it")
    if kind.tag == "OR":
        fields.insert(3, f"rubric: {item_id}")
    lines = [f"**[{kind.tag}] {item_id}** | " + " | ".join(fields), "", "The question.", ""]
    if body:
        lines += body + [""]
    lines.append("> **Rationale:** Why the key is right, and why the other choices fall short.")
    return {"id": item_id, "source": "\n".join(lines), "kind": kind.tag}
