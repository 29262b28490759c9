"""Pre-flight lint of forms before release, and the scan proving ``release/`` holds no key.

Manifest checks: every objective item keyed (exactly one key in the bank, a key label on the
form), equal total points and equal points per competency across forms, unique grade ids,
every open response with its rubric (same hash, same points). Release scan: every file under
``release/`` (notebook source, metadata, outputs, attachments decoded, any other file) is
searched for key material; any finding stops the release. Pure: the workflow that loads
the stored forms and runs these (``exam-builder lint``) is ``build.lint_stored``.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..bank import Bank
from ..errors import Location, Problem
from ..kinds import kind_for
from ..model.manifest import Manifest
from ..model.rubric import Rubric
from ..safeload import MAX_COPY_BYTES, LoadError, read_bytes, read_json, walk_files

if TYPE_CHECKING:
    import nbformat


#: Patterns that only key material matches; each with what it means.
KEY_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"BEGIN SOLUTION|END SOLUTION"), "an nbgrader solution region"),
    (re.compile(r"BEGIN HIDDEN TESTS|END HIDDEN TESTS"), "an nbgrader hidden-test region"),
    (re.compile(r"\bassert\b[^\n]{0,40}\bq\d{2,}\b"), "a check of an answer variable"),
    (re.compile(r"\bq\d{2,}\s*==\s*\\?[\"'][A-Z]"), "a comparison of an answer with a key label"),
    (re.compile(r"\bq\d{2,}\s*=\s*\\?[\"'][A-Z]\\?[\"']"), "a key label bound to a question"),
    (re.compile(r"\"(correct|key|keys|option_order|content_hash|rationale|rubric_hash)\\?\"\s*:"),
     "a key field in data"),
    (re.compile(r"'(correct|key|option_order|rationale)'\s*:"), "a key field in data"),
    (re.compile(r"(?m)^\s*[-*]\s+\[[xX]\]"), "a choice marked correct in the author's format"),
    (re.compile(r"\*\*Rationale:?\*\*", re.IGNORECASE), "an item rationale"),
]
_WS = re.compile(r"\s+")
MIN_RATIONALE = 24  # shorter rationale text is too generic to prove a leak


def _loc(manifest: Manifest, number: int | None = None, item: str | None = None) -> Location:
    return Location(f"form {manifest.assignment}", column=f"q{number:02d}" if number else None, item=item)


def lint_manifests(manifests: list[Manifest], bank: Bank, rubrics: Mapping[str, Rubric]) -> list[Problem]:
    """Everything that must hold of the forms before they are rendered and released."""
    problems: list[Problem] = []
    for m in manifests:
        numbers = [i.number for i in m.items]
        if numbers != list(range(1, len(m.items) + 1)):
            problems.append(Problem(_loc(m), "questions are not numbered 1, 2, ... in order"))
        grade = [i.grade_id for i in m.items] + [i.answer_grade_id for i in m.items if not kind_for(i.kind).rated]
        dup = sorted({g for g in grade if grade.count(g) > 1})
        if dup:
            problems.append(Problem(_loc(m), f"grade ids {', '.join(dup)} are used twice"))
        ids = [i.item_id for i in m.items]
        if len(set(ids)) != len(ids):
            problems.append(Problem(_loc(m), "an item appears twice on the form"))
        for e in m.items:
            item = bank.items.get(e.item_id)
            if item is None:
                problems.append(Problem(_loc(m, e.number, e.item_id), "the item is not in the bank"))
                continue
            where = Location(item.where.file or f"form {m.assignment}", cell=item.where.cell or None, item=item.id)
            problems += kind_for(e.kind).lint(e, item, where, m.assignment, rubrics)
    if len(manifests) > 1:
        first = manifests[0]

        def by_comp(m: Manifest) -> dict[str, float]:
            out: dict[str, float] = {}
            for i in m.items:
                out[i.competency] = out.get(i.competency, 0) + i.points
            return dict(sorted(out.items()))

        for m in manifests[1:]:
            a, b = sum(i.points for i in first.items), sum(i.points for i in m.items)
            if abs(a - b) > 1e-9:
                problems.append(Problem(_loc(m),
                                        f"form {m.form} has {b:g} points, form {first.form} has {a:g}; forms must be "
                                        "equal"))
            if by_comp(m) != by_comp(first):
                problems.append(Problem(_loc(m),
                                        f"points per competency differ from form {first.form}: {by_comp(m)} vs "
                                        f"{by_comp(first)}"))
    for m in manifests:
        if abs(sum(i.points for i in m.items) - m.total_points) > 1e-9:
            problems.append(Problem(_loc(m),
                                    f"the items add up to {sum(i.points for i in m.items):g} points, the form says "
                                    f"{m.total_points:g}"))
    return problems


def lint_notebook(nb: nbformat.NotebookNode, label: str) -> list[Problem]:
    """Unique nbgrader grade ids in a rendered source notebook."""
    seen: dict[str, int] = {}
    problems = []
    for n, cell in enumerate(nb.cells, start=1):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid is None:
            continue
        if gid in seen:
            problems.append(Problem(Location(label, cell=n), f"grade id {gid!r} is also used by cell {seen[gid]}"))
        seen[gid] = n
    return problems


# -- the release scan -----------------------------------------------------------------------
def _decoded(value: str) -> str:
    """Text hidden in a base64 payload (attachments, outputs), if it decodes to text."""
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""


def _payloads(node: object) -> Iterable[str]:
    """The JSON text of a structure, every string in it, and the text of every base64 string that decodes."""
    yield json.dumps(node, ensure_ascii=False, sort_keys=True)
    yield from _strings(node)


def _strings(node: object) -> Iterable[str]:
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node
        if len(node) >= 8:
            text = _decoded(node)
            if text:
                yield text


def _find(text: str, rationales: Mapping[str, str]) -> list[str]:
    found = []
    for pattern, what in KEY_PATTERNS:
        m = pattern.search(text)
        if m:
            found.append(f"{what} ({m.group(0).strip()[:40]!r})")
    if rationales:
        flat = _WS.sub(" ", text)
        for item_id, rat in rationales.items():
            if rat in flat:
                found.append(f"the rationale of item {item_id}")
    return found


def rationale_texts(bank: Bank, item_ids: Iterable[str] | None = None) -> dict[str, str]:
    ids = item_ids if item_ids is not None else bank.items
    out = {}
    for iid in ids:
        item = bank.items.get(iid)
        if item and item.rationale:
            text = _WS.sub(" ", item.rationale).strip()
            if len(text) >= MIN_RATIONALE:
                out[iid] = text
    return out


def scan_file(path: Path, label: str, rationales: Mapping[str, str]) -> list[Problem]:
    """Key material in one file: per cell for notebooks, per line for anything else."""
    problems: list[Problem] = []
    try:  # a file that cannot be scanned (a pipe, a link to a device, too big) cannot be released either
        data = read_bytes(path, label, max_bytes=MAX_COPY_BYTES, hint="a released file cannot hold that")
    except LoadError as exc:
        return [exc.problem]
    text = data.decode("utf-8", errors="replace")
    nb = None
    if path.suffix == ".ipynb":
        try:  # bounded in size and depth; a file that is not safe JSON is scanned line by line below
            nb = read_json(data, label)
        except LoadError:
            nb = None
    if isinstance(nb, dict):
        parts: list[tuple[Location, object]] = [(Location(label, column="metadata"), nb.get("metadata", {}))]
        for n, cell in enumerate(nb.get("cells", []), start=1):
            parts.append((Location(label, cell=n), cell))
        rest = {k: v for k, v in nb.items() if k not in ("cells", "metadata")}
        parts.append((Location(label), rest))
        for loc, node in parts:
            blob = "\n".join(_payloads(node))
            for what in _find(blob, rationales):
                problems.append(Problem(loc, f"key material in a released file: {what}"))
        return problems
    for n, line in enumerate(text.splitlines() or [text], start=1):
        decoded = _decoded(line.strip()) if len(line.strip()) >= 16 else ""
        for what in _find(line + ("\n" + decoded if decoded else ""), rationales):
            problems.append(Problem(Location(label, line=n), f"key material in a released file: {what}"))
    return problems


def scan_release(release_dir: Path, rationales: Mapping[str, str],
                 label: Callable[[Path], str] = lambda p: str(p)) -> list[Problem]:
    """Scan every file under ``release_dir`` (hidden files included) for key material."""
    if not release_dir.exists():
        return []
    # every file once, no link loop, no link out of release/; a pipe or a device is an error, not a hang
    files, problems = released_files(release_dir, label)
    for path in files:
        if path.name == ".gitkeep" and path.stat().st_size == 0:
            continue
        problems += scan_file(path, label(path), rationales)
    return [Problem(p.location,
                    p.message + "; the release was stopped: remove the file or fix the form, then build again")
            for p in problems]


def released_files(release_dir: Path,
                   label: Callable[[Path], str] = lambda p: str(p)) -> tuple[list[Path], list[Problem]]:
    """Every regular file under ``release_dir`` (``safeload.walk_files``) and the errors of what is not one."""
    files, problems = walk_files(release_dir, ("",), label, skip=(), folders_named_like_files=False)
    return files, [p for p in problems if p.is_error]
