"""`exam-builder bank sync` and `bank list`: the bank as stored in the notebooks' metadata, and as rows.

``sync_bank`` writes each parsed item into its cell's metadata, all notebooks or none: nothing
is written while the course has errors (``ValidationFailed``) or when one file cannot be written.
``item_rows`` is the bank as plain rows (what ``bank list --json`` prints).
"""
from __future__ import annotations

from pathlib import Path

from ..course import Course
from ..errors import ExamBuilderError, ValidationFailed, rel
from ..kinds import kind_for
from . import Bank, Item, Status, load_bank
from .check import BlueprintCheck, check
from .parse import synced_notebook, write_notebooks


def named(path: Path, paths: tuple[Path, ...] | list[Path]) -> bool:
    """Whether ``path`` is one of the files named, or inside one of the folders named."""
    path = path.resolve()
    for p in paths:
        p = p.resolve()
        if path == p or p in path.parents:
            return True
    return False


def sync_bank(course: Course, paths: list[Path], normalize: bool = False,
              blueprint_check: BlueprintCheck | None = None) -> list[Path]:
    """Store each parsed item of the notebooks named (default: all) in its cell's metadata.

    Nothing is written while ``check`` finds an error (blueprints too with ``blueprint_check``,
    which the CLI passes).

    Returns the notebooks rewritten. The rest of the course is read as context only.
    """
    report = check(course, list(paths) or None, blueprint_check)
    if report.errors:
        raise ValidationFailed(report.problems)
    updates = {}
    for nb in report.bank.notebooks:
        if paths and not named(nb.path, paths):
            continue  # read as context only
        updated = synced_notebook(nb.path, nb.items, nb.scenarios, normalize=normalize)
        if updated is not None:
            updates[nb.path] = updated
    try:
        write_notebooks(updates, course.root)
    except OSError as exc:
        raise ExamBuilderError(f"cannot write {exc.filename}: {exc.strerror}; nothing was changed") from exc
    return list(updates)


def list_bank(course: Course, paths: list[Path]) -> Bank:
    """The bank of the files or folders named (default: every notebook under source/)."""
    targets = list(paths) or [course.source_dir]
    for path in targets:
        if not path.exists():
            raise ExamBuilderError(f"{rel(path, course.root)}: no such file or folder; check the path")
        course.require_inside(path)  # the link rule of `check`
    return load_bank(targets, lambda p: rel(p, course.root))


def item_rows(bank: Bank, reviews: dict | None = None) -> list[dict]:
    """One plain row per item, in the bank's order (the JSON of ``bank list``).

    ``reviews`` (item id -> ``bank.review.ReviewState``) adds each item's recorded review;
    without it (no database) the review fields are None. ``waiting_for_review`` (what ``bank list
    --waiting`` keeps) is an item a reviewer has to act on: its header says live (what ``bank review
    --all-pending`` reviews and ``build`` draws from) and its current content is not approved. A draft,
    reviewed or retired header is not offered: it waits for its author, not a reviewer, and says so.
    """
    def review_fields(item: Item) -> dict:
        state = (reviews or {}).get(item.id)
        if state is None:
            return {"review": None, "review_state": None, "waiting_for_review": None, "reviewed_by": None,
                    "reviewed_on": None}
        d = state.decision
        offered = item.status is Status.live
        label = state.label
        if state.waiting and not offered:
            label = f"not offered (status: {item.status.value}); reviewed once its header says live"
        return {"review": label, "review_state": state.state.value, "waiting_for_review": state.waiting and offered,
                "reviewed_by": d.reviewer if d else None, "reviewed_on": d.when if d else None}

    return [
        {
            "id": item.id,
            "kind": item.kind.value,
            "competency": item.competency,
            "module": item.module,
            "points": int(item.points) if float(item.points).is_integer() else item.points,
            "status": item.status.value,
            "pool": item.pool.value,
            "difficulty": item.difficulty,
            "scenario": item.scenario,
            "rubric": item.rubric_id if kind_for(item.kind).rated else None,
            "author": item.author,
            "reviewer": item.reviewer,
            "file": item.where.file,
            "cell": item.where.cell,
            **review_fields(item),
        }
        for item in bank.items.values()
    ]
