"""Demo stage 'practice': a practice set for a study group, taken by a scripted candidate.

Builds two practice sets from the sample bank's practice items (``source/cps/practice.ipynb``,
every item marked ``pool: practice`` and approved by the bank stage's reviewer): one by
competency with a suggested time, one of every topic. Each build proves the pools apart against
the bank's certification items and the forms the assembly stage stored. A practice item that
repeats a certification question is refused (shown in memory: the bank itself has none). Then a
scripted candidate takes the first set through ``PracticeRun``, the object the practice app's
widgets call: right or wrong with the rationale after each answer, and the summary with what to
study next. Nothing of it is stored: the sittings, answers and audit entries the delivery stage
left are counted before and after the run, and are the same.

Reads ``ctx.state["bank"]`` (the bank stage's parse). Leaves ``ctx.state["practice_sets"]``.
"""
from __future__ import annotations

import dataclasses

from rich.table import Table

from ...errors import ValidationFailed, rel
from ...kinds import kind_for
from ...model.item import Pool
from ...practice.run import PracticeRun
from ...practice.sets import assemble_set, build_practice
from ...records.queries import audit as audit_q, responses as responses_q, sittings as sittings_q

COMPETENCY = "peer-support"


def run(ctx) -> None:
    course, console = ctx.course, ctx.console
    pset, path = build_practice(course, COMPETENCY, ctx.exam, competencies=[COMPETENCY], minutes=15, actor=ctx.actor)
    every, _ = build_practice(course, "all-topics", ctx.exam, actor=ctx.actor)
    p = pset.proof
    console.print(f"exam-builder practice build {COMPETENCY} --competency {COMPETENCY} --minutes 15: {len(pset.items)} "
                  f"questions in {rel(path, course.root)}; exam-builder practice build all-topics: {len(every.items)}",
                  highlight=False)
    console.print(f"Proof: compared with {p.certification_items} certification items and {p.form_items} items on "
                  f"{len(p.forms)} stored forms ({', '.join(p.forms)}): {p.rule}; overlap: none", highlight=False)
    show_refusal(ctx, pset)

    console.print(f"A study group's link, no code needed: http://HOST:8868/?set={COMPETENCY} "
                  f"(exam-builder practice serve)", highlight=False)
    before = stored(ctx.course)
    take(ctx, pset)
    after = stored(ctx.course)
    console.print(f"Not an attempt, not stored: sittings, answers and audit entries {before} before the run, "
                  f"{after} after.", highlight=False)
    ctx.state["practice_sets"] = [pset.name, every.name]


def show_refusal(ctx, pset) -> None:
    """A certification question copied into the practice pool is refused, located at the copy."""
    bank = ctx.state["bank"]
    original = next(i for i in bank.live() if not i.practice)
    copy = original.model_copy(update={"id": "pr-copied-01", "pool": Pool.practice})
    with_copy = dataclasses.replace(bank, items={**bank.items, copy.id: copy})  # in memory: the bank is untouched
    try:
        assemble_set(with_copy, {}, ctx.course.policy, [], "refused", ctx.exam, competencies=[copy.competency])
    except ValidationFailed as exc:
        ctx.console.print(f"Refused: {exc.problems[0]}", highlight=False, markup=False, soft_wrap=True)


def take(ctx, pset) -> None:
    """A scripted candidate: right on most questions, wrong on every third, and a written answer."""
    console = ctx.console
    run = PracticeRun(pset, seed=7, minutes=pset.minutes)
    for q in run.questions:
        if q.rated:
            fb = run.check(q.number, "I would listen first and ask what she wants, then offer choices.")
        else:
            fb = run.check(q.number, kind_for(q.item.kind).scripted_answer(q.key or "", q.labels, bool(q.number % 3)))
        shown = ("a written answer" if q.rated else f"answer {fb.answer!r}" if kind_for(q.item.kind).typed
                 else f"answer {fb.answer}")
        answer = short(fb.key_text, 60)
        stop = "" if answer.endswith(("…", ".", "?", "!")) else "."
        key = "" if fb.right or q.rated else f" The answer: {answer}{stop}"
        console.print(f"  Q{q.number} [{q.item.id}]: {shown} -> {fb.headline}{key} Why: {short(fb.rationale, 90)}",
                      highlight=False, markup=False, soft_wrap=True)
    s = run.summary()
    table = Table(title=f"Practice summary: {s.right} of {s.checked} right")
    for col in ("area", "right", "answered", "questions"):
        table.add_column(col)
    for r in s.rows:
        table.add_row(r.name, str(r.right), str(r.checked), str(r.total))
    console.print(table)
    for r in s.study_next or ():
        console.print(f"Study next: {s.advice(r)}", highlight=False)
    if not s.study_next:
        console.print("Study next: nothing below the bar; try another set.", highlight=False)


def short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n].rstrip(" ,.;") + "…"


def stored(course) -> tuple[int, int, int]:
    """Sittings, journal rows and audit entries in the course database."""
    with course.db.read() as s:
        return sittings_q.select_count(s), responses_q.select_count(s), audit_q.select_count(s)
