"""Collect: each submitted sitting's journal becomes an nbgrader submission.

``submitted/<candidate>/<exam>-<F>/<exam>-<F>.ipynb`` is a copy of the released notebook with
the objective answer cells set to ``qNN = "B"`` (``qNN = None`` when unanswered; only a label
that is one of the question's choices is ever written) and the open-response cells set to the
candidate's text, HTML-escaped (a paper sitting's written page follows as an embedded image,
``eb_paper_page``); ``timestamp.txt`` holds the server's submit time in nbgrader's
format. Everything is validated first, then each file is written atomically; running it again
rewrites nothing that is already the same, and removes the temporary files a killed run left
in the folders it writes (``.<name>.*.tmp``, older than the run). Every path it writes is the
program's own (``files.check_owned``), checked for every submission before the first write: whatever
stands in a submission's place (a file, a link, a pipe or a device where a folder should be;
a folder, a link or a pipe where a file should be) is named, all at once, and nothing is written.
"""
from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import html
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from rich.progress import Progress

from ..assembly.forms import require_forms
from ..assembly.release import write_atomic
from ..errors import Location, Problem, ValidationFailed
from ..files import UnsafePath, check_owned, remove_file
from ..kinds import kind_for
from ..model.item import METADATA_KEY
from ..model.manifest import grade_ids
from ..records.queries import paper as paper_q, sittings as sittings_q
from .form_view import FormView, load_form_view, released_notebook_path
from .session import latest_responses_of

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # nbgrader's exchange format (UTC)


@dataclass(frozen=True)
class _Done:
    id: int
    candidate_id: str
    form_id: int
    submitted_at: dt.datetime


@dataclass
class Collected:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)  # sittings replaced by a later one on the same form


def submission_notebook(released: nbformat.NotebookNode, view: FormView, answers: dict[str, str | None],
                        where: str, images: dict[str, bytes] | None = None
                        ) -> tuple[nbformat.NotebookNode, list[Problem]]:
    """The released notebook with the candidate's answers written in (validated labels only).

    ``images``: the written pages of a paper sitting by item (``eb_paper_page``, PNG): the cell shows
    the scanned writing as an embedded image (no name or code on it), which graders rate as any answer."""
    nb = copy.deepcopy(released)
    problems: list[Problem] = []
    by_number = {it.number: it for it in view.items}
    for n, cell in enumerate(nb.cells, start=1):
        meta = cell.metadata.get(METADATA_KEY, {}) or {}
        if meta.get("role") != "answer":
            continue
        item = by_number.get(int(meta.get("number", 0)))
        if item is None:
            problems.append(Problem(Location(where, cell=n), "answer cell of an unknown question"))
            continue
        value = answers.get(item.item_id)
        var = grade_ids(item.number)["variable"]
        kind = kind_for(item.kind)
        if kind.rated:  # a written answer is markdown a grader reads: escaped, never run
            cell.source = html.escape(value or "")
            if images and item.item_id in images and value:
                data = base64.b64encode(images[item.item_id]).decode("ascii")
                cell.source += (f'\n\n<img alt="Answer to question {item.number}, written on paper" '
                                f'src="data:image/png;base64,{data}">')
            continue
        try:
            answer = None if value in (None, "") else kind.clean_answer(value, item.labels)
        except ValueError:
            answer = False
        if answer is None:
            cell.source = f"{var} = None"
        elif answer == value:  # only the answer's one stored spelling is written, as a literal (never code)
            cell.source = kind.answer_source(var, answer)
        else:
            problems.append(Problem(Location(where, cell=n, item=item.item_id),
                                    f"journal holds {value!r}, not a "
                                    f"{'choice label' if item.labels else 'valid answer'}; the sitting needs review"))
    return nb, problems


def stale_temps(folder: Path, names: list[str], before: float) -> list[Path]:
    """Temporary files of ``write_atomic`` for ``names`` in ``folder`` made before ``before`` (epoch s).

    Only a killed run leaves one: a live write renames its file within milliseconds, and a run
    of ``collect`` takes longer than that before it writes, so anything older is a leftover.
    """
    found = []
    for name in names:
        for tmp in folder.glob(f".{glob_escape(name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.is_file() and not tmp.is_symlink() and tmp.stat().st_mtime < before:
                    found.append(tmp)
    return found


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def write_submission(nb_path: Path, nb_text: str, stamp: str, started: float, root: Path) -> bool:
    """Write one submission folder atomically, clearing what a killed run left; whether it changed.

    Its paths were checked (``unwritable``) before the first write; ``files`` checks each again as it writes."""
    for tmp in stale_temps(nb_path.parent, [nb_path.name, "timestamp.txt"], started):
        remove_file(tmp, root)
    changed = write_atomic(nb_path, nb_text, root=root)
    changed |= write_atomic(nb_path.parent / "timestamp.txt", stamp, root=root)
    return changed


def unwritable(course, nb_path: Path) -> list[Problem]:
    """What stands in the way of writing one submission, located: ``files.check_owned`` on the
    notebook and ``timestamp.txt`` (from ``submitted/`` down every part a folder and no link, each
    file a regular file or not there yet). A file, a link, a pipe or a device where a folder
    should be, or anything but a regular file where a file should be, is named, never written through."""
    problems: list[Problem] = []
    for path in (nb_path, nb_path.parent / "timestamp.txt"):
        try:
            check_owned(path, course.root)
        except UnsafePath as exc:
            if exc.problem not in problems:  # the same folder in the way of both files: named once
                problems.append(exc.problem)
    return problems


def collect(course, exam: str, console=None) -> Collected:
    """Turn every submitted sitting of ``exam`` into an nbgrader submission."""
    started = time.time()
    with course.db.read() as s:
        forms = {f.id: f.assignment for f, _m in require_forms(s, exam)}
        sittings = [_Done(*row) for row in sittings_q.select_submitted(s, exam)]
        journals = {sid: {k: r.value for k, r in rows.items()}
                    for sid, rows in latest_responses_of(s, [sit.id for sit in sittings]).items()}
        written: dict[int, dict[str, bytes]] = {}
        for (sid, item_id), page in paper_q.select_written_pages(s, [sit.id for sit in sittings]).items():
            if page.image:
                written.setdefault(sid, {})[item_id] = page.image
    result = Collected()
    latest: dict[tuple[str, int], _Done] = {}
    for sit in sittings:  # a later sitting on the same form wins (the folder names only the form)
        key = (sit.candidate_id, sit.form_id)
        if key in latest:
            result.superseded.append(latest[key].id)
        latest[key] = sit

    released: dict[int, tuple[nbformat.NotebookNode, FormView, str]] = {}
    problems: list[Problem] = []
    planned: list[tuple[Path, str, str]] = []
    for sit in latest.values():
        if sit.form_id not in released:
            path = released_notebook_path(course, forms[sit.form_id])
            view = load_form_view(path, course.root)
            from ..errors import rel
            from ..safeload import read_notebook  # located error, never a parser exception

            released[sit.form_id] = (read_notebook(path, where=rel(path, course.root)), view, forms[sit.form_id])
        nb, view, assignment = released[sit.form_id]
        where = f"sitting {sit.id} ({sit.candidate_id}, {assignment})"
        sub, probs = submission_notebook(nb, view, journals[sit.id], where, written.get(sit.id))
        problems += probs
        folder = course.submission_dir(sit.candidate_id, assignment)
        planned.append((folder / f"{assignment}.ipynb", nbformat.writes(sub),
                        sit.submitted_at.strftime(TIMESTAMP_FORMAT)))
    for nb_path, _text, _stamp in planned:  # before anything is written: nothing half-collected
        problems += [p for p in unwritable(course, nb_path) if p not in problems]
    if problems:
        raise ValidationFailed(problems)

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("collecting submissions", total=len(planned))
        for nb_path, nb_text, stamp in planned:
            changed = write_submission(nb_path, nb_text, stamp, started, course.root)
            (result.written if changed else result.unchanged).append(nb_path)
            progress.advance(task)
    return result
