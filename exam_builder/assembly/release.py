"""Where forms live on disk, and their release through nbgrader's own ``generate_assignment``.

The source notebook (with keys) goes to ``source/<exam>-<F>/<exam>-<F>.ipynb``; nbgrader's
GenerateAssignment, run through ``NbGraderAPI`` with the course's configuration, records the
grade cells and hidden tests in the gradebook and writes the candidate copy to ``release/``.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from ..course import Course
from ..errors import ExamBuilderError
from ..files import make_private, private_temp
from ..safeload import holds


def source_notebook(course: Course, assignment: str) -> Path:
    """The nbgrader source notebook of a form (staff side: it holds the keys)."""
    return course.source_dir / assignment / f"{assignment}.ipynb"


def release_path(course: Course, assignment: str) -> Path:
    """Where nbgrader releases a form's candidate notebook (whether or not it is there yet)."""
    return course.release_dir / assignment / f"{assignment}.ipynb"


def released_notebook(course: Course, assignment: str) -> Path:
    """The released (candidate) notebook of a form; an error if it has not been released."""
    path = release_path(course, assignment)
    if not path.exists():
        raise ExamBuilderError(
            f"{path}: form {assignment} has not been released; run `exam-builder build {assignment.rsplit('-', 1)[0]}`"
        )
    return path


def write_atomic(path: Path, text: str) -> bool:
    """Write ``text`` through a temporary file and a rename; return whether the file changed.

    Everything written here is staff-side or candidate data (keys, form sources, seat cards,
    submissions, results), so the file is ``0600`` and any folder made for it ``0700``.
    """
    if holds(path, text):  # a regular file already holding it; a pipe or a link to a device is replaced, never read
        make_private(path)
        return False
    fd, tmp = private_temp(path.parent, path.name)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())  # on disk before the rename: a crash leaves the old file or the new one
    os.replace(tmp, path)
    return True


@contextmanager
def restorable(paths: list[Path], scratch: Path) -> Iterator[None]:
    """Back up folders; put them back as they were if the block fails (nothing half-written).

    The backup lives in ``scratch`` (the course's scratch folder, ``lock.scratch_dir``), not in the
    system's temporary folder: if the process is killed, the next command under the course lock
    clears it instead of leaving copies of keyed forms behind."""
    backup = Path(tempfile.mkdtemp(prefix="release-backup-", dir=scratch))
    saved: list[tuple[Path, Path | None]] = []
    try:
        for n, p in enumerate(paths):
            if p.exists():
                copy = backup / str(n)
                _backup_tree(p, copy)
                saved.append((p, copy))
            else:
                saved.append((p, None))
        try:
            yield
        except BaseException:
            for p, copy in saved:
                if p.exists():
                    shutil.rmtree(p)
                if copy is not None:
                    _backup_tree(copy, p)
            raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)


def _backup_tree(src: Path, dest: Path) -> None:
    """Copy a form folder this program generated, exactly: links as links (never read through them).

    A pipe or a device in it (which nothing here writes) is a located error before anything changed.
    """
    try:
        shutil.copytree(src, dest, symlinks=True)
    except shutil.Error as exc:
        where = "; ".join(f"{a}: {why}" for a, _b, why in exc.args[0][:3]) if exc.args and isinstance(exc.args[0], list) else str(exc)
        raise ExamBuilderError(f"{src}: cannot back up the form's folder ({where}); remove what is not a file "
                               "or a folder from it and build again") from None


def nbgrader_api(course: Course):
    """nbgrader's Python API on this course and its database."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course.nbgrader_config()
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    return api


def generate_assignment(course: Course, assignment: str, api=None) -> None:
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
