"""A form's effective cut score: the one place results, score reports and the program's report ask.

A form's cut is frozen in its manifest when it is built (``manifest.cut_score``, raw points). A
form issued before a standard-setting decision keeps that cut until a recorded, audited re-cut
(``standard recut``) adds an ``eb_form_cut`` row; the newest such row is then the form's cut.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..model.manifest import Manifest
from .queries import standard as q


def effective_cuts(session: Session, forms: Iterable[tuple[Any, Manifest]]) -> dict[int, float]:
    """Each form's cut in points by form id: its newest re-cut, else its manifest's frozen cut.
    ``forms`` are ``(eb_form row, manifest)`` pairs, as ``assembly.forms.load_forms`` gives them."""
    pairs = list(forms)
    recut = q.select_form_cuts(session, [f.id for f, _ in pairs])
    return {f.id: (recut[f.id].cut_score if f.id in recut else m.cut_score) for f, m in pairs}


def effective_cut(session: Session, form: Any, manifest: Manifest) -> float:
    """One form's cut (see ``effective_cuts``)."""
    return effective_cuts(session, [(form, manifest)])[form.id]


def cut_of(cuts: Mapping[int, float], form: Any, manifest: Manifest) -> float:
    """The cut from an ``effective_cuts`` answer, the manifest's when the form was not asked about."""
    return cuts.get(form.id, manifest.cut_score)
