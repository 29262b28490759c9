"""Demo stage: the program's report (``exam-builder report cps``) on the demo cohort."""
from __future__ import annotations

from ...analysis.report import write_report


def run(ctx) -> None:
    course, console = ctx.course, ctx.console
    console.print(f"[bold]The program's report:[/] exam-builder report {ctx.exam}")
    path = write_report(course, ctx.exam, course.report_dir(ctx.exam))
    tables = sorted((path.parent / "tables").glob("*.csv"))
    console.print(f"{path} ({path.stat().st_size // 1024} KB, figures embedded, no network), "
                  f"{len(tables)} tables as CSV and report.json beside it", highlight=False)
