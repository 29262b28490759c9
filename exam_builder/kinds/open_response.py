"""Open response: written text, rated by graders with the item's rubric (``rubric:``, by default the id).

Authoring: ``**[OR] id** · ... · rubric: <id>`` with no choices. The form has one graded solution
cell (markdown) that nbgrader leaves for manual grading; an answer left as released scores 0.
Nothing here scores: graders do (``grading.rubric_scoring``).
"""
from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from ..errors import Location, Problem
from ..model.kind import Kind, points_text
from .base import CellSpec, Checker, ItemKind, ScoringMode, points_phrase

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..model.item import Item
    from ..model.manifest import ManifestItem
    from ..model.qti import Found, ItemWriter
    from ..model.rubric import Rubric


class OpenResponse(ItemKind):
    kind = Kind.open_response
    name = "open response"
    scoring_mode = ScoringMode.rated
    typed = True
    min_options = 0
    rubric = True
    default_points = None
    paper_area = "page"  # a lined page of its own; graders rate its scanned image
    paper_lines = 22

    def validate(self, item: Item, check: Checker) -> None:
        if item.choices:
            check.error("an open-response item has no choices; remove the '- [ ]' lines or make it [MC]")
        rubric = check.rubrics.get(item.rubric_id)
        if rubric is None and item.rubric_id in check.broken_rubrics:
            check.error(f"rubric {item.rubric_id!r} has errors ({check.broken_rubrics[item.rubric_id]}); fix them "
                        "first")
            return
        if rubric is None:
            how = f"'rubric: {item.rubric}' names" if item.rubric else "by default the item's id names"
            check.error(f"no rubric {item.rubric_id!r} in rubrics/ ({how} it); "
                        f"write rubrics/{item.rubric_id}.yaml with id: {item.rubric_id}")
            return
        if not math.isclose(rubric.max_points, item.points):
            check.error(f"rubric {rubric.id!r} ({rubric.file}) is worth {points_text(rubric.max_points)} points "
                        f"but the item is worth {points_text(item.points)}; make them equal")
        if rubric.item and rubric.item != item.id:
            check.error(f"rubric {rubric.id!r} ({rubric.file}) says it scores item {rubric.item!r}, not this one; "
                        "fix 'item:' in the rubric or 'rubric:' in this item")

    def choice_order(self, item: Item, shuffle: bool, rng: random.Random) -> tuple[int, ...]:
        return ()

    def form_key(self, item: Item, order: tuple[int, ...]) -> str | None:
        return None

    def lint(self, entry: ManifestItem, item: Item, where: Location, assignment: str,
             rubrics: Mapping[str, Rubric]) -> list[Problem]:
        rubric = rubrics.get(entry.rubric or item.rubric_id)
        if rubric is None:
            return [Problem(where, f"open response without its rubric: add rubrics/{item.rubric_id}.yaml")]
        out = []
        if entry.rubric_hash != rubric.content_hash():
            out.append(Problem(where, f"the rubric {rubric.id} changed after form {entry_form(assignment)} was built; "
                                      "graders score with the current rubric", severity="warning"))
        if abs(rubric.max_points - entry.points) > 1e-9:
            out.append(Problem(Location(rubric.file or f"rubrics/{rubric.id}.yaml", item=rubric.id),
                               f"the rubric gives at most {rubric.max_points:g} points but item {item.id} is worth "
                               f"{entry.points:g}; make them agree"))
        return out

    def key_text(self, entry: ManifestItem, item: Item) -> str:
        return ""

    def question_source(self, entry: ManifestItem, item: Item) -> str:
        head = f"**Question {entry.number}** · {points_phrase(entry.points)}"
        return f"{head} · written answer\n\n{item.stem}\n\n*Write your answer in your own words.*"

    def answer_cells(self, entry: ManifestItem, variable: str, answer_id: str, grade_id: str) -> list[CellSpec]:
        """One markdown solution cell that is also the grade cell: graders rate it."""
        return [CellSpec("markdown", "", grade_id, "answer", grade=True, solution=True, points=entry.points)]

    def clean_answer(self, value: object, labels: tuple[str, ...]) -> str | None:
        """Open text is cleaned by the session (``records.text.clean_answer``, it is ``typed``), not here."""
        return None if value is None else str(value)

    def control(self, number: int, options: list[tuple[str, str]], saved: str | None, rows: int = 10):
        """A text box for the written answer, named "Answer to question N", as wide as the page."""
        import ipywidgets as w

        return w.Textarea(value=saved or "", rows=rows, description=self.legend(number),
                          placeholder="Write your answer here", continuous_update=True,
                          layout=w.Layout(width="100%"))

    def control_answer(self, value: object) -> str | None:
        return None if value is None else str(value)

    def control_value(self, answer: str | None) -> object:
        return answer or ""

    def score(self, answer: str | None, key: str, points: float, scoring: str | None = None) -> float:
        raise TypeError("open responses are rated by graders, not scored from a key")

    def picks(self, answer: str | None) -> tuple[str, ...]:
        return ()

    # -- interchange (QTI 3.0) ------------------------------------------------------------
    def qti_item(self, item: Item, w: ItemWriter) -> None:
        """A string response in a ``qti-extended-text-interaction``, rated by people (SCORE is
        ``external-scored="human"``), the rubric before the stem in ``qti-rubric-block view="scorer"``."""
        w.declare_response("single", "string")
        w.rubric_block("scorer", w.rubric_text(item.rubric_id))
        w.extended_text()
        w.human_scored = True

    def qti_fits(self, found: Found) -> int:
        return int(found.interaction == "qti-extended-text-interaction")

    def from_qti(self, found: Found) -> tuple[dict[str, Any], list[str]]:
        return {}, []


def entry_form(assignment: str) -> str:
    """The form's label from its assignment name ("cps-A" -> "A")."""
    return assignment.rsplit("-", 1)[-1]


KIND = OpenResponse()
