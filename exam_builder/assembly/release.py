"""Where forms live on disk, and their release through nbgrader's own ``generate_assignment``.

The source notebook (with keys) goes to ``source/<exam>-<F>/<exam>-<F>.ipynb``; nbgrader's
GenerateAssignment, run through ``NbGraderAPI`` with the course's configuration, records the
grade cells and hidden tests in the gradebook and writes the candidate copy to ``release/``.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..course import Course
from ..errors import ExamBuilderError
from ..files import check_owned, check_tree, copy_tree, private_temp_dir, remove_tree, replace_file


def source_notebook(course: Course, assignment: str) -> Path:
    """The nbgrader source notebook of a form (staff side: it holds the keys)."""
    return course.source_dir / assignment / f"{assignment}.ipynb"


def release_path(course: Course, assignment: str) -> Path:
    """Where nbgrader releases a form's candidate notebook (whether or not it is there yet)."""
    return course.release_dir / assignment / f"{assignment}.ipynb"


def released_notebook(course: Course, assignment: str) -> Path:
    """The released (candidate) notebook of a form; an error if it has not been released."""
    path = release_path(course, assignment)
    if not check_owned(path, course.root, "file"):  # never through a link, never a folder or a pipe
        raise ExamBuilderError(
            f"{path}: form {assignment} has not been released; run `exam-builder build {assignment.rsplit('-', 1)[0]}`"
        )
    return path


def write_atomic(path: Path, text: str, *, root: Path | None) -> bool:
    """Write ``text`` through a temporary file and a rename; return whether the file changed.

    Everything written here is staff-side or candidate data (keys, form sources, seat cards,
    submissions, results), so the file is ``0600`` and any folder made for it ``0700``. ``root`` is
    the course's root: the path is checked first (``files.check_owned``: no link, the right type).
    """
    return replace_file(path, text, root)


@contextmanager
def restorable(paths: list[Path], scratch: Path, root: Path) -> Iterator[None]:
    """Back up folders; put them back as they were if the block fails (nothing half-written).

    The backup lives in ``scratch`` (the course's scratch folder, ``lock.scratch_dir``), not in the
    system's temporary folder: if the process is killed, the next command under the course lock
    clears it instead of leaving copies of keyed forms behind. Every folder is checked first
    (``files.check_tree``: no link in it, only files and folders), so nothing is copied from, or
    restored through, a link; the copies are ``files.copy_tree``'s (bounded reads through
    ``safeload``, every file, hidden ones and checkpoints included)."""
    for p in paths:
        check_tree(p, root)
    backup = private_temp_dir(scratch, "release-backup-", root)
    saved: list[tuple[Path, Path | None]] = []
    try:
        for n, p in enumerate(paths):
            if p.exists():
                copy = backup / str(n)
                copy_tree(p, copy, root, skip=())
                saved.append((p, copy))
            else:
                saved.append((p, None))
        try:
            yield
        except BaseException:
            for p, kept in saved:
                remove_tree(p, root)
                if kept is not None:
                    copy_tree(kept, p, root, skip=())
            raise
    finally:
        remove_tree(backup, root)


def check_release_targets(course: Course, assignments: list[str]) -> None:
    """Refuse before any change the folders a release writes (``source/<form>/``, ``release/<form>/``,
    nbgrader writing the second from the first): ``files.check_tree`` on each."""
    for assignment in assignments:
        check_owned(source_notebook(course, assignment), course.root, "file")
        for folder in (course.source_dir / assignment, course.release_dir / assignment):
            check_tree(folder, course.root)


def nbgrader_api(course: Course) -> Any:
    """nbgrader's Python API on this course and its database."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course.nbgrader_config()
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    return api


def generate_assignment(course: Course, assignment: str, api: Any = None) -> None:
    """Release one form with nbgrader's GenerateAssignment (gradebook + ``release/``)."""
    api = api or nbgrader_api(course)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        text = "\n".join([result.get("log") or "", result.get("error") or ""])
        errors = [ln.strip() for ln in text.splitlines() if re.match(r"^\s*\w*(Error|Exception): ", ln)]
        detail = errors[-1] if errors else " / ".join(text.strip().splitlines()[-2:])
        raise ExamBuilderError(
            f"{source_notebook(course, assignment)}: nbgrader could not release form {assignment}: {detail}\n"
            "Nothing was changed. If the form has submissions in the gradebook, build new forms with another label."
        )
    if not release_path(course, assignment).exists():
        raise ExamBuilderError(f"nbgrader reported success but wrote no release/{assignment}/{assignment}.ipynb")
