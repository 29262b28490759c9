"""Commands of the bank domain: check the authored files, list the bank, sync item metadata."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..bank import load_bank
from ..bank.check import CheckReport, check
from ..bank.parse import synced_notebook, write_notebooks
from ..errors import ExamBuilderError, ValidationFailed, rel
from . import console, err_console, pass_course

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


def _print_report(report: CheckReport) -> None:
    """One plain line per problem (easy to grep and to click in an editor), then a summary."""
    for problem in report.problems:
        click.echo(str(problem))
    style = "bold red" if report.errors else ("yellow" if report.warnings else "green")
    console.print(f"[{style}]{escape(report.summary())}[/]", highlight=False, soft_wrap=True)


def register(cli: click.Group) -> None:
    @cli.command("check")
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

    @cli.group()
    def bank() -> None:
        """The item bank: the items authored in source/."""

    @bank.command("list")
    @PATHS
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON array of items.")
    @pass_course
    def list_cmd(course, paths: tuple[Path, ...], as_json: bool) -> None:
        """List the items of the bank (default: every notebook under source/)."""
        targets = list(paths) or [course.source_dir]
        for path in targets:
            if not path.exists():
                raise ExamBuilderError(f"{rel(path, course.root)}: no such file or folder; check the path")
        bank = load_bank(targets, lambda p: rel(p, course.root))
        rows = [
            {
                "id": item.id,
                "kind": item.kind.value,
                "competency": item.competency,
                "module": item.module,
                "points": int(item.points) if float(item.points).is_integer() else item.points,
                "status": item.status.value,
                "difficulty": item.difficulty,
                "scenario": item.scenario,
                "rubric": item.rubric_id if not item.kind.objective else None,
                "author": item.author,
                "reviewer": item.reviewer,
                "file": item.where.file,
                "cell": item.where.cell,
            }
            for item in bank.items.values()
        ]
        if bank.problems:
            err_console.print(
                f"[yellow]{len(bank.problems)} problem(s) in the bank; run 'exam-builder check' to see them[/]",
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
        for item, r in zip(bank.items.values(), rows):
            table.add_row(escape(r["id"]), item.kind.tag, escape(r["competency"]), str(r["module"] or ""),
                          str(r["points"]), r["status"], escape(f"{r['file']}:{r['cell']}"))
        console.print(table)

    @bank.command("sync")
    @PATHS
    @click.option("--normalize", is_flag=True, help="Also rewrite each item cell in the canonical layout.")
    @pass_course
    def sync_cmd(course, paths: tuple[Path, ...], normalize: bool) -> None:
        """Store each parsed item in its cell's metadata (exam_builder); nothing is written on errors."""
        report = check(course, list(paths) or None)
        if report.errors:
            raise ValidationFailed(report.problems)
        updates = {}
        for nb in report.bank.notebooks:
            if paths and not _named(nb.path, paths):
                continue  # read as context only
            updated = synced_notebook(nb.path, nb.items, nb.scenarios, normalize=normalize)
            if updated is not None:
                updates[nb.path] = updated
        try:
            write_notebooks(updates)
        except OSError as exc:
            raise ExamBuilderError(f"cannot write {exc.filename}: {exc.strerror}; nothing was changed") from exc
        for path in updates:
            click.echo(f"updated {rel(path, course.root)}")
        console.print(f"{len(updates)} notebook(s) updated", highlight=False)


def _named(path: Path, paths: tuple[Path, ...]) -> bool:
    """Whether ``path`` is one of the files named, or inside one of the folders named."""
    path = path.resolve()
    for p in paths:
        p = p.resolve()
        if path == p or p in path.parents:
            return True
    return False
