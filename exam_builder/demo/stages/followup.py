"""Demo stage 'followup': after the results, what the coordinator and the authors see next.

1. Item analysis per form (facility, discrimination, KR-20), and which items now have enough
   scored responses for the next build to balance forms on observed facility instead of the
   authors' estimates.
2. A candidate who did not pass: their attempt history (tutoring offered automatically) and
   why they cannot sit again yet (the waiting period), through the same commands staff use.
3. The audit trail's hash chain, verified.

Reads ``ctx.state["results"]`` (grading stage).
"""
from __future__ import annotations

from rich.table import Table

from ...analysis.items import analyse, pooled_facility
from ...model.states import Outcome


def _invoke(ctx, *args: str) -> None:
    """Run an `exam-builder` command in-process, exactly as staff would type it."""
    from ...cli import cli

    cli.main(["--course", str(ctx.course.root), *args], prog_name="exam-builder", standalone_mode=False)


def run(ctx) -> None:
    console, course, exam = ctx.console, ctx.course, ctx.exam

    reports = analyse(course, exam)
    table = Table(title=f"Item analysis of {exam} (fully scored candidates)")
    for col in ("form", "candidates", "mean", "sd", "reliability", "items with discrimination < 0.1"):
        table.add_column(col, justify="left" if col == "form" else "right")
    for r in reports:
        low = sum(1 for it in r.items if it.discrimination is not None and it.discrimination < 0.1)
        table.add_row(r.assignment, str(r.n), f"{r.mean:.1f}" if r.mean is not None else "-",
                      f"{r.sd:.1f}" if r.sd is not None else "-",
                      f"{r.reliability_name} {r.reliability:.2f}" if r.reliability is not None else "-", str(low))
    console.print(table)
    stats = pooled_facility(reports)
    console.print(f"{len(stats)} item(s) have 30 or more scored responses; the next `exam-builder build {exam}` "
                  "balances forms on their observed facility: "
                  + ", ".join(f"{i} {p:.2f}" for i, p in list(stats.items())[:6]) + (" ..." if len(stats) > 6 else ""))

    failed = [r for r in ctx.state.get("results", []) if r.status == Outcome.failed]
    if failed:
        who = failed[0].candidate_id
        console.print(f"\n[bold]A candidate who did not pass:[/] exam-builder attempts {who}")
        _invoke(ctx, "attempts", who, "--exam", exam)  # ends with their standing (records.eligibility.standing)

    console.print("\n[bold]The audit trail:[/] exam-builder audit verify")
    _invoke(ctx, "audit", "verify")
