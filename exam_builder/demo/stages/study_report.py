"""Demo stage 'study_report': the standard-setting study's report, now with impact data.

Once the cohort has sat and been graded, the study report shows what the adopted standard means
on real candidates: each form's raw cut with the pass rate at it and at +-1 and +-2 standard
errors, and each item's facility beside its ratings. Written beside the program's report
(``reports/out/cps/standard-setting-1.html`` and its CSV) by ``exam-builder standard report``.

Reads ``ctx.state["study"]`` (the standard stage).
"""
from __future__ import annotations

from ...errors import rel


def run(ctx) -> None:
    from ...cli import cli
    from ...cli.standard import study_summary

    study = ctx.state.get("study", 1)
    cli.main(["--course", str(ctx.course.root), "standard", "report", str(study)], prog_name="exam-builder",
             standalone_mode=False)
    summary = study_summary(ctx.course, study)
    last = summary.rounds[-1]
    for f in last.forms:
        if f.adopted is None or not f.candidates:
            continue
        rates = ", ".join(f"{lab} {cut:.2f}: {rate:.0%}" for lab, cut, rate in f.impact if rate is not None)
        ctx.console.print(f"  {f.assignment}: adopted raw cut {f.adopted:.2f} of {f.points:g}; pass rate of its "
                          f"{f.candidates} candidates at the panel's cut and around it: {rates}", highlight=False)
    path = ctx.course.report_dir(ctx.exam) / f"standard-setting-{study}.html"
    ctx.console.print(f"The study report, as an accreditor reads it: {rel(path, ctx.course.root)}", highlight=False)
