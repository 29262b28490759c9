"""Commands of the bank domain: check the authored files, list the bank, sync item metadata, review items.

``check`` and ``bank sync`` never touch the database; ``bank list`` reads the recorded reviews
when the database is there (and says so when it is not); ``bank review`` records a decision.
The work is in ``bank.check``, ``bank.sync`` and ``bank.review``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..assembly.blueprint import check_blueprint
from ..bank.check import CheckReport, check
from ..bank.review import list_reviews, review_many
from ..bank.sync import item_rows, list_bank, sync_bank
from ..errors import ExamBuilderError, rel
from ..model.states import ReviewDecision
from ..text import visible
from .common import by_option, console, err_console, pass_course, pass_course_db

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


def _print_report(report: CheckReport) -> None:
    """One plain line per problem (easy to grep and to click in an editor), then a summary."""
    for problem in report.problems:
        click.echo(str(problem))
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    style = "bold red" if report.errors else ("yellow" if report.warnings else "green")
    console.print(f"[{style}]{escape(report.summary())}[/]", highlight=False, soft_wrap=True)


@click.command("check")
@PATHS
@pass_course
def check_cmd(course, paths: tuple[Path, ...]) -> None:
    """Check notebooks, rubrics and blueprints; report every problem at once.

    PATHS are files or folders (default: the course's source/ and rubrics/). Exit 1 on any
    error, 0 when there are only warnings.
    """
    from ..assembly.standard_line import course_check

    # a blueprint's `standard:` is held to the course's records too (the board's decision in force)
    report = check(course, list(paths) or None, blueprint_check=course_check(course), reviews=list_reviews)
    _print_report(report)
    if report.errors:
        sys.exit(1)


@click.group()
def bank() -> None:
    """The item bank: the items authored in source/."""


@bank.command("list")
@PATHS
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of items.")
@click.option("--waiting", is_flag=True, help="Only the live items that wait for a review (never reviewed, a "
              "revision asked for, or changed since their approval): what `bank review --all-pending` reviews. "
              "A draft or retired item waits for its author, not a reviewer.")
@pass_course
def list_cmd(course, paths: tuple[Path, ...], as_json: bool, waiting: bool) -> None:
    """List the items of the bank (default: every notebook under source/) with their review state."""
    items = list_bank(course, list(paths))
    reviews = list_reviews(course, items)
    rows = item_rows(items, reviews)
    if items.problems:
        err_console.print(
            f"[yellow]{len(items.problems)} problem(s) in the bank; run 'exam-builder check' to see them[/]",
            highlight=False,
        )
    if reviews is None and waiting:
        raise ExamBuilderError("--waiting needs the course database, which holds the reviews; it is missing or "
                               "not current (run 'exam-builder db upgrade')")
    if reviews is None:
        err_console.print("[yellow]no current database: review states are not known (run 'exam-builder db upgrade')[/]",
                          highlight=False)
    pairs = list(zip(items.items.values(), rows, strict=False))
    if waiting:
        pairs = [(item, r) for item, r in pairs if r["waiting_for_review"]]
    if as_json:
        click.echo(json.dumps([r for _, r in pairs], indent=1, ensure_ascii=False))
        return
    if waiting and not pairs:
        console.print("No live item waits for review: every item `build` may draw has its approval recorded.",
                      highlight=False)
        return
    title = f"{len(pairs)} items" + (" waiting for review" if waiting else "")
    table = Table(title=title, show_lines=False)
    table.add_column("id", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    for name in ("competency", "module", "points", "status", "pool"):
        table.add_column(name, justify="right" if name in ("module", "points") else "left")
    table.add_column("review", overflow="fold")
    table.add_column("file:cell", overflow="fold")
    for item, r in pairs:
        table.add_row(escape(r["id"]), item.kind.tag, escape(r["competency"]), str(r["module"] or ""),
                      str(r["points"]), r["status"], r["pool"], escape(r["review"] or "unknown"),
                      escape(f"{r['file']}:{r['cell']}"))
    console.print(table)
    if reviews is not None and not waiting:
        n = sum(1 for _, r in pairs if r["waiting_for_review"])
        console.print(f"{n} item(s) wait for review (exam-builder bank list --waiting)", highlight=False)


@bank.command("sync")
@PATHS
@click.option("--normalize", is_flag=True, help="Also rewrite each item cell in the canonical layout.")
@pass_course
def sync_cmd(course, paths: tuple[Path, ...], normalize: bool) -> None:
    """Store each parsed item in its cell's metadata (exam_builder); nothing is written on errors."""
    updated = sync_bank(course, list(paths), normalize=normalize, blueprint_check=check_blueprint)
    for path in updated:
        click.echo(f"updated {visible(rel(path, course.root))}")
    console.print(f"{len(updated)} notebook(s) updated", highlight=False)


def _items_and_paths(args: tuple[str, ...], paths: tuple[Path, ...]) -> tuple[list[str], list[Path]]:
    """The item ids and the bank's files or folders among ``bank review``'s arguments: an argument with
    a '/' in it, ending in '.ipynb', or naming an existing folder is where the bank is (as before)."""
    ids, where = [], list(paths)
    for arg in args:
        if "/" in arg or arg.endswith(".ipynb") or Path(arg).is_dir():
            where.append(Path(arg))
        else:
            ids.append(arg)
    return ids, where


@bank.command("review")
@click.argument("items", nargs=-1, metavar="ITEM")
@click.option("--decision", required=True, type=click.Choice(ReviewDecision.values()),
              help="approve: may be used on certification forms as it is now; revise: the author must change it; "
                   "retire: taken out of use for good.")
@by_option("The reviewer (never the item's author); default $EXAM_BUILDER_USER or the login name. Required "
           "for several items at once.", dest="by")
@click.option("--comment", "--reason", "comment", default="",
              help="Why; required for revise (what to change) and retire, and for several items at once "
                   "(recorded on each).")
@click.option("--all-pending", is_flag=True,
              help="Every item whose header says live and that waits for review (never reviewed, a revision asked "
                   "for, changed since approval); the reviewer's own items are left alone and listed.")
@click.option("--dry-run", is_flag=True, help="List the reviews that would be recorded; write nothing.")
@click.option("--in", "paths", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="Where the bank is (a notebook or folder; default: source/).")
@pass_course_db
def review_cmd(course, items: tuple[str, ...], decision: str, by: str | None, comment: str, all_pending: bool,
               dry_run: bool, paths: tuple[Path, ...]) -> None:
    """Record a review of each ITEM's current content: who decided what, when, on which version (audited).

    An item is drawn on certification forms only when a reviewer other than its author approved its
    current content; an edit after the approval sends it back to review. Several ITEMs, or
    --all-pending, are reviewed in one go: one check of the bank, one transaction, one review and one
    audit entry per item; if any ITEM is refused, nothing is recorded. Try --dry-run first.
    """
    ids, where = _items_and_paths(items, paths)
    batch = review_many(course, ids, decision, by, comment, where, all_pending=all_pending, dry_run=dry_run)
    for out in batch.outcomes:
        tail = "" if batch.dry_run else f"; audit entry {out.audit_id}"
        console.print(f"{'would be: ' if batch.dry_run else ''}{escape(out.item.id)} ({escape(out.item.where.file)}"
                      f":cell {out.item.where.cell}): {escape(out.after.label)} (was: {escape(out.before.label)})"
                      f"{tail}", highlight=False, soft_wrap=True)
    for problem in batch.skipped:
        err_console.print(f"[yellow]left alone:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    if len(batch.outcomes) + len(batch.skipped) > 1 or all_pending:
        n, verb = len(batch.outcomes), ("would be recorded; nothing was written (run again without --dry-run)"
                                        if batch.dry_run else "recorded")
        left = f"; {len(batch.skipped)} item(s) left alone (listed above)" if batch.skipped else ""
        console.print(f"{n} '{decision}' review(s) {verb}{left}", highlight=False, soft_wrap=True)


COMMANDS = [check_cmd, bank]
