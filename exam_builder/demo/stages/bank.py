"""Demo stage 'bank': check the sample bank (the demo stops on any error), summarize it, export
it as a QTI 3.0 package (a staff file: exports/qti/bank.zip, validated against the IMS schemas), and
review it.

The review is the recorded workflow of ``bank.review`` (``exam-builder bank review``): an
author's own review is refused, one draft item gets a 'revise' decision with what to change,
and a made-up reviewer who wrote none of the items approves every item whose header says
live, so that the assembly stage may draw them.

Puts in ``ctx.state``: ``bank`` (the parsed ``Bank``), ``rubrics`` (id -> ``Rubric``),
``bank_warnings`` (the warnings of the check) and ``approved`` (the ids approved). Reads
nothing from earlier stages.
"""
from __future__ import annotations

from collections import Counter

from rich.table import Table

from ...assembly.blueprint import check_blueprint
from ...bank.check import check
from ...bank.review import approve_offered, list_reviews, review
from ...errors import ValidationFailed, rel
from ...kinds import kind_for
from ...model.item import Kind, Status

#: The demo's reviewer: a made-up name, the author of none of the sample items.
REVIEWER = "J. Demo-Reviewer"


def run(ctx) -> None:
    course, console = ctx.course, ctx.console
    report = check(course, blueprint_check=check_blueprint)
    if report.errors:
        raise ValidationFailed(report.problems)
    console.print(report.summary(), highlight=False)
    ctx.state.update(bank=report.bank, rubrics=report.rubrics, bank_warnings=report.warnings)

    items = list(report.bank.items.values())
    policy = course.policy
    by_comp_kind = Counter((i.competency, i.kind) for i in items)
    table = Table(title="Items by competency and kind")
    table.add_column("competency")
    for kind in Kind:
        table.add_column(kind_for(kind).name, justify="right")
    table.add_column("total", justify="right")
    for slug, name in policy.competencies.items():
        counts = [by_comp_kind[(slug, k)] for k in Kind]
        table.add_row(name, *map(str, counts), str(sum(counts)))
    table.add_row("[bold]all", *(str(sum(by_comp_kind[(c, k)] for c in policy.competencies)) for k in Kind),
                  f"[bold]{len(items)}")
    console.print(table)

    by_status = Counter(i.status for i in items)
    console.print("By status: " + ", ".join(f"{s.value} {by_status[s]}" for s in Status), highlight=False)
    by_module = Counter(i.module for i in items)
    modules = Table(title="Items by training module")
    modules.add_column("module", justify="right")
    modules.add_column("title")
    modules.add_column("items", justify="right")
    for number, title in sorted(policy.modules.items(), key=lambda kv: int(kv[0])):
        modules.add_row(str(number), title, str(by_module[int(number)]))
    console.print(modules)
    in_scenarios = sum(1 for i in items if i.scenario)
    share = in_scenarios / len(items) if items else 0.0
    console.print(
        f"Scenario items: {in_scenarios} of {len(items)} ({share:.0%}) in {len(report.bank.scenarios)} scenarios; "
        f"{len(report.rubrics)} rubrics; {len(report.warnings)} warning(s)",
        highlight=False,
    )

    from ...qti.export import build_package, select_items, write_zip

    pkg = build_package(report.bank, report.rubrics, select_items(report.bank))
    path = write_zip(pkg, course.reports_dir / "qti" / "bank.zip")
    console.print(f"QTI 3.0 export (staff only, it holds the keys): {pkg.items} items and {pkg.stimuli} stimuli, "
                  f"valid against the IMS schemas, in {rel(path, course.root)}", highlight=False)
    show_review(ctx, report.bank)


def show_review(ctx, bank) -> None:
    """One refused self-review, one 'revise' decision, then the live items approved (all audited)."""
    course, console = ctx.course, ctx.console
    live = [i for i in bank.items.values() if i.status is Status.live and i.author]
    author = live[0]
    try:
        review(course, author.id, "approve", author.author, "looks right to me")
    except ValidationFailed as exc:
        console.print(f"Self-review refused: {exc.problems[0]}", highlight=False, markup=False, soft_wrap=True)
    draft = next((i for i in bank.items.values() if i.status is Status.draft and i.author), None)
    if draft is not None:
        out = review(course, draft.id, "revise", REVIEWER,
                     "two distractors are plausible; make the key the only defensible answer, then ask again")
        console.print(f"exam-builder bank review {draft.id} --decision revise --by \"{REVIEWER}\": "
                      f"{out.after.label} (audit entry {out.audit_id})", highlight=False, soft_wrap=True)
    approved = approve_offered(course, bank, REVIEWER, "demo: reviewed for the spring forms")
    states = list_reviews(course, bank) or {}
    waiting = sum(1 for st in states.values() if st.waiting)
    console.print(f"{REVIEWER} approved the current content of {len(approved)} live items (one audited decision "
                  f"each); {waiting} item(s) wait for review (exam-builder bank list --waiting).", highlight=False)
    ctx.state["approved"] = approved
