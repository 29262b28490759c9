"""The item model: what an author writes in a notebook cell, as typed data.

Construction is lenient (the parser must be able to represent a broken item so that the
validator can report every problem at once); the rules live in ``bank.validate``.
"""
from __future__ import annotations

import hashlib
import json
import re
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

# defined in ``model.kind`` (no pydantic: the candidate's kernel needs them, not this model); the same objects here
from .kind import LABELS, METADATA_KEY, SCENARIO_TAG, TAGS, TAGS_BY_VALUE, Kind, points_text

_ANCHORED = re.compile(r"^\s*(all|none|both|neither)\s+of\s+the\s+(above|these)\b", re.IGNORECASE)


class Status(str, Enum):
    draft = "draft"
    reviewed = "reviewed"
    live = "live"
    retired = "retired"


class Pool(str, Enum):
    """Which exams an item serves. A practice item shows its key and rationale to whoever takes it,
    so it is never drawn on a certification form, and a certification item never on a practice set
    (``practice.sets`` proves the two pools share no item, id or question)."""

    certification = "certification"
    practice = "practice"


class Where(BaseModel):
    """Where an item was read from; not part of its content or its hash."""

    model_config = ConfigDict(frozen=True)
    file: str = ""
    cell: int = 0  # 1-based


class Choice(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str
    correct: bool = False

    @property
    def anchored(self) -> bool:
        """'All/none of the above' choices keep their last place when choices are shuffled."""
        return bool(_ANCHORED.match(self.text))


class Scenario(BaseModel):
    """A vignette shared by several items that follow it."""

    model_config = ConfigDict(frozen=True)
    id: str
    title: str = ""
    text: str = ""
    where: Where = Field(default_factory=Where, exclude=True)

    def content_hash(self) -> str:
        return _hash(self.model_dump(mode="json"))


class Item(BaseModel):
    """One question of any kind: the fields every kind shares, and ``own``, the kind's own fields.

    ``own`` holds what only one kind has (multiple select's ``scoring``, short answer's ``accept``,
    ``number`` and ``tolerance``): the kind's ``parse_fields`` makes it, its ``validate`` checks it,
    and only the kind reads it (``tests/kinds/test_seam.py``). It is written flat, next to the
    shared fields, so the content (and hash) of items written before ``own`` existed is unchanged;
    a key that is not a shared field is read back into ``own``. ``choices`` are shared by the kinds
    that offer choices; ``rubric`` by the kinds graders rate.
    """

    model_config = ConfigDict(frozen=True)
    id: str
    kind: Kind
    stem: str = ""
    choices: tuple[Choice, ...] = ()
    points: float = 1
    competency: str = ""
    module: int | None = None
    difficulty: str = "medium"
    status: Status = Status.draft
    author: str = ""
    reviewer: str = ""
    rationale: str = ""
    rubric: str | None = None  # open response: id of its rubric in rubrics/
    scenario: str | None = None  # id of the scenario this item belongs to
    pool: Pool = Pool.certification  # 'pool: practice' in the header: for practice sets only
    where: Where = Field(default_factory=Where, exclude=True)
    #: the kind's own fields (see the class), by name; values are str, float or tuple[str, ...]
    own: dict[str, Any] = Field(default_factory=dict)
    #: header fields the parser refused (and reported): the validator does not call them missing too
    unread: frozenset[str] = Field(default=frozenset(), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _gather_own(cls, data: Any) -> Any:
        """Keys that are not shared fields are the kind's own (``Item(scoring="partial")`` too)."""
        if isinstance(data, dict):
            extra = {k: v for k, v in data.items() if k not in cls.model_fields}
            if extra:
                data = {k: v for k, v in data.items() if k in cls.model_fields}
                data["own"] = {**dict(data.get("own") or {}), **extra}
            if "own" in data:  # None is unset (as written); lists read back from JSON are the kind's tuples
                data["own"] = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(data["own"]).items()
                               if v is not None}
        return data

    def __hash__(self) -> int:
        return hash((self.id, self.content_hash()))

    @model_serializer(mode="wrap")
    def _without_unset(self, handler):
        """The kind's own fields flat (none of value None), and no ``pool`` key for a certification item:
        the content (and hash) of items written before those fields existed is unchanged."""
        data = handler(self)
        if isinstance(data, dict):
            own = data.pop("own", None) or {}
            data.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in own.items() if v is not None})
        data = without_empty_scoring(data)
        if isinstance(data, dict) and data.get("pool") in (Pool.certification, Pool.certification.value):
            data.pop("pool")
        return data

    @property
    def practice(self) -> bool:
        return self.pool is Pool.practice

    @property
    def keys(self) -> list[int]:
        """Indices of the choices marked correct (one on a valid single-key item, two or more on multiple select)."""
        return [i for i, c in enumerate(self.choices) if c.correct]

    @property
    def key(self) -> int:
        """Index of the one correct choice; call only on a validated objective item."""
        (k,) = self.keys
        return k

    @property
    def rubric_id(self) -> str:
        return self.rubric or self.id

    def content(self) -> dict:
        """The item's content as JSON-ready data (what the content hash covers)."""
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        """SHA-256 of the canonical content: a changed stem, choice, key or points changes it."""
        return _hash(self.content())


def without_empty_scoring(data):
    """Serialized data without a ``scoring`` of None, so the content and hashes of items (and manifests) of
    kinds that have no scoring rule stay byte-identical to those written before the rule existed."""
    if isinstance(data, dict) and data.get("scoring") is None:
        data.pop("scoring", None)
    return data


def _hash(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


__all__ = ["LABELS", "METADATA_KEY", "SCENARIO_TAG", "TAGS", "TAGS_BY_VALUE", "Choice", "Item", "Kind", "Pool",
           "Scenario", "Status", "Where", "points_text", "without_empty_scoring"]
