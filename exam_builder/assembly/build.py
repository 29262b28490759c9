"""``exam-builder build``: assemble, lint, render, release through nbgrader, store, export.

Order matters for "nothing half-written": everything is validated and assembled in memory
first; issued forms are checked before any file is touched; the changed forms' folders are
backed up, written and released by nbgrader, the whole ``release/`` is scanned for keys, and
only then are the forms stored in one audited transaction. Any failure restores the folders
(and nbgrader's gradebook entries) as they were.

The build balances forms on the facilities it is given (``p_values``): reading them from past
sittings is analysis, a layer above (the CLI does it). ``lint_stored`` is ``exam-builder lint``:
the stored forms against today's bank, and the release scan (the pure checks are ``lint``).
"""
from __future__ import annotations

import glob
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..bank import Bank, Status, load_bank
from ..bank.review import Review, gate
from ..course import Course
from ..errors import ExamBuilderError, Location, Problem, ValidationFailed, rel
from ..files import check_owned, remove_file
from ..lock import scratch_dir
from ..model.manifest import Manifest
from ..model.rubric import Rubric, load_rubrics
from ..model.states import AuditAction
from ..records import audit
from ..records.csvfile import CellError, Column, decimal, read_csv
from ..records.cuts import effective_cuts
from ..records.models import Exam, Form, utcnow
from ..records.queries import forms as forms_q, sittings as sittings_q
from ..records.text import shown
from ..safeload import LoadError, holds, read_notebook
from .assemble import Assembly, assemble, form_balance, overlap_matrix
from .blueprint import Blueprint, expected_p, fmt_cut, load_blueprint
from .exports import comparison_path, key_paths, write_comparison, write_key
from .forms import load_forms, nbgrader_submissions, require_forms, sitting_counts
from .lint import lint_manifests, lint_notebook, rationale_texts, released_files, scan_release
from .release import (
    check_release_targets,
    generate_assignment,
    nbgrader_api,
    release_path,
    restorable,
    source_notebook,
    write_atomic,
)
from .render import notebook_text, render_form
from .standard_line import check_for_build, decision_number, describe

if TYPE_CHECKING:
    from ..standard.study import Standard


@dataclass
class FormOutcome:
    manifest: Manifest
    status: str  # new | rebuilt | re-released | unchanged
    text: str = ""  # the rendered source notebook


@dataclass
class BuildResult:
    exam: str
    blueprint: Blueprint
    assembly: Assembly
    outcomes: list[FormOutcome]
    keys: list[tuple[Path, Path]] = field(default_factory=list)
    comparison: Path | None = None
    #: Where the forms' cuts come from, in words: the board's standard the blueprint names, or its flat cut_score.
    cut_source: str = ""
    #: Each form's points to pass as results will read them (label -> (points, a note: why a frozen form's cut
    #: differs from what this build would give it, else "")).
    cuts: dict[str, tuple[float, str]] = field(default_factory=dict)

    @property
    def changed(self) -> list[FormOutcome]:
        return [o for o in self.outcomes if o.status != "unchanged"]

    @property
    def assignments(self) -> list[str]:
        return [o.manifest.assignment for o in self.outcomes]


@dataclass(frozen=True)
class _StoredForm:
    """What the build needs of an ``eb_form`` row, read before any file is touched."""

    id: int
    label: str
    assignment: str
    manifest_hash: str


def load_checked_bank(course: Course, exam: str) -> tuple[Bank, dict[str, Rubric]]:
    """The exam's bank (with its recorded reviews: ``bank.review.gate``) and the rubrics,
    validated (every error at once): what certification forms and practice sets are drawn from."""
    exam_dir = course.exam_dir(exam)
    label = lambda p: rel(p, course.root)  # noqa: E731
    course.require_inside(exam_dir)  # the link rule of `check`, for the folders walked as well as the files
    course.require_inside(course.rubrics_dir)
    if not exam_dir.is_dir():
        raise ExamBuilderError(f"{label(exam_dir)}: no such folder; the items and blueprint of exam {exam!r} go there")
    bank = load_bank([exam_dir], label)
    bank = gate(course, bank)  # live: approved by a reviewer other than the author (c.BankSettings)
    rubrics, rubric_problems = load_rubrics([course.rubrics_dir], label) if course.rubrics_dir.exists() else ({}, [])
    from ..bank.validate import validate

    errors = [p for p in bank.problems + rubric_problems
              + validate(bank, rubrics, course.policy, recorded_review=course.bank_settings.require_recorded_review)
              if p.is_error]
    if errors:
        raise ValidationFailed(errors)
    return bank, rubrics


def load_inputs(course: Course, exam: str) -> tuple[Bank, dict[str, Rubric], Blueprint]:
    """``load_checked_bank`` and the exam's blueprint, validated against them."""
    bank, rubrics = load_checked_bank(course, exam)
    path = course.blueprint_path(exam)
    course.require_inside(path)  # the link rule of `check`: never a blueprint from out of the course
    bp = load_blueprint(path, bank, rubrics, course.policy, rel(path, course.root))
    return bank, rubrics, bp


ITEM_STATS_COLUMNS = (Column("item_id", ("item", "item id")), Column("p_value", ("p", "p value", "facility")))


def read_item_stats(path: Path, root: Path | None = None) -> dict[str, float]:
    """Item statistics from past sittings: a CSV with columns ``item_id`` and ``p_value`` (0..1).

    Read by ``records.csvfile.read_csv`` (``safeload``: a regular UTF-8 file, size limit; the
    header matched loosely, every cell checked), with every bad row located, all at once.
    """
    sheet = read_csv(path, ITEM_STATS_COLUMNS, root)
    out: dict[str, float] = {}
    first: dict[str, int] = {}
    for row in sheet.rows:
        item = sheet.required(row, "item_id", "the item id")
        raw = row.get("p_value")
        try:
            p = decimal(raw, "p_value", 0.0, 1.0)
        except CellError:
            if "p_value" not in row.bad:
                where = Location(sheet.label, row=row.number, column=sheet.headers.get("p_value"), item=item)
                sheet.problems.append(Problem(where, f"p_value {shown(raw)} is not a proportion between 0 and 1"))
            continue
        if item is None:
            continue
        if item in first:  # two values for one item: which one would count is nobody's decision
            sheet.error(row.number, "item_id", f"item {shown(item)} is given twice (rows {first[item]} and "
                                               f"{row.number}); keep one")
            continue
        first[item] = row.number
        out[item] = p
    sheet.raise_if_errors()
    return out


#: What the blueprint itself sets on a form (not what an assembly chose): an issued form must
#: still agree with the blueprint on these, or the build is refused.
BLUEPRINT_FIELDS = ("title", "time_limit_minutes", "cut_score")


def issued_drift(old: Manifest, fresh: Manifest, bank: Bank, cut_governed: bool = False) -> list[str]:
    """How an issued form no longer matches its inputs: items or scenarios edited, removed or
    retired since it was built, or the blueprint's own settings changed. Not whether a fresh
    assembly would choose the same items today (past sittings' facility, another seed): an issued
    form is never re-assembled, so an unchanged bank and blueprint are a no-op. With a standard in
    force (``cut_governed``) the cut is not the blueprint's: an issued form keeps its frozen cut
    until a recorded re-cut (``standard recut``), which is no drift."""
    changed = []
    for e in old.items:
        item = bank.items.get(e.item_id)
        if item is None:
            changed.append(f"{e.item_id} (removed from the bank)")
        elif item.content_hash() != e.content_hash:
            where = f" in {item.where.file} cell {item.where.cell}" if item.where.file else ""
            changed.append(f"{e.item_id} (edited{where})")
        elif item.status is not Status.live:
            changed.append(f"{e.item_id} (now {item.status.value})")
        elif bank.reviews is not None and e.item_id in bank.reviews and bank.reviews[e.item_id].state is Review.retired:
            # waiting for review is no drift (the issued content is unchanged); a recorded retire is
            changed.append(f"{e.item_id} ({bank.reviews[e.item_id].label})")
    for sid, h in old.scenarios.items():
        sc = bank.scenarios.get(sid)
        if sc is None or sc.content_hash() != h:
            changed.append(f"scenario {sid} (edited or removed)")
    changed += [f"the blueprint's {k.replace('_', ' ')} ({getattr(old, k)} when issued, {getattr(fresh, k)} now)"
                for k in BLUEPRINT_FIELDS if getattr(old, k) != getattr(fresh, k)
                and not (cut_governed and k == "cut_score")]
    return changed


def _refusal(row: _StoredForm, changed: list[str], sittings: int, submissions: int) -> str:
    given = f"{sittings} sitting(s)" if sittings else f"{submissions} submission(s) in nbgrader's gradebook"
    return (f"form {row.label} ({row.assignment}) was issued to candidates ({given}) and is frozen; "
            f"these changed since it was built: {', '.join(changed)}. The build changed nothing.")


def build(
    course: Course,
    exam: str,
    *,
    forms: int | None = None,
    seed: int | None = None,
    first_label: str = "A",
    p_values: Mapping[str, float] | None = None,
    actor: str | None = None,
    reason: str = "",
    console: Console | None = None,
) -> BuildResult:
    """Build, release and store the forms of ``exam``; see the module docstring for the order."""
    console = console or Console(stderr=True)
    actor = audit.current_actor(actor)
    bank, rubrics, bp = load_inputs(course, exam)
    # the board's standard the blueprint names, held to the records (refused, located, before anything is written)
    standard = _standard(course, exam, bp)
    uncovered: set[str] = set()
    with _progress(console) as progress:
        task = progress.add_task("assembling forms", total=None)
        result_assembly = assemble(exam, bp, bank, rubrics, course.policy, seed=seed, forms=forms,
                                   first_label=first_label, p_values=p_values,
                                   form_cut=_form_cut(course, exam, standard, uncovered) if standard is not None
                                   else None)
        progress.update(task, total=1, completed=1)
    governed = standard is not None
    problems = lint_manifests(result_assembly.manifests, bank, rubrics)
    rendered: dict[str, str] = {}
    for m in result_assembly.manifests:
        nb = render_form(m, bank)
        problems += lint_notebook(nb, rel(source_notebook(course, m.assignment), course.root))
        rendered[m.assignment] = notebook_text(nb)
    if any(p.is_error for p in problems):
        raise ValidationFailed(problems)

    course.db.require_current()
    with course.db.read() as s:
        stored = {f.label: (_StoredForm(f.id, f.label, f.assignment, f.manifest_hash), m) for f,
                  m in load_forms(s, exam)}
        sittings = sitting_counts(s, [f.id for f, _ in stored.values()])
        issued = set(sittings)
        submitted = nbgrader_submissions(s, [f.assignment for f, _ in stored.values()])
        issued |= {f.id for f, _ in stored.values() if f.assignment in submitted}
        taken = set(forms_q.select_assignments(s, other_than_exam=exam))

    outcomes: list[FormOutcome] = []
    refusals: list[str] = []
    for m in result_assembly.manifests:
        if m.assignment in taken:
            raise ExamBuilderError(f"assignment {m.assignment} belongs to another exam; use another exam id or "
                                   "--first-label")
        text = rendered[m.assignment]
        row, old = stored.get(m.form, (None, None))
        if row is not None and row.id in issued:
            assert old is not None  # stored with its row
            drift = issued_drift(old, m, bank, cut_governed=governed)
            if drift:
                refusals.append(_refusal(row, drift, sittings.get(row.id, 0), submitted.get(row.assignment, 0)))
                continue
            m = old  # frozen: keep the manifest exactly as issued
            text = notebook_text(render_form(m, bank))
        if row is not None and row.manifest_hash == m.hash():
            src = source_notebook(course, m.assignment)
            # the program's own file (no link anywhere: check_owned), holding exactly this (safeload.holds)
            fresh = (check_owned(src, course.root) and holds(src, text)
                     and check_owned(release_path(course, m.assignment), course.root))
            outcomes.append(FormOutcome(m, "unchanged" if fresh else "re-released", text))
        else:
            outcomes.append(FormOutcome(m, "rebuilt" if row is not None else "new", text))
    if refusals:
        nxt = chr(min(ord("Z"),
                      max(ord(label) for label in [*stored, *(m.form for m in result_assembly.manifests)]) + 1))
        raise ExamBuilderError(
            "\n".join(refusals)
            + "\nWhat to do: to keep the issued forms, undo the edits (e.g. restore the item notebooks from git); "
            f"to use the edited items, build new forms under other labels, e.g. `exam-builder build {exam} "
            f"--first-label {nxt}` "
            "(issued forms stay as they are), or copy the items under new ids."
        )

    would = {m.form: m.cut_score for m in result_assembly.manifests}  # each form's cut under this build's rule
    result = BuildResult(exam, bp, _as_kept(result_assembly, outcomes, bank, course, p_values), outcomes)
    result.cut_source, standard_ref = _cut_source(course, exam, bp, standard)
    result.cuts = _cuts(course, result, {label: row for label, (row, _m) in stored.items()}, uncovered, would)
    # every path the build writes is checked before the first change: a refused build changes nothing
    check_release_targets(course, [o.manifest.assignment for o in result.changed])
    for o in outcomes:
        for p in key_paths(course.exports_dir(exam), o.manifest):
            check_owned(p, course.root)
    check_owned(comparison_path(course.exports_dir(exam), exam, result.assembly), course.root)
    if result.changed:
        _release_and_store(course, exam, bp, bank, result, actor, reason, console, standard_ref)
    for o in outcomes:
        result.keys.append(write_key(course.exports_dir(exam), course.root, o.manifest, bank))
    max_overlap = bp.max_overlap if bp.max_overlap is not None else 0
    result.comparison = write_comparison(course.exports_dir(exam), course.root, exam, result.assembly,
                                         course.policy.competencies, max_overlap, result.cuts, result.cut_source)
    return result


def _as_kept(assembly: Assembly, outcomes: list[FormOutcome], bank: Bank, course: Course,
             p_values: Mapping[str, float] | None) -> Assembly:
    """The assembly as the build leaves the forms: an issued form kept as issued replaces the one this run
    assembled in its place, so the table's balance and overlap describe the released forms, not a new draw."""
    kept = [o.manifest for o in outcomes]
    if [m.hash() for m in kept] == [m.hash() for m in assembly.manifests]:
        return assembly
    p = {i.id: expected_p(i, course.policy, p_values) for i in bank.items.values()}
    for m in kept:  # an issued item is in the bank unchanged (else the build refused its drift)
        for e in m.items:
            p.setdefault(e.item_id, 0.5)
    return replace(assembly, manifests=kept, balance=[form_balance(m, p) for m in kept],
                   overlap=overlap_matrix(kept))


def _standard(course: Course, exam: str, bp: Blueprint) -> Standard | None:
    """The board's standard the blueprint names, which must be the one in force (``standard_line``: refused,
    located, when the blueprint and the records disagree); None for a blueprint with a flat cut. Each form
    then takes its own raw cut from the study's ratings (``standard.study.Standard.form_cut``)."""
    check_for_build(course, exam, bp)
    if bp.standard is None:
        return None
    from ..standard.study import standard_in_force

    with course.db.read() as s:
        return standard_in_force(s, exam)


def _form_cut(course: Course, exam: str, standard: Standard, uncovered: set[str]) -> Callable[[Manifest], float]:
    """Each assembled form's raw cut from the standard (``Standard.form_cut``), except that an issued form the
    study does not cover keeps its frozen cut (added to ``uncovered``): the build keeps an issued form as it was
    issued, or refuses its drift, and never re-cuts it. A form not yet issued that the study does not cover is
    refused, naming its unrated items."""

    def cut(m: Manifest) -> float:
        with course.db.read() as s:
            old = {f.label: (f, fm) for f, fm in load_forms(s, exam)}.get(m.form)
            issued = old is not None and bool(sitting_counts(s, [old[0].id]) or nbgrader_submissions(s, [m.assignment]))
        if old is None or not issued:
            return standard.form_cut(m)  # refused, naming its unrated items, when the study does not cover it
        try:  # an issued form is kept as issued: its cut under the standard is that of its issued items
            return standard.form_cut(old[1])
        except ExamBuilderError:
            uncovered.add(m.form)
            return old[1].cut_score

    return cut


def _cut_source(course: Course, exam: str, bp: Blueprint, standard: Standard | None) -> tuple[str, str | None]:
    """Where this build's cuts come from, in words, and the blueprint's ``standard:`` as the audit names it
    (None for a flat cut): what a coordinator reads beside each form's points to pass."""
    if standard is None:
        return f"the blueprint's flat cut_score {fmt_cut(bp.cut_score or 0)}", None
    with course.db.read() as s:
        number = decision_number(s, standard.decision)
    study = standard.view.study.id
    return (f"the board's standard the blueprint names, {describe(standard.decision, number)}: each form's raw cut "
            f"from study {study}'s item ratings"), f"decision {number} of study {study}"


def _cuts(course: Course, result: BuildResult, stored: Mapping[str, _StoredForm],
          uncovered: set[str], assembled: Mapping[str, float]) -> dict[str, tuple[float, str]]:
    """Each form's points to pass as results will read them (``records.cuts``): an issued form kept as issued
    keeps its frozen (or recorded re-cut) cut, and says so where this build would give it another or where the
    standard does not cover it (``uncovered``); ``assembled``: each form's cut under this build's rule."""
    kept = [(stored[o.manifest.form], o.manifest) for o in result.outcomes
            if o.manifest.form in stored and o.status in ("unchanged", "re-released")]
    with course.db.read() as s:
        effective = effective_cuts(s, kept) if kept else {}
    out: dict[str, tuple[float, str]] = {}
    for o in result.outcomes:
        m = o.manifest
        row = stored.get(m.form)
        cut = effective.get(row.id, m.cut_score) if row is not None else m.cut_score
        note = ""
        if abs(cut - assembled.get(m.form, cut)) > 1e-9:
            how = "re-cut" if row is not None and abs(cut - m.cut_score) > 1e-9 else "frozen when it was built"
            note = (f"{how}; this build would give {assembled[m.form]:.2f}: `exam-builder standard recut "
                    f"{result.exam} --form {m.form}` lists whose result would change")
        if m.form in uncovered:
            note = ("frozen when it was built; the standard's study did not rate all its items, so it cannot take "
                    "a cut from it (a study of its items and the board's decision can)")
        out[m.form] = (cut, note)
    return out


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def _release_and_store(course: Course, exam: str, bp: Blueprint, bank: Bank, result: BuildResult, actor: str,
                       reason: str, console: Console, standard: str | None) -> None:
    todo = result.changed
    folders = [p for o in todo for p in (course.source_dir / o.manifest.assignment,
                                         course.release_dir / o.manifest.assignment)]
    existed = {o.manifest.assignment: source_notebook(course, o.manifest.assignment).exists() for o in todo}
    api = nbgrader_api(course)
    try:
        with restorable(folders, scratch_dir(course), course.root):
            with _progress(console) as progress:
                task = progress.add_task("releasing forms with nbgrader", total=len(todo))
                for o in todo:
                    progress.update(task, description=f"releasing {o.manifest.assignment} with nbgrader")
                    src = source_notebook(course, o.manifest.assignment)
                    _clear_half_written(src, course.root)
                    write_atomic(src, o.text, root=course.root)
                    generate_assignment(course, o.manifest.assignment, api)
                    progress.advance(task)
                progress.update(task, description="released")
            findings = scan_release(course.release_dir, rationale_texts(bank), lambda p: rel(p, course.root))
            if findings:
                raise ValidationFailed(findings)
            _store(course, exam, bp, result, actor, reason, standard)
    except BaseException:
        _resync_gradebook(course, existed, api)
        raise


def _clear_half_written(src: Path, root: Path) -> None:
    """Remove what a build killed while writing ``src`` left beside it (``files.private_temp``'s
    ``.<name>.*.tmp``, the whole form with its keys): nbgrader releases every file of the folder, so the
    next build would release it too (the key scan then refuses every build until someone deletes it).
    Under the course lock no other command writes here: any such file is a dead run's."""
    for tmp in src.parent.glob(f".{glob.escape(src.name)}.*.tmp"):
        remove_file(tmp, root)


def _resync_gradebook(course: Course, existed: dict[str, bool], api: Any) -> None:
    """After a failed release, make nbgrader's gradebook match the restored folders again."""
    for assignment, had_source in existed.items():
        try:
            if had_source:
                api.generate_assignment(assignment, force=True, create=True)
            else:
                with course.db.gradebook() as gb:
                    gb.remove_assignment(assignment)
        except Exception:  # best effort: the original error is what the user must see
            pass


def _store(course: Course, exam: str, bp: Blueprint, result: BuildResult, actor: str, reason: str,
           standard: str | None) -> None:
    """Store the changed forms in one transaction, each change audited (with the form's cut and the board's
    decision it comes from, ``standard``; None for the blueprint's flat cut)."""
    now = utcnow()
    with course.db.transaction() as s:
        exam_row = s.get(Exam, exam)
        if exam_row is None:
            s.add(Exam(id=exam, title=bp.title))
            s.flush()
            audit.record(s, actor, AuditAction.exam_created, "exam", exam, reason or "first build of its forms",
                         title=bp.title)
        elif exam_row.title != bp.title:
            exam_row.title = bp.title
        for o in result.changed:
            m = o.manifest
            row = forms_q.select_form(s, exam, m.form)
            if row is not None and sittings_q.select_form_sitting_count(s, row.id) and o.status != "re-released":
                raise ExamBuilderError(f"form {m.assignment} was issued while it was being rebuilt; nothing was "
                                       "changed")
            previous = row.manifest_hash if row is not None else None
            if row is None:
                row = Form(exam_id=exam, label=m.form, assignment=m.assignment)
                s.add(row)
            row.seed = m.seed
            row.manifest = m.model_dump(mode="json")
            row.manifest_hash = m.hash()
            row.built_by = actor
            if o.status != "re-released":
                row.built_at = now
            row.released_at = now
            s.flush()
            action = {"new": AuditAction.form_built, "rebuilt": AuditAction.form_rebuilt,
                      "re-released": AuditAction.form_released}[o.status]
            audit.record(s, actor, action, "form", m.assignment, reason or f"exam-builder build {exam}",
                         seed=m.seed, manifest_hash=m.hash(), previous_manifest_hash=previous,
                         bank_hash=m.bank_hash, blueprint_hash=m.blueprint_hash, items=len(m.items),
                         cut_score=m.cut_score, standard=standard)


def lint_stored(course: Course, exam: str) -> tuple[list[Problem], int, int]:
    """Lint every stored form of an exam against the current bank and scan ``release/``.

    Returns the problems, the number of forms and the number of released files scanned.
    """
    bank, rubrics, _ = load_inputs(course, exam)
    with course.db.read() as s:
        manifests = [m for _, m in require_forms(s, exam)]
    problems = lint_manifests(manifests, bank, rubrics)
    for m in manifests:
        path = source_notebook(course, m.assignment)
        if check_owned(path, course.root):  # the program's own file: never read through a link
            try:
                problems += lint_notebook(read_notebook(path, where=rel(path, course.root)), rel(path, course.root))
            except LoadError as exc:
                problems.append(exc.problem)
        released = release_path(course, m.assignment)
        if not check_owned(released, course.root):
            problems.append(Problem(Location(rel(released, course.root)),
                                    f"form {m.assignment} is not released; run `exam-builder build {exam}`"))
    label = lambda p: rel(p, course.root)  # noqa: E731
    problems += scan_release(course.release_dir, rationale_texts(bank), label)
    n_files = len(released_files(course.release_dir)[0]) if course.release_dir.exists() else 0
    return problems, len(manifests), n_files
