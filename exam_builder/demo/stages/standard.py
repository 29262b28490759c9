"""Demo stage 'standard': a standard-setting study sets the cut before the forms are built.

A made-up panel of 8 (certified peer specialists, supervisors and a trainer; one declares a
conflict of interest) rates every live certification item of the CPS bank by the Modified Angoff
method, through the same commands staff use (``exam-builder standard ...``): round 1 independent;
the spread shown; round 2 after discussion, where panelists move part of the way towards the panel
on the items flagged for discussion (every change kept); the board adopts the recommendation
rounded to a whole percent, with the reason, and the decision is written into the blueprint. The
assembly stage then builds each form with its own raw cut from the items' ratings.

The ratings are realistic and varied, and reproducible (a fixed seed): each item's level follows
its authored difficulty (easy 80%, medium 68%, hard 55%, with an item-to-item spread), each panelist
has their own leniency, and each rating its own noise, in steps of 5% (an open response's expected
points in half points). The decision is shown with the blueprint's change, then applied: the demo's
``source/cps/blueprint.yaml`` names it (``standard: {study: 1, decision: 1}``) in place of its flat
``cut_score: 70%``. Reads nothing from ``ctx.state``; leaves ``"study"``: the study's id.
"""
from __future__ import annotations

import csv
import io
import random

from ...assembly.build import load_checked_bank
from ...files import replace_file
from ...kinds import kind_for
from ...model.item import Pool, Status

#: (name, role, conflict-of-interest declaration, leniency in percent points)
PANEL = [
    ("Rosa Alvarez", "certified peer specialist", "none", -5),
    ("Dev Kapoor", "certified peer specialist", "none", 0),
    ("June Okafor", "certified peer specialist", "none", 5),
    ("Tom Brennan", "certified peer specialist", "none", -10),
    ("Lia Chen", "certified peer specialist", "none", 0),
    ("Marcus Hill", "peer supervisor", "supervises two candidates of the spring cohort; rates no item differently",
     5),
    ("Nadia Roy", "peer supervisor", "none", -5),
    ("Sam Ortiz", "CPS trainer", "none", 15),
]
LEVEL = {"easy": 80, "medium": 68, "hard": 55}
MCC = ("A minimally competent certified peer specialist has finished the training, holds the core values "
       "(mutuality, recovery language, self-determination) in ordinary situations, and applies them in a crisis "
       "with some prompting; they know where their role ends.")


def _invoke(ctx, *args: str) -> None:
    """Run an `exam-builder` command in-process, exactly as staff would type it."""
    from ...cli import cli

    cli.main(["--course", str(ctx.course.root), *args], prog_name="exam-builder", standalone_mode=False)


def _sheet(ctx, name: str, rows: list[tuple[str, str, float, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["panelist", "item", "rating", "note"])
    w.writerows(rows)
    path = ctx.course.root / "standard" / name
    replace_file(path, buf.getvalue(), ctx.course.root)  # 0600 in a 0700 folder: staff-side data
    return str(path)


def _step(share: float, points: float, rated: bool) -> float:
    share = min(1.0, max(0.0, share))
    return round(share * points * 2) / 2 if rated else round(share * 20) * 5


def ratings(items) -> tuple[dict, dict]:
    """Round 1 and round 2 ratings, (panelist, item) -> value; round 2 moves half way towards the panel's
    round-1 mean on items whose round-1 ratings spread widely (SD above 12% of their points)."""
    rng = random.Random(20261206)
    r1 = {}
    for it in items:
        level = LEVEL.get(it.difficulty, 68) + rng.gauss(0, 6)
        for name, _role, _conflict, lenient in PANEL:
            r1[(name, it.id)] = _step((level + lenient + rng.gauss(0, 7)) / 100, it.points, kind_for(it.kind).rated)
    r2 = dict(r1)
    for it in items:
        rated = kind_for(it.kind).rated
        shares = [r1[(p[0], it.id)] / (it.points if rated else 100) for p in PANEL]
        m = sum(shares) / len(shares)
        sd = (sum((x - m) ** 2 for x in shares) / (len(shares) - 1)) ** 0.5
        if sd > 0.12:
            for (name, *_rest), x in zip(PANEL, shares, strict=True):
                r2[(name, it.id)] = _step((x + m) / 2, it.points, rated)
    return r1, r2


def run(ctx) -> None:
    course, console, exam = ctx.course, ctx.console, ctx.exam
    bank, _rubrics = load_checked_bank(course, exam)
    items = sorted((it for it in bank.items.values() if it.status is Status.live and it.pool == Pool.certification),
                   key=lambda it: it.id)
    console.print(f"\n[bold]A Modified Angoff study of the live bank[/] ({len(items)} items), before any form is "
                  "built: exam-builder standard create cps --bank ...")
    _invoke(ctx, "standard", "create", exam, "--bank", "--mcc", MCC, "--title", "CPS cut score study, spring",
            "--by", ctx.actor)
    study = 1
    for name, role, conflict, _lenient in PANEL:
        _invoke(ctx, "standard", "panelist", str(study), "--name", name, "--role", role, "--conflict", conflict,
                "--by", ctx.actor)
    r1, r2 = ratings(items)
    _invoke(ctx, "standard", "round-open", str(study), "--by", ctx.actor)
    _invoke(ctx, "standard", "ratings", str(study), _sheet(ctx, "round1.csv", [(p, i, v, "") for (p, i), v in
                                                                              r1.items()]), "--by", ctx.actor)
    _invoke(ctx, "standard", "round-close", str(study), "--by", ctx.actor)
    _invoke(ctx, "standard", "round-open", str(study), "--by", ctx.actor)
    moved = [(p, i, v, "moved towards the panel after discussion") for (p, i), v in r2.items() if v != r1[(p, i)]]
    _invoke(ctx, "standard", "ratings", str(study), _sheet(ctx, "round2.csv", moved), "--by", ctx.actor)
    _invoke(ctx, "standard", "round-close", str(study), "--by", ctx.actor)
    console.print("\n[bold]The facilitator's view of both rounds:[/] exam-builder standard show 1")
    _invoke(ctx, "standard", "show", str(study))

    from ...standard.study import read_study, recommended_share

    view = read_study(course.db, study)
    rec = recommended_share(view, view.rounds[-1])
    adopted = f"{round(rec * 100)}%"
    decision = ["standard", "decide", str(study), "--adopt", adopted, "--board", "CPS oversight board",
                "--decided-on", "2026-12-01", "--reason",
                f"the panel's {rec:.2%} rounded to a whole percent, well within one standard error", "--by", ctx.actor]
    console.print(f"\n[bold]The board decides:[/] exam-builder standard decide 1 --adopt {adopted} ... shows the "
                  "decision and the change it makes to the blueprint, and writes nothing")
    _invoke(ctx, *decision)
    console.print("\n[bold]Reviewed, it is applied:[/] exam-builder standard decide 1 ... --apply records the decision "
                  "and writes it into source/cps/blueprint.yaml (the audit entry holds the file's hash before and "
                  "after)")
    _invoke(ctx, *decision, "--apply")
    ctx.state["study"] = study
