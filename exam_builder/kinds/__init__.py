"""Item kinds: one module per kind owns everything that differs between kinds (see ``kinds.base``).

``kind_for(Kind.multiple_choice)`` (or its value ``"multiple_choice"``, or its tag ``"MC"`` via
``kind_for_tag``) gives the kind's hooks. Adding a kind: a module with a ``KIND`` instance of an
``ItemKind`` subclass, a member of ``model.item.Kind`` (value and tag), and a line in ``_KINDS``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.kind import Kind
from . import multiple_choice, multiple_select, open_response, short_answer, true_false
from .base import CellSpec, Checker, ItemKind, ReadAnswer, ScoringMode

if TYPE_CHECKING:  # the candidate's kernel imports the kinds: no manifest module at run time
    from ..model.manifest import Manifest, ManifestItem

_KINDS: dict[Kind, ItemKind] = {k.KIND.kind: k.KIND for k in (true_false, multiple_choice, multiple_select,
                                                            open_response, short_answer)}


def kind_for(kind: Kind | str) -> ItemKind:
    """The hooks of a kind, by ``Kind`` member or value; KeyError for an unknown kind."""
    return _KINDS[Kind(kind)]


def kind_for_tag(tag: str) -> ItemKind | None:
    """The kind an item header's ``[TAG]`` names, or None."""
    return next((k for k in _KINDS.values() if k.tag == tag), None)


def keyed_entries(manifest: Manifest) -> list[ManifestItem]:
    """A form's questions scored from a key (every kind that is not rated), in form order."""
    return [e for e in manifest.items if not kind_for(e.kind).rated]


def rated_entries(manifest: Manifest) -> list[ManifestItem]:
    """A form's questions rated by graders with a rubric, in form order."""
    return [e for e in manifest.items if kind_for(e.kind).rated]


def all_kinds() -> list[ItemKind]:
    """Every registered kind, in ``Kind`` order (the blueprint's and reports' order)."""
    return [_KINDS[k] for k in Kind if k in _KINDS]


__all__ = ["CellSpec", "Checker", "ItemKind", "ReadAnswer", "ScoringMode", "all_kinds", "keyed_entries", "kind_for",
           "kind_for_tag", "rated_entries"]
