"""`exam-builder report`: the program's report (see ``analysis.report``), from a database at the
current revision (``pass_course_db``)."""
from __future__ import annotations

from pathlib import Path

import click

from .common import console, pass_course_db


@click.command()
@click.argument("exam")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for report.html, report.json and tables/ (default: reports/out/EXAM).")
@click.option("--cohort", "cohort", default=None,
              help="Only the candidates of this cohort (the roster's cohort column).")
@click.option("--class", "cohort_old", default=None, hidden=True,
              help="The old spelling of --cohort (a class is one training session; a cohort is the group).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Sittings on or after this date.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Sittings on or before this date.")
@pass_course_db
def report(course, exam, out, cohort, cohort_old, since, until) -> None:
    """Write the program's report: cohort, scores, reliability, items, raters, form comparability."""
    from ..analysis.report import write_report

    if cohort_old is not None and cohort is not None and cohort_old != cohort:
        raise click.UsageError("give --cohort once (--class is its old spelling)")
    cohort = cohort if cohort is not None else cohort_old

    out = out or course.report_dir(exam)
    with console.status("reading sittings, scores and ratings…"):
        path = write_report(course, exam, out, cohort, since.date() if since else None,
                            until.date() if until else None)
    console.print(f"report written to {path} (tables in {path.parent / 'tables'}, report.json beside it)")


COMMANDS = [report]
