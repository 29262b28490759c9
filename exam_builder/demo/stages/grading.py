"""Demo stage 'grading': objective scoring, three scripted graders, adjudication, results, reports.

1. ``grade_exam`` scores every collected submission from the forms' keys (no code is run),
   with a progress bar, and blank written answers score 0. It also writes the key-free,
   staff-only copies in ``autograded/`` that nbgrader's formgrader opens (the default).
2. Two made-up graders work through the grader app's own code path (``GraderSession``, the
   object the widgets call), typing level numbers and Enter: Grader Ana and Grader Ben give
   every written answer two independent, blind ratings. Where they are too far apart, the
   response waits for the adjudicator the demo course configures
   (``c.GradingSettings.adjudicator = "coordinator"``, ``demo.DEMO_SETTINGS``): the grader's
   desk says what waits and for whom, and the coordinator signs in to the same desk and
   finishes every waiting adjudication. Levels come from a seeded draw (a stand-in for judgment) that
   agrees as trained raters do: most ratings identical, some one level apart, each grader leaning a little.
3. The results table (pass, fail, pending, next step), outcomes recorded in the candidates'
   records, ``exports/<exam>/results.csv`` and one score report per candidate in
   ``feedback/<candidate>/<form>/`` (no items, no keys).

Reads ``ctx.state["sittings"]`` (delivery stage: candidate id -> sitting id) only to report how
many sittings it grades; the sittings themselves are read from the database; and
``ctx.state["borderline"]`` (delivery stage, ``borderline_plan``): the graders give that sitting's
written answers the planned levels (the script's knowledge, as the delivery stage's answers are), so
its total lands just below the cut on every demo course. Leaves
``ctx.state["results"]`` (the ``Result`` list) and ``ctx.state["feedback"]`` (report paths).
"""
from __future__ import annotations

import hashlib
import random

from rich.table import Table

from ...analysis.subscores import subscore_precision
from ...cli.grading import results_table
from ...grading.adjudication import AdjudicationRule
from ...grading.grader_app import GraderSession, progress_text
from ...grading.objective import grade_exam
from ...grading.overview import waiting_overview
from ...grading.queue import RatingQueue, anon_id, anonymous_key, open_items
from ...grading.results import (
    competency_names,
    compute_results,
    record_outcomes,
    results_csv,
    write_atomic,
    write_feedback,
)
from ...model.states import ItemScoreStatus

GRADERS = ("Grader Ana", "Grader Ben")


#: Each scripted grader's leaning: the chance, per criterion, of one level above (+) or below (-) their judgment.
LEANING = {"Grader Ana": 0.08, "Grader Ben": -0.12}


def _draw(*key: str) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(key).encode()).hexdigest()[:12], 16))


def _levels_for(session: GraderSession, name: str, scripted: dict | None = None) -> str:
    """Level numbers a scripted grader types, as trained raters agree: every grader reads the same response
    the same way most of the time (a level per criterion drawn from the response itself, so the two ratings
    share it), one level apart now and then (1 in 14 per criterion), rarely two, and each grader leans a little
    (``LEANING``: Ana slightly lenient, Ben slightly severe). A stand-in for judgment, drawn from the
    response's anonymous id (the course's key makes it differ from one demo course to the next, as cohorts do)."""
    claim = session.current
    assert claim is not None
    planned = (scripted or {}).get((claim.item_id, claim.anon_id))
    if planned is not None:  # the borderline sitting (``delivery.borderline_plan``): every grader the same levels
        return "".join(str(next(n for n, lv in enumerate(c.levels) if abs(lv.points - planned[c.id]) < 1e-9) + 1)
                       for c in session.rubric.criteria)
    digits = []
    for c in session.rubric.criteria:
        top = len(c.levels) - 1
        quality = _draw("response", claim.item_id, claim.anon_id, c.id).choices(
            range(top + 1), weights=[1 + 2 * k for k in range(top + 1)])[0]  # better levels more common
        rng = _draw("rater", name, claim.item_id, claim.anon_id, c.id)
        u = rng.random()
        off = 0 if u < 0.92 else (rng.choice((-1, 1)) if u < 0.993 else rng.choice((-2, 2)))
        lean = LEANING.get(name, 0.0)
        if rng.random() < abs(lean):
            off += 1 if lean > 0 else -1
        digits.append(str(min(top, max(0, quality + off)) + 1))
    return "".join(digits)


def _rate(course, exam: str, item: str, names: tuple[str, ...], scripted: dict | None = None) -> int:
    """Graders take turns through the queue until none of them has anything left; ratings saved.
    ``scripted``: (item, anonymous id) -> criterion -> points, the levels planned for a response."""
    sessions = []
    for name in names:
        s = GraderSession(course, exam)
        s.sign_in(name)
        s.pick(item)
        sessions.append((s, name))
    saved = 0
    while any(s.current is not None for s, _n in sessions):
        for s, name in sessions:
            if s.current is not None:
                s.keys(_levels_for(s, name, scripted) + "\n")
                saved += 1
    return saved


def _scripted(course, exam: str, borderline: dict | None) -> dict[tuple[str, str], dict[str, float]]:
    """(item, anonymous id) -> the planned levels of the borderline sitting's written answers (none without one)."""
    if not borderline:
        return {}
    key = anonymous_key(course)  # the script's knowledge of which anonymous response is theirs, never the graders'
    return {(item, anon_id(key, exam, item, borderline["sitting"])): levels
            for item, levels in borderline["plan"].levels.items()}


def _desk_line(course, exam: str, grader: str, items: list[str]) -> str:
    """What the grader's desk tells ``grader`` about adjudications waiting on the first such item."""
    if not items:
        return ""
    s = GraderSession(course, exam)
    s.sign_in(grader)
    s.pick(items[0])  # she rated everything she may: nothing is open for her
    p = s.progress()
    return progress_text(p, s.queue.rule) if p is not None else ""


def run(ctx) -> None:
    course, console, exam = ctx.course, ctx.console, ctx.exam
    sittings = ctx.state.get("sittings", {})
    console.print(f"Grading {exam}: {len(sittings)} sitting(s) were opened in the delivery stage.")

    report = grade_exam(course, exam, ctx.actor, console=console)
    console.print(f"objective scoring: {report.submissions} submission(s), {report.flagged} flagged", highlight=False)
    items = open_items(course, exam)
    blank = sum(RatingQueue(course, exam, item).settle_blanks(ctx.actor) for item, _r in items)
    console.print(f"{blank} blank written answer(s) scored 0 without rating")

    rule = AdjudicationRule.from_settings(course.grading_settings)
    coordinator = rule.coordinators[0] if rule.coordinators else "the coordinator"
    console.print(f"who adjudicates: {rule.setup_note()}", highlight=False)
    t = Table(title="Rating written answers (blind, double-rated, adjudicated when too far apart)")
    for col in ("item", "written responses", "ratings by Ana and Ben", "waiting for adjudication",
                f"adjudications by {coordinator}", "decided (blanks scored 0 included)"):
        t.add_column(col, justify="right" if col != "item" else "left")
    rated = []
    scripted = _scripted(course, exam, ctx.state.get("borderline"))
    for item, _rubric in items:
        q = RatingQueue(course, exam, item)
        n = sum(1 for r in q.responses() if not r.blank)
        if n:
            rated.append((item, q, n, _rate(course, exam, item, GRADERS, scripted)))
    waits, _note = waiting_overview(course, exam)
    waiting = sum(len(g.responses) for g in waits if g.step == "adjudication")
    desk = _desk_line(course, exam, GRADERS[0], [item for item, q, _n, _t in rated
                                                 if q.status().get(ItemScoreStatus.adjudication, 0)])
    if desk:
        console.print(f"{GRADERS[0]}'s desk says: {desk}", highlight=False)
    for g in waits:
        console.print(f"  {g.item_id}: {len(g.responses)} waiting for {g.step} by {g.who}", highlight=False)
    adjudicated = 0
    for item, q, n, two in rated:
        before = q.status().get(ItemScoreStatus.adjudication, 0)
        done = _rate(course, exam, item, (coordinator,), scripted) if before else 0  # the configured person
        adjudicated += done
        t.add_row(item, str(n), str(two), str(before), str(done), str(q.status().get(ItemScoreStatus.final, 0)))
    console.print(t)
    left, _note = waiting_overview(course, exam)
    if waiting:
        console.print(f"{coordinator} (the coordinator) finished {adjudicated} of {waiting} waiting adjudication(s) "
                      "at the grader's desk; "
                      f"{'nothing waits now' if not left else f'{len(left)} group(s) still wait'}",
                      highlight=False)
    else:
        console.print("[yellow]no two ratings were far enough apart to need an adjudication this time[/]")

    results = compute_results(course, exam)
    console.print(results_table(course, exam, results, competency_names(course, results)))
    recorded = record_outcomes(course, results, ctx.actor)
    counts = {k: sum(1 for r in results if r.status == k) for k in ("pass", "fail", "pending")}
    console.print(f"{counts['pass']} passed, {counts['fail']} did not pass, {counts['pending']} pending; "
                  f"{recorded} outcome(s) recorded in the candidates' records", highlight=False)
    out = course.exports_dir(exam) / "results.csv"
    write_atomic(out, results_csv(course, results), root=course.root)
    precision = subscore_precision(course, exam)
    paths = write_feedback(course, exam, results, precision=precision)
    console.print(f"results: {out.relative_to(course.root)}; {len(paths)} score report(s) under feedback/ "
                  "(total, pass or fail, a subscore per competency where its reliability supports it, next step; "
                  "no items or keys)", highlight=False)
    needs = course.report_settings.subscore_min_reliability
    for form, comps in sorted(precision.items()):
        shown = sum(p.shown for p in comps.values())
        console.print(f"{form}: {shown} of {len(comps)} competency subscore(s) reliable enough to show "
                      f"(coefficient alpha of the competency's items >= {needs:g}); the others are named as not "
                      "reported precisely", highlight=False)
    ctx.state["results"] = results
    ctx.state["feedback"] = paths
