"""Demo stage 'grading': objective scoring, three scripted graders, adjudication, results, reports.

1. ``grade_exam`` scores every collected submission from the forms' keys (no code is run),
   with a progress bar, and blank written answers score 0. It also writes the key-free,
   staff-only copies in ``autograded/`` that nbgrader's formgrader opens (the default).
2. Three made-up graders work through the grader app's own code path (``GraderSession``, the
   object the widgets call), typing level numbers and Enter: Grader Ana and Grader Ben give
   every written answer two independent, blind ratings; where they are too far apart, Grader
   Cy adjudicates. Each grader's levels come from a seeded draw (a stand-in for judgment).
3. The results table (pass, fail, pending, next step), outcomes recorded in the candidates'
   records, ``exports/<exam>/results.csv`` and one score report per candidate in
   ``feedback/<candidate>/<form>/`` (no items, no keys).

Reads ``ctx.state["sittings"]`` (delivery stage: candidate id -> sitting id) only to report how
many sittings it grades; the sittings themselves are read from the database. Leaves
``ctx.state["results"]`` (the ``Result`` list) and ``ctx.state["feedback"]`` (report paths).
"""
from __future__ import annotations

import hashlib
import random

from rich.table import Table

from ...cli.grading import results_table
from ...grading.grader_app import GraderSession
from ...grading.objective import grade_exam
from ...grading.queue import RatingQueue, open_items

from ...grading.results import (competency_names, compute_results, record_outcomes, results_csv, write_atomic,
                                write_feedback)
from ...records.states import ItemScoreStatus

GRADERS = ("Grader Ana", "Grader Ben")
ADJUDICATOR = "Grader Cy"


def _levels_for(session: GraderSession, rng: random.Random, leaning: int) -> str:
    """Level numbers a scripted grader types: mostly the same judgment, sometimes apart."""
    digits = []
    for c in session.rubric.criteria:
        base = len(c.levels) - 1 if rng.random() < 0.6 else rng.randrange(len(c.levels))
        k = min(len(c.levels) - 1, max(0, base + leaning * (rng.random() < 0.3)))
        digits.append(str(k + 1))
    return "".join(digits)


def _rate(course, exam: str, item: str, names: tuple[str, ...]) -> int:
    """Graders take turns through the queue until none of them has anything left; ratings saved."""
    sessions = []
    for name in names:
        s = GraderSession(course, exam)
        s.sign_in(name)
        s.pick(item)
        seed = int(hashlib.sha256(f"{name}|{item}".encode()).hexdigest()[:8], 16)
        sessions.append((s, random.Random(seed), -1 if name.endswith("Ben") else 0))
    saved = 0
    while any(s.current is not None for s, _r, _l in sessions):
        for s, rng, leaning in sessions:
            if s.current is not None:
                s.keys(_levels_for(s, rng, leaning) + "\n")
                saved += 1
    return saved


def run(ctx) -> None:
    course, console, exam = ctx.course, ctx.console, ctx.exam
    sittings = ctx.state.get("sittings", {})
    console.print(f"Grading {exam}: {len(sittings)} sitting(s) were opened in the delivery stage.")

    report = grade_exam(course, exam, ctx.actor, console=console)
    console.print(f"objective scoring: {report.submissions} submission(s), {report.flagged} flagged", highlight=False)
    items = open_items(course, exam)
    blank = sum(RatingQueue(course, exam, item).settle_blanks(ctx.actor) for item, _r in items)
    console.print(f"{blank} blank written answer(s) scored 0 without rating")

    t = Table(title="Rating written answers (blind, double-rated, adjudicated when too far apart)")
    for col in ("item", "responses", "ratings by Ana and Ben", "adjudications by Cy", "decided"):
        t.add_column(col, justify="right" if col != "item" else "left")
    adjudicated = 0
    for item, _rubric in items:
        q = RatingQueue(course, exam, item)
        n = sum(1 for r in q.responses() if not r.blank)
        if not n:
            continue
        two = _rate(course, exam, item, GRADERS)
        waiting = q.status().get(ItemScoreStatus.adjudication, 0)
        third = _rate(course, exam, item, (ADJUDICATOR,)) if waiting else 0
        adjudicated += third
        t.add_row(item, str(n), str(two), str(third), str(q.status().get(ItemScoreStatus.final, 0)))
    console.print(t)
    if not adjudicated:
        console.print("[yellow]no two ratings were far enough apart to need an adjudication this time[/]")

    results = compute_results(course, exam)
    console.print(results_table(course, exam, results, competency_names(course, results)))
    recorded = record_outcomes(course, results, ctx.actor)
    counts = {k: sum(1 for r in results if r.status == k) for k in ("pass", "fail", "pending")}
    console.print(f"{counts['pass']} passed, {counts['fail']} did not pass, {counts['pending']} pending; "
                  f"{recorded} outcome(s) recorded in the candidates' records", highlight=False)
    out = course.reports_dir / exam / "results.csv"
    write_atomic(out, results_csv(course, results), root=course.root)
    paths = write_feedback(course, exam, results)
    console.print(f"results: {out.relative_to(course.root)}; {len(paths)} score report(s) under feedback/ "
                  "(total, pass or fail, a subscore per competency, next step; no items or keys)", highlight=False)
    ctx.state["results"] = results
    ctx.state["feedback"] = paths
