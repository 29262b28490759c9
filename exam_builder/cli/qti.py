"""Commands of QTI interchange: `export qti` (a staff export of items with their keys) and `import qti`.

Both are thin calls into ``exam_builder.qti``. `export` and `import` are groups so other formats can
join them later. `import qti` writes into the course (source/), so it runs under the course lock.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import ExamBuilderError, ValidationFailed, rel
from .common import console, err_console, pass_course


@click.group("export")
def export_group() -> None:
    """Staff exports of the bank in other formats (written under exports/, never released)."""


@export_group.command("qti")
@click.option("--items", "item_ids", default=None, help="Export these items only: ids separated by commas.")
@click.option("--exam", default=None,
              help="With --form: the exam whose built form to export (default: the course's only exam).")
@click.option("--form", "form_label", default=None,
              help="Export the items of this built form (its label, e.g. A), in form order.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The zip to write (default: exports/qti/<bank|exam-form|items>.zip).")
@pass_course
def export_qti(course, item_ids: str | None, exam: str | None, form_label: str | None, out: Path | None) -> None:
    """Write an IMS QTI 3.0 content package of the bank, chosen items or a built form.

    STAFF ONLY: the package holds every key (correct responses, scoring and rationales) and the
    scorers' rubrics, like the key exports; it goes under exports/ and must never reach candidates.
    Every file is validated against the IMS QTI 3.0 schemas before the zip is written.
    """
    from ..assembly.blueprint import check_blueprint
    from ..bank.check import check
    from ..kinds import kind_for
    from ..qti.export import build_package, select_items, write_zip

    if item_ids and form_label:
        raise ExamBuilderError("give --items or --form, not both")
    report = check(course, blueprint_check=check_blueprint)
    form_ids, name = None, "bank"
    if form_label:
        from ..assembly.forms import require_forms

        exam_name = course.exam_name(exam)
        course.db.require_current()
        with course.db.read() as s:
            forms = {m.form: m for _, m in require_forms(s, exam_name)}
        manifest = forms.get(form_label.upper())
        if manifest is None:
            raise ExamBuilderError(f"exam {exam_name!r} has no form {form_label!r}; it has {', '.join(sorted(forms))}")
        form_ids, name = [e.item_id for e in manifest.items], manifest.assignment
    ids = [i.strip() for i in item_ids.split(",") if i.strip()] if item_ids else None
    if ids:
        name = "items"
    items = select_items(report.bank, ids, form_ids)
    chosen = {i.id for i in items} | {i.rubric_id for i in items if kind_for(i.kind).rubric} | {
        i.scenario for i in items if i.scenario}
    # the rest of the bank may be mid-edit
    errors = [p for p in report.problems if p.is_error and p.location.item in chosen]
    if errors:
        raise ValidationFailed(errors)
    pkg = build_package(report.bank, report.rubrics, items, label=name)
    path = write_zip(pkg, out or course.reports_dir / "qti" / f"{name}.zip", root=course.root)
    for old, new in pkg.identifiers.items():
        console.print(f"  item {old} has the QTI identifier {new} (ids must be XML names; import restores {old})",
                      highlight=False, markup=False)
    console.print(f"QTI 3.0 package: {pkg.items} item(s), {pkg.stimuli} stimulus file(s), valid against the IMS "
                  f"schemas: {rel(path, course.root)} (staff only: it holds the keys)", highlight=False, markup=False)


@click.group("import")
def import_group() -> None:
    """Bring items from other formats into the bank, as drafts awaiting review."""


@import_group.command("qti")
@click.argument("package", type=click.Path(path_type=Path))
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the notebook to write (default: source/imported/).")
@click.option("--skip-problems", is_flag=True,
              help="Write the items that have no error and leave out those that have (all are reported).")
@click.option("--pool", type=click.Choice(["certification", "practice"]), default=None,
              help="The pool of items whose package does not say (no exam-builder metadata). Without it such "
                   "items are refused: a practice item shows its key to candidates, so the pool is never guessed.")
@click.option("--lift-passages", is_flag=True,
              help="Make a passage that several items' stems open with (a shared stimulus another tool inlined) "
                   "one scenario those items join.")
@pass_course
def import_qti(course, package: Path, into: Path | None, skip_problems: bool, pool: str | None,
               lift_passages: bool) -> None:
    """Read a QTI 3.0 package (or simple QTI 2.1/2.2 items) into an item notebook of drafts.

    Every construct that is not carried over is reported with its file and XML line; on any
    error nothing is written (unless --skip-problems). The package is read as hostile: a file over
    the size limits, a path or link out of the package, or a DOCTYPE is refused, and then nothing is
    written even with --skip-problems (docs/qti.md).
    """
    from ..bank import load_bank
    from ..qti.importer import import_package
    from ..safeload import absolute

    existing = set(load_bank([course.source_dir]).items) if course.source_dir.is_dir() else set()
    # a relative PACKAGE or --into is the working folder's, and messages print it as typed
    into_label = str(into) if into is not None else typed(course.source_dir / "imported")
    result = import_package(absolute(package), absolute(into) if into is not None else
                            course.source_dir / "imported", existing, label=str(package), skip_problems=skip_problems,
                            root=course.root, pool=pool, lift_passages=lift_passages, into_label=into_label)
    for problem in result.imported.problems:
        err_console.print(str(problem), highlight=False, markup=False, soft_wrap=True)
    skipped = f"; {result.skipped} item(s) left out for their errors" if result.skipped else ""
    console.print(f"imported {len(result.imported.items)} item(s) and {len(result.imported.scenarios)} scenario(s) as "
                  f"drafts into {result.shown}{skipped}; review them, then run "
                  f"'exam-builder check {result.shown}'", highlight=False, markup=False)


def typed(path: Path) -> str:
    """A path the user can type from the working folder: relative to it when inside it, else absolute."""
    import os

    from ..safeload import absolute

    shown = os.path.relpath(absolute(path), absolute(Path(".")))
    return str(absolute(path)) if shown.startswith("..") else shown


COMMANDS = [export_group, import_group]
