"""Read one submitted notebook as data, score its objective answers, find tampering.

This runs in worker processes, so it is pure: it gets the form's staff-side truth (a
``FormTruth``: keys and points from the manifest, cell flags and checksums from nbgrader's
gradebook, locked sources from the *released* notebook) and one submission folder, and returns
plain data. Nothing from the submission is executed, evaluated or unpickled: the notebook is
parsed as JSON (through ``safeload``: size and depth limits, located messages) and each
objective answer is matched against one strict pattern.

A file that cannot be read at all (not JSON, too deep, binary, not a notebook's shape) is *set
aside*: flagged ``invalid_notebook`` with a located message, every score left pending (never a 0
the candidate did not earn), not rated, not settled as blank, until the file is replaced and
graded again. A notebook that parses but has some cells of the wrong structure is scored from
the cells that can be read, and flagged.

nbgrader's rules are followed where they decide points, so the result equals ``nbgrader
autograde`` on an honest submission: the last cell with a grade id counts (its
DeduplicateIds), a solution cell whose checksum is unchanged is "No response.", an open
response left as released scores 0, anything else written waits for a grader.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.utils import compute_checksum, parse_utc

from ..assembly.release import write_atomic
from ..errors import Location
from ..files import check_owned, private_dir, remove_file
from ..kinds import kind_for
from ..model.states import OBJECTIVE_FLAG_KINDS, ScoreFlagKind
from ..safeload import (
    MAX_JSON_BYTES,
    LoadError,
    notebook_shape_problem,
    old_notebook_format,
    read_bytes,
    read_json,
    read_text,
)

NO_RESPONSE = "No response."
#: The flag kind of a submission that could not be read at all: set aside, everything pending.
SET_ASIDE = ScoreFlagKind.invalid_notebook
MAX_TIMESTAMP_BYTES = 256  # nbgrader's timestamp is 30 characters
DAMAGED = "the file is damaged"

#: Flag kinds written by objective scoring (re-running replaces exactly these).
FLAG_KINDS = OBJECTIVE_FLAG_KINDS


@dataclass(frozen=True)
class CellTruth:
    """What nbgrader's gradebook says a cell is (and the released source of a locked cell)."""

    grade_id: str
    cell_type: str
    locked: bool
    checksum: str | None
    is_grade: bool = False
    is_solution: bool = False
    points: float | None = None
    released_source: str | None = None  # locked cells: what the candidate was given (key-free)
    unanswered_source: str | None = None  # solution cells: the released text, whose checksum is nbgrader's


@dataclass(frozen=True)
class ObjectiveKey:
    """One question scored from a key: where its answer is and what scores (its kind decides how)."""

    number: int
    item_id: str
    answer_id: str  # grade id of the answer cell, "qNN-answer"
    grade_id: str  # grade id of the check (grade) cell, "qNN"
    pattern: str  # the one accepted answer source, as a regex
    key: str  # the key's label on this form
    labels: tuple[str, ...]  # labels shown on this form
    points: float
    kind: str  # a bank Kind value: its ``kinds`` module reads and scores the answer
    scoring: str | None = None  # the item's authored scoring rule, for kinds that have one
    also: tuple[str, ...] = ()  # other answers accepted by a key-validation decision (``grading.adjust``)
    credit: bool = False  # a decision credits everyone with the points
    dropped: bool = False  # a decision took the item out of scoring: 0 points, out of the total

    def points_for(self, answer: str | None) -> float:
        """The points an answer earns: the kind's score against the key and every accepted answer."""
        if self.credit:
            return self.points
        if self.dropped:
            return 0.0
        kind = kind_for(self.kind)
        return max(kind.score(answer, k, self.points, self.scoring) for k in (self.key, *self.also))


@dataclass(frozen=True)
class FormTruth:
    """Everything a worker needs to score one form's submissions (staff side only)."""

    assignment: str
    notebook: str
    cells: dict[str, CellTruth]  # every gradebook source cell by grade id
    objective: tuple[ObjectiveKey, ...]
    open_ids: tuple[str, ...]  # grade ids of open-response answer cells
    autograded_dir: str  # where key-free copies for the formgrader go ("" = none)
    root: str = ""  # the course root: messages name files relative to it
    exam: str = ""  # the exam's name, for the "what to do" in messages

    @property
    def exam_name(self) -> str:
        return self.exam or self.assignment.rsplit("-", 1)[0]

    @property
    def solution_ids(self) -> list[str]:
        return [g for g, c in self.cells.items() if c.is_solution]


@dataclass
class Scored:
    """The outcome for one submission folder: plain data, cheap to send between processes."""

    student: str
    timestamp: dt.datetime | None = None
    auto: dict[str, float | None] = field(default_factory=dict)  # grade id -> auto_score
    comments: dict[str, str | None] = field(default_factory=dict)  # solution grade id -> auto_comment
    flags: list[tuple[str | None, ScoreFlagKind, str]] = field(default_factory=list)  # (grade id, kind, details)
    answers: dict[int, str | None] = field(default_factory=dict)  # question number -> label read
    missing: bool = False  # no notebook: nbgrader gives 0 and no manual grading
    set_aside: str | None = None  # why the file could not be read (the located message), if so

    def put_aside(self, truth: FormTruth, message: str) -> "Scored":
        """Nothing readable: flag it and leave every score pending (see the module)."""
        self.set_aside = message
        self.flags.append((None, SET_ASIDE, message))
        self.auto = dict.fromkeys([q.grade_id for q in truth.objective] + list(truth.open_ids))
        self.answers = {q.number: None for q in truth.objective}
        self.comments = {gid: None for gid in truth.solution_ids}
        return self


def answer_pattern(variable: str, kind: str) -> str:
    """The only answer sources a kind accepts, e.g. ``qNN = "B"`` (or ``'B'``), or ``qNN = None``."""
    return kind_for(kind).answer_pattern(variable)


def shown(value: object, limit: int = 60) -> str:
    """A value from a submission as it may appear in a message: repr'd (no control characters), short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__)


def not_a_notebook(nb: object, where: str) -> str | None:
    """Why parsed JSON is no notebook at all (nothing in it can be scored), or None."""
    if isinstance(nb, dict) and isinstance(nb.get("cells"), list):
        return None
    old = old_notebook_format(nb)
    if old is not None:
        return f"{where}: {old}"
    held = "a mapping with no list of cells" if isinstance(nb, dict) else _kind(nb)
    return f"{where}: not a notebook (the file holds {held}); the file is damaged"


def where_of(truth: FormTruth, path: Path) -> str:
    """A submission file as messages name it: relative to the course root when it is under it."""
    if truth.root:
        try:
            return str(path.relative_to(truth.root))
        except ValueError:
            pass
    return str(path)


def set_aside_message(exam: str, problem: str) -> str:
    """The located problem, and what it means and what to do (said the same way by grade and the queue)."""
    return (f"{problem}. Set aside: no score is given (results stay pending) and its written answers are "
            f"not rated until the file is replaced (`exam-builder collect {exam}` writes it again from the "
            f"response journal) and `exam-builder grade {exam}` is run again")


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, str):
        return src
    if isinstance(src, list):
        try:
            return "".join(src)
        except TypeError:  # not all strings: tampered
            return "".join(s for s in src if isinstance(s, str))
    return ""


def nbgrader_checksum(truth: CellTruth, source: str) -> str:
    """nbgrader's checksum of ``source`` in a cell with the gradebook's (true) flags."""
    meta = {"grade": truth.is_grade, "solution": truth.is_solution, "locked": truth.locked, "grade_id": truth.grade_id}
    if truth.is_grade:
        meta["points"] = truth.points
    return compute_checksum(NotebookNode({"cell_type": truth.cell_type, "source": source,
                                          "metadata": NotebookNode({"nbgrader": NotebookNode(meta)})}))


def unchanged(truth: CellTruth, source: str) -> bool:
    """nbgrader's test for "No response.": the checksum of the cell equals the released one.

    With the gradebook's flags fixed, the checksum depends only on the source, so comparing
    with the released source (checked once against nbgrader's checksum) gives the same answer.
    """
    if truth.unanswered_source is not None:
        return source == truth.unanswered_source
    return nbgrader_checksum(truth, source) == truth.checksum


def parse_timestamp(text: str) -> dt.datetime | None:
    """nbgrader's ``parse_utc``, with a fast path for its own exchange format ("... UTC")."""
    if not text:
        return None
    if text.endswith(" UTC") and len(text) == 30:
        try:
            return dt.datetime.strptime(text[:-4], "%Y-%m-%d %H:%M:%S.%f")
        except ValueError:
            pass
    return parse_utc(text)


def _read_timestamp(truth: FormTruth, folder: Path, result: Scored) -> str | None:
    """The text of ``timestamp.txt`` (None when absent or unreadable: flagged, scored without one).

    Through ``safeload``: a pipe, a folder or a link to a device in its place is refused by its
    type, never waited on or read without end.
    """
    path = folder / "timestamp.txt"
    if not path.exists() and not path.is_symlink():
        return None
    where = where_of(truth, path)
    try:
        text = read_text(path, where, max_bytes=MAX_TIMESTAMP_BYTES, hint="a timestamp is one short line")
    except LoadError as exc:
        result.flags.append((None, ScoreFlagKind.bad_timestamp, f"{exc}; scored without a submission time"))
        return None
    try:
        result.timestamp = parse_timestamp(text.strip())
    except (ValueError, OverflowError, TypeError) as exc:
        result.flags.append((None, ScoreFlagKind.bad_timestamp, f"{where}: not a time ({shown(str(exc), 120)}); "
                                                                 "scored without a submission time"))
        return None
    return text


def _nothing_readable(truth: FormTruth, result: Scored) -> Scored:
    """No usable notebook: every objective question scores 0, open responses wait for graders."""
    for q in truth.objective:
        result.auto[q.grade_id] = 0.0
        result.answers[q.number] = None
    for gid in truth.open_ids:
        result.auto[gid] = 0.0 if result.missing else None
    if not result.missing:
        result.comments = {gid: None for gid in truth.solution_ids}
    return result


def score_submission(truth: FormTruth, folder: str) -> Scored:
    """Score one ``submitted/<candidate>/<assignment>/`` folder; never raises on bad content."""
    path = Path(folder)
    result = Scored(student=path.parent.name)
    stamp = _read_timestamp(truth, path, result)
    nb_path = path / f"{truth.notebook}.ipynb"
    if not nb_path.exists() and not nb_path.is_symlink():
        result.missing = True
        result.flags.append((None, ScoreFlagKind.missing_notebook,
                             f"no {nb_path.name} in the submission; every question scores 0"))
        return _nothing_readable(truth, result)
    where = where_of(truth, nb_path)
    try:  # the bytes once (the formgrader's copy is made of these, never of the path again)
        raw = read_bytes(nb_path, where, max_bytes=MAX_JSON_BYTES, hint=DAMAGED)
        nb = read_json(raw, where, what="notebook JSON", hint=DAMAGED)
    except LoadError as exc:
        return result.put_aside(truth, set_aside_message(truth.exam_name, str(exc)))
    problem = not_a_notebook(nb, where)
    if problem is not None:
        return result.put_aside(truth, set_aside_message(truth.exam_name, problem))
    assert isinstance(nb, dict)  # ``not_a_notebook`` said it is one
    shape = notebook_shape_problem(nb)
    cells = nb["cells"]
    if shape is not None:  # some cells have the wrong structure: score what can be read, say which
        cell_no, what = shape
        what = what.split("; ")[0]
        result.flags.append((None, ScoreFlagKind.malformed_cell, f"{Location(where, cell=cell_no)}: {what}; "
                             "scored from what can be read (a question whose cells cannot be read scores 0)"))

    # every occurrence of each grade id, as nbgrader would see it
    seen: dict[str, list[tuple[int, dict, dict]]] = {}
    tampered = shape is not None  # the formgrader's copy is rewritten from the gradebook's cells
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata")
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        if not isinstance(nbg, dict) or not (nbg.get("grade") or nbg.get("solution") or nbg.get("locked")):
            continue
        gid = nbg.get("grade_id")
        if not isinstance(gid, str):  # one malformed cell: named, not scored; the rest still counts
            result.flags.append((None, ScoreFlagKind.malformed_cell, f"{Location(where, cell=index)}: the cell's grade "
                                 f"id is {_kind(gid)} ({shown(gid)}), not text; the cell is not scored (its question, "
                                 "if any, scores as if the cell were missing)"))
            tampered = True
            continue
        seen.setdefault(gid, []).append((index, cell, nbg))

    chosen: dict[str, dict] = {}
    for gid, occurrences in seen.items():
        if gid not in truth.cells:  # the id is the submission's text: only in the details, shortened
            result.flags.append((None, ScoreFlagKind.unknown_cell,
                                 f"cell {occurrences[0][0]} has grade id {shown(gid)}, which the form does not have; "
                                 "ignored"))
            tampered = True
            continue
        if len(occurrences) > 1:
            where = ", ".join(str(i) for i, _, _ in occurrences)
            result.flags.append((gid, ScoreFlagKind.duplicated_cell,
                                 f"cells {where} share grade id {gid!r}; the last one counts (as in nbgrader)"))
            tampered = True
        index, cell, nbg = occurrences[-1]
        chosen[gid] = cell
        t = truth.cells[gid]
        if cell.get("cell_type") != t.cell_type:
            result.flags.append((gid, ScoreFlagKind.changed_cell_type,
                                 f"cell {index} is {shown(cell.get('cell_type'))}, not {t.cell_type!r}"))
            tampered = True
        if t.is_grade:
            try:
                changed = float(nbg.get("points")) != t.points  # type: ignore[arg-type]  # None: caught below
            except (TypeError, ValueError, OverflowError):  # OverflowError: a 400-digit whole number
                changed = True
            if changed:
                result.flags.append((gid, ScoreFlagKind.changed_points,
                                     f"cell {index} claims {shown(nbg.get('points'))} points; the form gives "
                                     f"{t.points:g}"))
                tampered = True
        if bool(nbg.get("solution")) != t.is_solution or bool(nbg.get("grade")) != t.is_grade:
            result.flags.append((gid, ScoreFlagKind.changed_metadata,
                                 f"cell {index}: its nbgrader flags were changed; the gradebook's are used"))
            tampered = True
        if t.locked and t.released_source is not None and _source(cell) != t.released_source:
            result.flags.append((gid, ScoreFlagKind.edited_locked_cell,
                                 f"cell {index}: a locked cell was edited; the released text is used"))
            tampered = True
    for gid in truth.cells:
        if gid not in chosen:
            result.flags.append((gid, ScoreFlagKind.deleted_cell, f"the cell {gid!r} is missing from the submission"))
            tampered = True

    # solution cells: nbgrader's "No response." when the source is as released
    same: dict[str, bool] = {}
    for gid in truth.solution_ids:
        cell = chosen.get(gid)
        if cell is None:
            result.comments[gid] = None
            continue
        same[gid] = unchanged(truth.cells[gid], _source(cell))
        result.comments[gid] = NO_RESPONSE if same[gid] else None

    for q in truth.objective:
        kind = kind_for(q.kind)
        cell = chosen.get(q.answer_id)
        answer: str | None = None
        if cell is not None and not same.get(q.answer_id, False):
            read = kind.read_answer(_source(cell), q.pattern, q.labels, q.number)
            answer = read.answer
            if read.flag:
                result.flags.append((q.grade_id, read.flag, read.message))
                tampered = True
        result.answers[q.number] = answer
        result.auto[q.grade_id] = q.points_for(answer)

    for gid in truth.open_ids:
        result.auto[gid] = 0.0 if same.get(gid, False) else None  # not in ``same`` when deleted: a grader decides

    if truth.autograded_dir:
        _write_autograded(truth, nb_path.name, raw, stamp, nb, chosen if tampered else None, result.student)
    return result


def check_copy_targets(truth: FormTruth, folders: list[Path]) -> None:
    """Refuse, before anything is scored, an ``autograded/`` copy's path that is not the program's to
    write (``files.check_owned``: a link, a file in place of a folder, ...)."""
    if not truth.autograded_dir:
        return
    root = Path(truth.root) if truth.root else None
    for folder in folders:
        dest = Path(truth.autograded_dir) / folder.parent.name / truth.assignment
        check_owned(dest, root, "dir")
        for name in ("timestamp.txt", f"{truth.notebook}.ipynb"):
            check_owned(dest / name, root)


def _write_autograded(truth: FormTruth, name: str, raw: bytes, stamp: str | None, nb: dict, chosen: dict | None,
                      student: str) -> None:
    """A key-free copy for nbgrader's formgrader and feedback: as submitted, locked cells as released.

    Made of what was read (the notebook's bytes, the timestamp's text), never copied from the
    submission's paths again: what the formgrader shows is what was scored. Written through
    ``files`` (checked before anything was scored: ``check_copy_targets``; and again here).
    """
    dest = Path(truth.autograded_dir) / student / truth.assignment
    root = Path(truth.root) if truth.root else None
    private_dir(dest, root)  # checked (files): no link, folders only, inside the course
    if stamp is not None:
        write_atomic(dest / "timestamp.txt", stamp, root=root)
    else:  # an earlier run's copy would claim a time this one could not read
        remove_file(dest / "timestamp.txt", root)
    if chosen is None:  # honest submission: the file as it is (read_json proved it UTF-8)
        write_atomic(dest / name, raw.decode("utf-8"), root=root)
        return
    keep_ids = {id(c) for c in chosen.values()}
    for cell in nb["cells"]:
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
        nbg = meta.get("nbgrader")
        if not isinstance(nbg, dict) or "grade_id" not in nbg:
            continue
        t = truth.cells.get(nbg["grade_id"]) if isinstance(nbg["grade_id"], str) else None
        if t is None or id(cell) not in keep_ids:
            meta["nbgrader"] = {}  # unknown or duplicate: no longer a graded cell (as nbgrader does)
            continue
        nbg.update({"grade": t.is_grade, "solution": t.is_solution, "locked": t.locked, "checksum": t.checksum})
        if t.is_grade:
            nbg["points"] = t.points
        if cell.get("cell_type") != t.cell_type:
            cell["cell_type"] = t.cell_type
            if t.cell_type == "code":
                cell["outputs"], cell["execution_count"] = [], None
            else:
                cell.pop("outputs", None), cell.pop("execution_count", None)
        if t.locked and t.released_source is not None:
            cell["source"] = t.released_source
    # ASCII escapes: a lone surrogate typed into a cell is valid JSON but cannot be written as UTF-8
    write_atomic(dest / name, json.dumps(nb, ensure_ascii=True, indent=1), root=root)
