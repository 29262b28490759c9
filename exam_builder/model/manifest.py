"""A form frozen: which items, in which order, with which choice order, keys and points.

The manifest is staff-side data (it holds keys). It is stored in ``eb_form.manifest`` and is
what grading scores against; candidates get only the released notebook, which has no keys.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from .item import Kind, without_empty_scoring


def grade_ids(number: int) -> dict[str, str]:
    """nbgrader grade ids and the answer variable of question ``number`` (1-based) of a form."""
    q = f"q{number:02d}"
    return {"question": f"{q}-question", "answer": f"{q}-answer", "grade": q, "variable": q}


class ManifestItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: int  # 1-based position on the form
    item_id: str
    kind: Kind
    points: float
    competency: str
    module: int | None = None
    scenario: str | None = None
    content_hash: str
    difficulty: str = "medium"
    option_order: tuple[int, ...] = ()  # original choice index shown at each position
    key: str | None = None  # the key as this form's labels ("B"; "A,C" for several); objective items only
    rubric: str | None = None  # open response: rubric id
    rubric_hash: str | None = None
    anchor: bool = False  # an anchor item, shared by every form
    scoring: str | None = None  # the item's authored scoring rule, for kinds that have one

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: SerializerFunctionWrapHandler) -> Any:
        """No ``scoring`` key when there is none: manifests (and their hashes) of kinds without one are unchanged."""
        return without_empty_scoring(handler(self))

    @property
    def grade_id(self) -> str:
        """The nbgrader grade id of the graded cell (test cell or open-response answer)."""
        return grade_ids(self.number)["grade"]

    @property
    def answer_grade_id(self) -> str:
        return grade_ids(self.number)["answer"]

    @property
    def variable(self) -> str:
        return grade_ids(self.number)["variable"]


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True)
    exam: str
    form: str  # "A"
    assignment: str  # nbgrader assignment name, "<exam>-<form>"
    title: str
    seed: int
    time_limit_minutes: int
    total_points: float
    cut_score: float  # points needed to pass
    bank_hash: str  # hash of the live items the form was drawn from
    blueprint_hash: str
    items: tuple[ManifestItem, ...]
    scenarios: dict[str, str] = {}  # scenario id -> content hash

    @property
    def notebook(self) -> str:
        """The nbgrader notebook name (without .ipynb): one notebook per form."""
        return self.assignment

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
