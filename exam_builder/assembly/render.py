"""Render a form's nbgrader source notebook from its manifest (the "Form notebook" contract).

The source notebook carries the keys inside nbgrader's solution and hidden-test regions, which
nbgrader's ``generate_assignment`` strips for the release; our own data sits in
``metadata.exam_builder`` and never holds a key. Rendering is pure and deterministic (fixed
cell ids, sorted JSON), so the same manifest gives the same bytes.
"""
from __future__ import annotations

import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..bank import Bank, Item
from ..errors import ExamBuilderError
from ..kinds import CellSpec, kind_for
from ..model.item import METADATA_KEY, points_text
from ..model.manifest import Manifest, ManifestItem, grade_ids

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
_CELL_ID = re.compile(r"[^a-zA-Z0-9_-]")


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = int(points) if float(points).is_integer() else points
    return meta


def _cell_id(text: str) -> str:
    return _CELL_ID.sub("-", text)[:64]


def _points(points: float) -> str:
    return f"{points_text(points)} point{'' if points == 1 else 's'}"


def scenario_grade_id(scenario_id: str) -> str:
    return _cell_id(f"scenario-{scenario_id}")


def question_source(entry: ManifestItem, item: Item) -> str:
    """The markdown a candidate reads: number, points, stem and the labelled choices (no key)."""
    return kind_for(entry.kind).question_source(entry, item)


def _cell(spec: CellSpec, number: int) -> nbformat.NotebookNode:
    """A kind's cell (``kinds.CellSpec``) as an nbgrader cell with our metadata."""
    meta = {"nbgrader": _nbgrader(spec.grade_id, grade=spec.grade, solution=spec.solution, locked=spec.locked,
                                  points=spec.points),
            METADATA_KEY: {"number": number, "role": spec.role}}
    make = new_code_cell if spec.cell_type == "code" else new_markdown_cell
    return make(spec.source, id=spec.grade_id, metadata=meta)


def render_form(manifest: Manifest, bank: Bank) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one form."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        METADATA_KEY: {
            "generated": True,
            "exam": manifest.exam,
            "form": manifest.form,
            "assignment": manifest.assignment,
            "title": manifest.title,
            "time_limit_minutes": manifest.time_limit_minutes,
            "total_points": manifest.total_points,
            "questions": len(manifest.items),
        },
    }
    cells = []
    header = (
        f"# {manifest.title}\n\n"
        f"**Form {manifest.form}** · {len(manifest.items)} questions · {_points(manifest.total_points)} · "
        f"standard time limit {manifest.time_limit_minutes} minutes (longer with an approved accommodation)\n\n"
        "Choose one answer for each true/false and multiple-choice question. Answer each open-response "
        "question in your own words. You can change any answer until you submit."
    )
    cells.append(new_markdown_cell(header, id="header", metadata={"nbgrader": _nbgrader("header", locked=True)}))
    seen_scenarios: set[str] = set()
    for entry in manifest.items:
        item = bank.items.get(entry.item_id)
        if item is None:
            raise ExamBuilderError(f"form {manifest.assignment}: item {entry.item_id} is no longer in the bank")
        ids = grade_ids(entry.number)
        if entry.scenario and entry.scenario not in seen_scenarios:
            seen_scenarios.add(entry.scenario)
            sc = bank.scenarios[entry.scenario]
            gid = scenario_grade_id(sc.id)
            text = (f"**{sc.title}**\n\n" if sc.title else "") + sc.text
            cells.append(new_markdown_cell(text, id=gid, metadata={
                "nbgrader": _nbgrader(gid, locked=True),
                METADATA_KEY: {"scenario": sc.id, "title": sc.title},
            }))
        kind = kind_for(entry.kind)
        choices = [{"label": lab, "text": text} for lab, text in kind.options(item, tuple(entry.option_order))]
        cells.append(new_markdown_cell(question_source(entry, item), id=ids["question"], metadata={
            "nbgrader": _nbgrader(ids["question"], locked=True),
            METADATA_KEY: {"number": entry.number, "item": entry.item_id, "kind": entry.kind.value,
                           "points": entry.points, "competency": entry.competency,
                           "scenario": entry.scenario, "choices": choices},
        }))
        if not kind.rated and not entry.key:
            raise ExamBuilderError(f"form {manifest.assignment}: question {entry.number} ({entry.item_id}) has no key")
        cells += [_cell(spec, entry.number)
                  for spec in kind.answer_cells(entry, ids["variable"], ids["answer"], ids["grade"])]
    nb.cells = cells
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The notebook as the bytes written to disk (nbformat sorts keys; ids are fixed)."""
    return nbformat.writes(nb, version=4) + "\n"
