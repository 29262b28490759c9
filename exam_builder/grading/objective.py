"""Objective scoring: every true/false and multiple-choice answer of every submission of an exam.

Scores come from the staff-side truth (the form's manifest key and points, nbgrader's gradebook
cells), never from the submission's own cells; submissions are read as JSON data in worker
processes (``grading.submission``) and the results written to nbgrader's gradebook in bulk
(``grading.gradebook_sync``), a few transactions for the whole run. A tampered or unreadable
submission is scored from that truth and flagged in ``eb_score_flag``; it never stops the
others. Running it again gives the same rows (manual scores are kept, as nbgrader keeps them).
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import delete, insert

from ..assembly.forms import require_forms
from ..assembly.manifest import Manifest, grade_ids
from ..assembly.release import released_notebook
from ..errors import ExamBuilderError, rel
from ..records import audit
from ..records.models import ScoreFlag, utcnow
from .gradebook_sync import GradebookWriter, SubmissionScores, notebook_cells
from .settings import grading_settings
from .submission import FLAG_KINDS, CellTruth, FormTruth, ObjectiveKey, Scored, nbgrader_checksum, answer_pattern, score_submission

SERIAL_BELOW = 64  # fewer submissions than this are read in-process (a pool costs more)


@dataclass
class FormReport:
    assignment: str
    submissions: int = 0
    created: int = 0
    updated: int = 0
    flagged: dict[str, int] = field(default_factory=dict)  # candidate -> number of flags
    changed: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class GradeReport:
    exam: str
    forms: list[FormReport] = field(default_factory=list)

    @property
    def submissions(self) -> int:
        return sum(f.submissions for f in self.forms)

    @property
    def flagged(self) -> int:
        return sum(len(f.flagged) for f in self.forms)





def form_truth(course, conn, manifest: Manifest, write_copies: bool = False) -> FormTruth:
    """The staff-side truth a worker scores against; checks manifest, gradebook and release agree."""
    from ..delivery.form_view import load_form_view  # the released notebook, read key-free

    assignment = manifest.assignment
    cells = notebook_cells(conn, assignment, manifest.notebook)
    released = released_notebook(course, assignment)
    view = load_form_view(released, course.root)
    import nbformat

    released_src = {}
    for cell in nbformat.read(str(released), as_version=4).cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid:
            released_src[gid] = cell.source
    problems = []
    truths: dict[str, CellTruth] = {}
    for name, (ctype, locked, checksum, _source) in cells.source_cells.items():
        grade = cells.grade_cells.get(name)
        truth = CellTruth(
            grade_id=name, cell_type=ctype, locked=locked, checksum=checksum,
            is_grade=grade is not None, is_solution=name in cells.solution_cells,
            points=grade[1] if grade else None, released_source=released_src.get(name) if locked else None,
        )
        if truth.is_solution and name in released_src and nbgrader_checksum(truth, released_src[name]) == checksum:
            truth = replace(truth, unanswered_source=released_src[name])  # compare text, not checksums
        truths[name] = truth
    objective, open_ids = [], []
    for item in manifest.items:
        ids = grade_ids(item.number)
        grade = cells.grade_cells.get(ids["grade"])
        if grade is None:
            problems.append(f"question {item.number} ({item.item_id}) has no grade cell {ids['grade']!r}")
            continue
        if abs(grade[1] - item.points) > 1e-9:
            problems.append(f"question {item.number} ({item.item_id}) is worth {item.points:g} in the manifest "
                            f"but {grade[1]:g} in the gradebook")
        if item.kind.objective:
            if ids["answer"] not in cells.solution_cells or not item.key:
                problems.append(f"question {item.number} ({item.item_id}) has no answer cell or no key")
                continue
            try:
                labels = view.by_number(item.number).labels
            except IndexError:
                labels = ()
            if item.key not in labels:
                problems.append(f"question {item.number} ({item.item_id}): key {item.key!r} is not among the released choices")
            objective.append(ObjectiveKey(item.number, item.item_id, ids["answer"], ids["grade"],
                                          answer_pattern(ids["variable"]), item.key, tuple(labels), grade[1]))
        else:
            open_ids.append(ids["grade"])
    if problems:
        raise ExamBuilderError(
            f"form {assignment}: the manifest, the gradebook and {rel(released, course.root)} disagree:\n  "
            + "\n  ".join(problems) + "\nRelease the form again from its manifest (exam-builder build) before grading."
        )
    return FormTruth(assignment, manifest.notebook, truths, tuple(objective), tuple(open_ids),
                     str(course.autograded_dir) if write_copies else "")


def submission_folders(course, assignment: str) -> list[Path]:
    """``submitted/<candidate>/<assignment>/`` folders, sorted by candidate."""
    root = course.submitted_dir
    if not root.is_dir():
        return []
    return sorted(p / assignment for p in root.iterdir() if (p / assignment).is_dir() and not p.name.startswith("."))


_TRUTH: FormTruth | None = None


def _init_worker(truth: FormTruth) -> None:
    global _TRUTH
    _TRUTH = truth


def _score_in_worker(folder: str) -> Scored:
    assert _TRUTH is not None
    return _safe_score(_TRUTH, folder)


def _safe_score(truth: FormTruth, folder: str) -> Scored:
    """Score one folder; an unexpected failure becomes a flag, never a crash of the run."""
    try:
        return score_submission(truth, folder)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
        result = Scored(student=Path(folder).parent.name)
        result.flags.append((None, "invalid_notebook", f"could not be read ({type(exc).__name__}: {exc}); "
                             "objective questions score 0"))
        for q in truth.objective:
            result.auto[q.grade_id] = 0.0
        for gid in truth.open_ids:
            result.auto[gid] = None
        return result


def _results(truth: FormTruth, folders: list[Path], workers: int):
    jobs = [str(f) for f in folders]
    if len(jobs) < SERIAL_BELOW or workers <= 1:
        for job in jobs:
            yield _safe_score(truth, job)
        return
    chunk = max(8, min(256, len(jobs) // (workers * 8) or 1))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(truth,)) as pool:
        yield from pool.map(_score_in_worker, jobs, chunksize=chunk)


def _write_batch(course, truth: FormTruth, batch: list[Scored], report: FormReport, actor: str, reason: str,
                 manifest_hash: str) -> None:
    """One transaction: gradebook rows, replaced flags and one audit entry for the batch."""
    with course.db.transaction() as s:
        conn = s.connection()
        writer = GradebookWriter(conn, truth.assignment, truth.notebook)
        wr = writer.write([SubmissionScores(r.student, r.timestamp, r.auto, r.comments, r.missing) for r in batch])
        students = [r.student for r in batch]
        for i in range(0, len(students), 500):
            conn.execute(delete(ScoreFlag.__table__).where(
                ScoreFlag.assignment == truth.assignment, ScoreFlag.candidate_id.in_(students[i:i + 500]),
                ScoreFlag.kind.in_(FLAG_KINDS)))
        now = utcnow()
        flags = [{"assignment": truth.assignment, "candidate_id": r.student, "grade_id": g, "kind": k, "details": d, "at": now}
                 for r in batch for (g, k, d) in r.flags]
        if flags:
            conn.execute(insert(ScoreFlag.__table__), flags)
        for r in batch:
            if r.flags:
                report.flagged[r.student] = len(r.flags)
        report.created += wr.created
        report.updated += wr.updated
        report.changed.update(wr.changed)
        audit.record(
            s, actor, "score_objective", "assignment", truth.assignment, reason,
            submissions=len(batch), created=wr.created, updated=wr.updated, manifest_hash=manifest_hash,
            changed={k: list(v) for k, v in wr.changed.items()},
            flagged=sorted({r.student for r in batch if r.flags}),
        )


def grade_exam(course, exam: str, actor: str, reason: str = "objective scoring from the manifest key",
               console: Console | None = None, workers: int | None = None,
               write_copies: bool | None = None) -> GradeReport:
    """Score every submission of every form of ``exam``; returns counts and flags.

    ``write_copies``: also write key-free copies to ``autograded/`` for nbgrader's formgrader
    (default: ``GradingSettings.formgrader_copies``).
    """
    settings = grading_settings(course)
    write_copies = settings.formgrader_copies if write_copies is None else write_copies
    workers = workers or settings.workers or os.cpu_count() or 1
    with course.db.read() as s:
        forms = require_forms(s, exam)
        truths = [(form_truth(course, s.connection(), m, write_copies), m.hash()) for _f, m in forms]
    report = GradeReport(exam)
    console = console or Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        for truth, mhash in truths:
            folders = submission_folders(course, truth.assignment)
            fr = FormReport(truth.assignment, submissions=len(folders))
            report.forms.append(fr)
            task = progress.add_task(f"scoring {truth.assignment}", total=len(folders))
            batch: list[Scored] = []
            for result in _results(truth, folders, workers):
                batch.append(result)
                progress.advance(task)
                if len(batch) >= settings.batch_size:
                    _write_batch(course, truth, batch, fr, actor, reason, mhash)
                    batch = []
            if batch:
                _write_batch(course, truth, batch, fr, actor, reason, mhash)
    return report
