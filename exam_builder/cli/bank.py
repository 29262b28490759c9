"""Commands of the bank domain: check the authored files, list the bank, sync item metadata.

None of them touches the database; the work is in ``bank.check`` and ``bank.sync``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..bank.check import CheckReport, check
from ..bank.sync import item_rows, list_bank, sync_bank
from ..errors import rel
from .common import console, err_console, pass_course

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


def _print_report(report: CheckReport) -> None:
    """One plain line per problem (easy to grep and to click in an editor), then a summary."""
    for problem in report.problems:
        click.echo(str(problem))
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
    report = check(course, list(paths) or None)
    _print_report(report)
    if report.errors:
        sys.exit(1)


@click.group()
def bank() -> None:
    """The item bank: the items authored in source/."""


@bank.command("list")
@PATHS
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of items.")
@pass_course
def list_cmd(course, paths: tuple[Path, ...], as_json: bool) -> None:
    """List the items of the bank (default: every notebook under source/)."""
    items = list_bank(course, list(paths))
    rows = item_rows(items)
    if items.problems:
        err_console.print(
            f"[yellow]{len(items.problems)} problem(s) in the bank; run 'exam-builder check' to see them[/]",
            highlight=False,
        )
    if as_json:
        click.echo(json.dumps(rows, indent=1, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows)} items", show_lines=False)
    table.add_column("id", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    for name in ("competency", "module", "points", "status"):
        table.add_column(name, justify="right" if name in ("module", "points") else "left")
    table.add_column("file:cell", overflow="fold")
    for item, r in zip(items.items.values(), rows):
        table.add_row(escape(r["id"]), item.kind.tag, escape(r["competency"]), str(r["module"] or ""),
                      str(r["points"]), r["status"], escape(f"{r['file']}:{r['cell']}"))
    console.print(table)


@bank.command("sync")
@PATHS
@click.option("--normalize", is_flag=True, help="Also rewrite each item cell in the canonical layout.")
@pass_course
def sync_cmd(course, paths: tuple[Path, ...], normalize: bool) -> None:
    """Store each parsed item in its cell's metadata (exam_builder); nothing is written on errors."""
    updated = sync_bank(course, list(paths), normalize=normalize)
    for path in updated:
        click.echo(f"updated {rel(path, course.root)}")
    console.print(f"{len(updated)} notebook(s) updated", highlight=False)


COMMANDS = [check_cmd, bank]
