"""Objective scoring: every true/false and multiple-choice answer of every submission of an exam.

Scores come from the staff-side truth (the form's manifest key and points, nbgrader's gradebook
cells), never from the submission's own cells; submissions are read as JSON data in worker
processes (``grading.submission``) and the results written to nbgrader's gradebook in bulk
(``grading.gradebook_sync``), a few transactions for the whole run. A tampered submission is
scored from that truth and flagged in ``eb_score_flag``; one that cannot be read at all is set
aside (flagged, every score pending); a folder of a candidate who is not on the roster is
flagged and not graded (no nbgrader student is made for it). None of them stops the others.
Every entry of ``submitted/`` is accounted for (``scan_submitted``), never skipped: a file, a
link loop or a pipe where a candidate's form folder should be sets that submission aside (its
earlier scores become pending, never kept silently); one where the candidate's own folder should
be sets aside the forms the candidate sat or has scores of, and is flagged as not graded when no
form claims it.
Running it again gives the same rows (manual scores are kept, as nbgrader keeps them).

Worker processes die with the command (``_die_with_parent``): a ``kill -9`` of ``grade`` leaves
no reader behind (nor the course lock, whose descriptor a forked worker inherits).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..assembly.forms import require_forms
from ..assembly.release import released_notebook
from ..errors import ExamBuilderError, rel
from ..kinds import kind_for
from ..model.manifest import Manifest, grade_ids
from ..model.states import AuditAction, KeyAction, ScoreFlagKind
from ..records import audit
from ..records.models import ScoreFlag, utcnow
from ..records.queries import candidates as candidates_q, score_flags as score_flags_q
from .adjust import Adjustment, also_keys, in_force
from .gradebook_sync import GradebookWriter, SubmissionScores, notebook_cells
from .seal import course_key
from .submission import (
    FLAG_KINDS,
    CellTruth,
    FormTruth,
    ObjectiveKey,
    Scored,
    answer_pattern,
    check_copy_targets,
    nbgrader_checksum,
    score_submission,
    set_aside_message,
    where_of,
)

UNKNOWN_CANDIDATE = ScoreFlagKind.unknown_candidate

SERIAL_BELOW = 64  # fewer submissions than this are read in-process (a pool costs more)


@dataclass
class FormReport:
    assignment: str
    submissions: int = 0
    created: int = 0
    updated: int = 0
    flagged: dict[str, int] = field(default_factory=dict)  # candidate -> number of flags
    changed: dict[str, tuple[float, float]] = field(default_factory=dict)
    set_aside: dict[str, str] = field(default_factory=dict)  # candidate -> why the file could not be read
    unknown: dict[str, str] = field(default_factory=dict)  # folder name -> the flag's message (not graded)


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

    @property
    def set_aside(self) -> list[tuple[str, str, str]]:
        """(form, candidate, message) of every submission set aside."""
        return [(f.assignment, c, m) for f in self.forms for c, m in sorted(f.set_aside.items())]

    @property
    def unknown(self) -> list[tuple[str, str, str]]:
        """(form, folder, message) of every folder of a candidate not on the roster."""
        return [(f.assignment, c, m) for f in self.forms for c, m in sorted(f.unknown.items())]

    @property
    def complete(self) -> bool:
        """Every submission folder was graded (nothing set aside, nobody unknown)."""
        return not self.set_aside and not self.unknown


def form_truth(course, conn, manifest: Manifest, write_copies: bool = False,
               adjustments: dict[str, Adjustment] | None = None) -> FormTruth:
    """The staff-side truth a worker scores against; checks manifest, gradebook and release agree.

    ``adjustments``: the key-validation decisions in force (``grading.adjust.in_force``), which
    scoring applies on top of the frozen manifest (another answer accepted, everyone credited, dropped).
    """
    adjustments = adjustments or {}
    from ..delivery.form_view import load_form_view  # the released notebook, read key-free

    assignment = manifest.assignment
    cells = notebook_cells(conn, assignment, manifest.notebook)
    released = released_notebook(course, assignment)
    view = load_form_view(released, course.root)
    from ..safeload import read_notebook  # located error, never a parser exception

    released_src = {}
    for cell in read_notebook(released, where=rel(released, course.root)).cells:
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
        if not kind_for(item.kind).rated:
            if ids["answer"] not in cells.solution_cells or not item.key:
                problems.append(f"question {item.number} ({item.item_id}) has no answer cell or no key")
                continue
            try:
                labels = view.by_number(item.number).labels
            except IndexError:
                labels = ()
            if not set(kind_for(item.kind).key_labels(item.key)) <= set(labels):
                problems.append(f"question {item.number} ({item.item_id}): key {item.key!r} is not among the released "
                                "choices")
            adj = adjustments.get(item.item_id)
            objective.append(ObjectiveKey(item.number, item.item_id, ids["answer"], ids["grade"],
                                          answer_pattern(ids["variable"], item.kind.value), item.key, tuple(labels),
                                          grade[1], item.kind.value, item.scoring, also=also_keys(item, adj),
                                          credit=adj is not None and adj.action == KeyAction.credit,
                                          dropped=adj is not None and adj.action == KeyAction.drop))
        else:
            open_ids.append(ids["grade"])
    if problems:
        raise ExamBuilderError(
            f"form {assignment}: the manifest, the gradebook and {rel(released, course.root)} disagree:\n  "
            + "\n  ".join(problems) + "\nRelease the form again from its manifest (exam-builder build) before grading."
        )
    return FormTruth(assignment, manifest.notebook, truths, tuple(objective), tuple(open_ids),
                     str(course.autograded_dir) if write_copies else "", root=str(course.root), exam=manifest.exam)


@dataclass
class Submitted:
    """What ``submitted/`` holds for one exam's forms, every entry accounted for (nothing skipped).

    ``folders``: form -> ``submitted/<candidate>/<form>/`` folders to score, by candidate.
    ``odd``: form -> candidate -> the located problem of what stands where that folder should be
    (a file, a link loop, a pipe, a folder that cannot be read). ``loose``: entries of
    ``submitted/`` itself that are no folder (name -> located problem); which form they belong to
    is for the caller to find (the candidate's sittings and gradebook). Names starting with ``.``
    are staff's own (e.g. a folder set aside by hand) and are not read.
    """

    folders: dict[str, list[Path]] = field(default_factory=dict)
    odd: dict[str, dict[str, str]] = field(default_factory=dict)
    loose: dict[str, str] = field(default_factory=dict)


def not_a_folder(path: Path) -> str | None:
    """Why ``path`` (which exists, or is a link) cannot be read as a folder, with what to do; None if it can."""
    try:
        st = path.stat()
    except (OSError, RuntimeError) as exc:
        if path.is_symlink():
            return "a symbolic link that loops or points nowhere, where a folder should be; remove it"
        return f"cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__}); check its permissions"
    if stat.S_ISDIR(st.st_mode):
        if not os.access(path, os.R_OK | os.X_OK):
            return "a folder that cannot be read (permission denied); check its permissions"
        return None
    if stat.S_ISREG(st.st_mode):
        return "a file where a folder should be; remove it"
    return "a pipe, socket or device where a folder should be; remove it"


def scan_submitted(course, assignments: list[str]) -> Submitted:
    """Every entry of ``submitted/`` for these forms (see ``Submitted``); an error if ``submitted/`` cannot be read."""
    out = Submitted({a: [] for a in assignments}, {a: {} for a in assignments})
    root = course.submitted_dir
    if not root.exists() and not root.is_symlink():
        return out
    where = lambda p: _lexical(p, course.root)  # noqa: E731 - never resolved: a link loop must not raise here
    why = not_a_folder(root)
    if why is not None:
        raise ExamBuilderError(f"{where(root)}: {why}. Submissions are read from {where(root)}/<candidate>/<form>/; "
                               "nothing was graded")
    try:
        names = sorted(e.name for e in os.scandir(root))
    except OSError as exc:
        raise ExamBuilderError(f"{where(root)}: cannot be read ({exc.strerror}); nothing was graded") from None
    for name in names:
        if name.startswith("."):
            continue
        folder = root / name
        why = not_a_folder(folder)
        if why is not None:
            out.loose[name] = f"{where(folder)}: {why}"
            continue
        for assignment in assignments:
            sub = folder / assignment
            if not sub.exists() and not sub.is_symlink():
                continue  # this candidate has no submission of this form
            why = not_a_folder(sub)
            if why is None:
                out.folders[assignment].append(sub)
            else:
                out.odd[assignment][name] = f"{where(sub)}: {why}"
    return out


def _lexical(path: Path, root: Path) -> str:
    """``path`` relative to the course root as written (a link in it is not followed), fit for a message."""
    try:
        return printable(str(path.relative_to(root)))
    except ValueError:
        return printable(str(path))


def printable(text: str) -> str:
    """A name from disk as a message may hold it: control characters and undecodable bytes escaped."""
    try:
        text.encode("utf-8")
        if text.isprintable():
            return text
    except UnicodeEncodeError:
        pass
    return repr(text)[1:-1]


def submission_folders(course, assignment: str) -> list[Path]:
    """``submitted/<candidate>/<assignment>/`` folders that can be read, sorted by candidate."""
    return scan_submitted(course, [assignment]).folders[assignment]


def flag_id(name: str, limit: int = 64) -> str:
    """A folder name fit to store as a flag's candidate id: printable, UTF-8, at most ``limit`` long.

    An unknown folder's name is whatever was on disk (control characters, undecodable bytes, any
    length); the database column takes 64 characters of text.
    """
    if name.isprintable() and len(name) <= limit:
        try:
            name.encode("utf-8")
            return name
        except UnicodeEncodeError:
            pass
    text = repr(name)[1:-1]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def split_roster(folders: list[Path], roster: set[str]) -> tuple[list[Path], list[Path]]:
    """(folders of candidates on the roster, folders of anyone else)."""
    known = [f for f in folders if f.parent.name in roster]
    return known, [f for f in folders if f.parent.name not in roster]


def loose_message(problem: str) -> str:
    """An entry of ``submitted/`` that is no folder and that no sitting or score of the exam claims."""
    return (f"{problem}, or rename it to start with '.' to keep it: it is no candidate's submission folder (no "
            "submitted sitting or earlier score of this exam has that name), so nothing in it is graded")


def claimed_forms(s, exam: str, assignments: list[str], names: list[str]) -> dict[str, list[str]]:
    """Of these names under ``submitted/``: candidate -> the exam's forms they sat or have scores of."""
    if not names:
        return {}
    from ..records.queries import gradebook as gradebook_q, sittings as sittings_q

    wanted = set(names)
    form_of = {f.id: f.assignment for f, _m in require_forms(s, exam)}
    out: dict[str, set[str]] = {}
    for _sid, cand, form_id, _at in sittings_q.select_submitted(s, exam):
        if cand in wanted and form_of.get(form_id) in assignments:
            out.setdefault(cand, set()).add(form_of[form_id])
    for assignment in assignments:
        for cand in gradebook_q.select_submitted_students(s.connection(), assignment, sorted(wanted)):
            out.setdefault(cand, set()).add(assignment)
    return {c: sorted(a) for c, a in out.items()}


def unknown_message(truth: FormTruth, folder: Path, why: str | None = None) -> str:
    exam = truth.exam_name
    odd = f" ({why.split(': ', 1)[-1]})" if why else ""
    return (f"{printable(where_of(truth, folder))}/: {flag_id(folder.parent.name, 200)!r} is not on the roster{odd}; "
            "not graded "
            f"and no nbgrader student was made. Add the candidate (`exam-builder roster import`) and run "
            f"`exam-builder grade {exam}` again, or remove the folder")



# -- worker processes ----------------------------------------------------------------------
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 0.5

_TRUTH: FormTruth | None = None


def _die_with_parent(parent: int) -> None:
    """End this worker when ``grade`` ends, however it ends (``kill -9`` included).

    Linux: the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``). Everywhere: a
    thread checks twice a second that the parent is still there, which also covers the moment
    before the ``prctl`` and a parent that is not the direct one (a fork server).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    direct = os.getppid()

    def gone() -> bool:
        if os.getppid() != direct:  # reparented: the direct parent died
            return True
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists, not ours to signal
            pass
        return False

    if gone():
        os._exit(1)

    def watch() -> None:
        while not gone():
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="eb-watch-parent", daemon=True).start()


def _init_worker(truth: FormTruth, parent: int) -> None:
    global _TRUTH
    _die_with_parent(parent)
    _TRUTH = truth


def _score_in_worker(folder: str) -> Scored:
    assert _TRUTH is not None
    return _safe_score(_TRUTH, folder)


def _safe_score(truth: FormTruth, folder: str) -> Scored:
    """Score one folder; an unexpected failure sets it aside, never stops the run."""
    try:
        return score_submission(truth, folder)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
        path = Path(folder) / f"{truth.notebook}.ipynb"
        message = set_aside_message(truth.exam_name,
                                    f"{where_of(truth, path)}: could not be read ({type(exc).__name__})")
        return Scored(student=Path(folder).parent.name).put_aside(truth, message)


def _results(truth: FormTruth, folders: list[Path], workers: int) -> Generator[Scored, None, None]:
    """Scored folders in order; in a pool of workers that die with this process for a cohort."""
    jobs = [str(f) for f in folders]
    if len(jobs) < SERIAL_BELOW or workers <= 1:
        for job in jobs:
            yield _safe_score(truth, job)
        return
    chunk = max(8, min(256, len(jobs) // (workers * 8) or 1))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(truth, os.getpid()))
    try:
        yield from pool.map(_score_in_worker, jobs, chunksize=chunk)
    finally:  # on an error (or Ctrl-C) do not read the rest of the cohort first
        pool.shutdown(wait=True, cancel_futures=True)


def _record_unknown(course, assignment: str, unknown: dict[str, str], actor: str, reason: str) -> None:
    """Replace the form's unknown-candidate flags with this run's (one transaction, audited)."""
    with course.db.transaction() as s:
        score_flags_q.delete_flags_of_kind(s, assignment, UNKNOWN_CANDIDATE)
        now = utcnow()
        for name, message in unknown.items():
            s.add(ScoreFlag(assignment=assignment, candidate_id=flag_id(name), grade_id=None, kind=UNKNOWN_CANDIDATE,
                            details=message, at=now))
        if unknown:
            audit.record(s, actor, AuditAction.score_objective_unknown, "assignment", assignment, reason,
                         not_graded=sorted(flag_id(n) for n in unknown))


def _write_batch(course, truth: FormTruth, batch: list[Scored], report: FormReport, actor: str, reason: str,
                 manifest_hash: str, seal_key: bytes) -> None:
    """One transaction: gradebook rows, replaced flags and one audit entry for the batch."""
    with course.db.transaction() as s:
        conn = s.connection()
        writer = GradebookWriter(conn, truth.assignment, truth.notebook, seal_key)
        wr = writer.write([SubmissionScores(r.student, r.timestamp, r.auto, r.comments, r.missing) for r in batch])
        students = [r.student for r in batch]
        score_flags_q.delete_flags_of_candidates(conn, truth.assignment, students, FLAG_KINDS)
        now = utcnow()
        flags = [{"assignment": truth.assignment, "candidate_id": r.student, "grade_id": g, "kind": k, "details": d,
                  "at": now}
                 for r in batch for (g, k, d) in r.flags]
        score_flags_q.insert_flags(conn, flags)
        for r in batch:
            if r.flags:
                report.flagged[r.student] = len(r.flags)
            if r.set_aside:
                report.set_aside[r.student] = r.set_aside
        report.created += wr.created
        report.updated += wr.updated
        report.changed.update(wr.changed)
        audit.record(
            s, actor, AuditAction.score_objective, "assignment", truth.assignment, reason,
            submissions=len(batch), created=wr.created, updated=wr.updated, manifest_hash=manifest_hash,
            changed={k: list(v) for k, v in wr.changed.items()},
            flagged=sorted({r.student for r in batch if r.flags}),
            set_aside=sorted(r.student for r in batch if r.set_aside),
        )


def grade_exam(course, exam: str, actor: str, reason: str = "objective scoring from the manifest key",
               console: Console | None = None, workers: int | None = None,
               write_copies: bool | None = None) -> GradeReport:
    """Score every submission of every form of ``exam``; returns counts and flags.

    ``write_copies``: write key-free copies to ``autograded/`` for nbgrader's formgrader
    (default: ``GradingSettings.formgrader_copies``, on). They are the submitted files (locked
    cells put back as released when tampered with), staff-side like ``submitted/``; no key.
    """
    settings = course.grading_settings
    write_copies = settings.formgrader_copies if write_copies is None else write_copies
    workers = workers or settings.workers or os.cpu_count() or 1
    with course.db.read() as s:
        forms = require_forms(s, exam)
        adjustments = in_force(s, exam)  # key-validation decisions applied: scoring reads them, the manifest stays
        truths = [(form_truth(course, s.connection(), m, write_copies, adjustments), m.hash()) for _f, m in forms]
        roster = set(candidates_q.select_candidate_ids(s, ordered=False))
        assignments = [t.assignment for t, _h in truths]
        found = scan_submitted(course, assignments)  # every entry accounted for: nobody vanishes from the counts
        claims = claimed_forms(s, exam, assignments, [n for n in found.loose if n in roster])
    report = GradeReport(exam)
    console = console or Console(stderr=True)
    planned = [(truth, mhash, *split_roster(found.folders[truth.assignment], roster)) for truth, mhash in truths]
    for truth, _mhash, folders, _strangers in planned:  # every copy's path checked before the first score is stored
        check_copy_targets(truth, folders)
    seal_key = course_key(course)  # once per run, not per batch (after every check: a refused run stores nothing)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        for n, (truth, mhash, folders, strangers) in enumerate(planned):
            # what stands where a candidate's folder should be: set aside (scores pending), named
            aside = {c: why for c, why in found.odd[truth.assignment].items() if c in roster}
            aside |= {c: why for c, why in found.loose.items() if truth.assignment in claims.get(c, ())}
            fr = FormReport(truth.assignment, submissions=len(folders) + len(aside))
            fr.unknown = {f.parent.name: unknown_message(truth, f) for f in strangers}
            fr.unknown |= {c: unknown_message(truth, course.submitted_dir / c / truth.assignment, why)
                           for c, why in found.odd[truth.assignment].items() if c not in roster}
            if n == 0:  # claimed by no form: said once, with the first form's flags
                fr.unknown |= {c: loose_message(why) for c, why in found.loose.items() if c not in claims}
            report.forms.append(fr)
            _record_unknown(course, truth.assignment, fr.unknown, actor, reason)
            task = progress.add_task(f"scoring {truth.assignment}", total=len(folders) + len(aside))
            batch: list[Scored] = [Scored(student=c).put_aside(truth, set_aside_message(truth.exam_name, why))
                                   for c, why in sorted(aside.items())]
            with contextlib.closing(_results(truth, folders, workers)) as results:
                for result in results:
                    batch.append(result)
                    progress.advance(task)
                    if len(batch) >= settings.batch_size:
                        _write_batch(course, truth, batch, fr, actor, reason, mhash, seal_key)
                        batch = []
            if batch:
                _write_batch(course, truth, batch, fr, actor, reason, mhash, seal_key)
    return report
