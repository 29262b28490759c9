"""Item kinds: one module per kind owns everything that differs between kinds (see ``kinds.base``).

``kind_for(Kind.multiple_choice)`` (or its value ``"multiple_choice"``, or its tag ``"MC"`` via
``kind_for_tag``) gives the kind's hooks. Adding a kind: a module with a ``KIND`` instance of an
``ItemKind`` subclass, a member of ``bank.model.Kind`` (value and tag), and a line in ``_KINDS``.
"""
from __future__ import annotations

from ..bank.model import Kind
from . import multiple_choice, multiple_select, open_response, true_false
from .base import CellSpec, Checker, ItemKind, ReadAnswer

_KINDS: dict[Kind,
             ItemKind] = {k.KIND.kind: k.KIND for k in (true_false, multiple_choice, multiple_select, open_response)}


def kind_for(kind: Kind | str) -> ItemKind:
    """The hooks of a kind, by ``Kind`` member or value; KeyError for an unknown kind."""
    return _KINDS[Kind(kind)]


def kind_for_tag(tag: str) -> ItemKind | None:
    """The kind an item header's ``[TAG]`` names, or None."""
    return next((k for k in _KINDS.values() if k.tag == tag), None)


def all_kinds() -> list[ItemKind]:
    """Every registered kind, in ``Kind`` order (the blueprint's and reports' order)."""
    return [_KINDS[k] for k in Kind if k in _KINDS]


__all__ = ["CellSpec", "Checker", "ItemKind", "ReadAnswer", "all_kinds", "kind_for", "kind_for_tag"]
