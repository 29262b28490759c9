"""The names every layer shares about an item, without the item model: ``Kind`` (and its tags),
``LABELS``, ``METADATA_KEY`` and ``points_text``.

Plain Python (no pydantic): the candidate's kernel imports the kinds, and the kinds need these
names at import but the item model (``model.item``, pydantic) only when they parse, validate or
write an item, which a kernel never does. ``model.item`` re-exports every name here, so either
import gives the same objects.
"""
from __future__ import annotations

import string
from enum import Enum

#: Choice labels, in order: the first choice on a form is "A" (the one definition; kinds, forms, reports use it).
LABELS = string.ascii_uppercase

#: Namespace of exam-builder's own cell and notebook metadata (never inside metadata.nbgrader).
METADATA_KEY = "exam_builder"


class Kind(str, Enum):
    """The kinds of item, in the order blueprints and reports list them; each kind's rules live in
    ``exam_builder.kinds`` (ask ``kinds.kind_for(kind)``, never branch on a member elsewhere)."""

    true_false = "true_false"
    multiple_choice = "multiple_choice"
    multiple_select = "multiple_select"
    open_response = "open_response"
    short_answer = "short_answer"

    @property
    def tag(self) -> str:
        return TAGS_BY_VALUE[self.value]


TAGS_BY_VALUE = {"true_false": "TF", "multiple_choice": "MC", "multiple_select": "MS", "open_response": "OR",
                 "short_answer": "SA"}
TAGS = {tag: Kind(value) for value, tag in TAGS_BY_VALUE.items()}
SCENARIO_TAG = "SCENARIO"


def points_text(points: float) -> str:
    """Points as a person writes them: ``2``, not ``2.0``; ``1.5`` as is."""
    return str(int(points)) if float(points).is_integer() else str(points)
