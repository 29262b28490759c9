"""`exam-builder keys ...` and `exam-builder appeal ...`: key validation before results, and appeals.

Thin calls into ``grading.keys`` (decisions, their impact, applying them, closing validation),
``analysis.keys`` (the validation lines) and ``grading.appeals``. Every change is audited with
``--by`` and a reason.
"""
from __future__ import annotations

import click
from rich.table import Table

from .. import clock
from ..numbers import against
from ..records.audit import current_actor
from .common import by_option, console, pass_course_db, reason_option, say
from .grading import say_reprinted


@click.group()
def keys() -> None:
    """Key validation before results: validation lines, decisions per item, their impact, applying them."""


def _f(v: float | None, fmt: str = "{:.2f}") -> str:
    return "" if v is None else fmt.format(v)


@keys.command("validate")
@click.argument("exam")
@click.option("--all", "every", is_flag=True, help="Every objective item, not only those flagged or commented on.")
@pass_course_db
def validate(course, exam, every) -> None:
    """A validation line per objective item and form: facility, discrimination, the strong candidates'
    choice, comments (blind) and flags."""
    from ..analysis.keys import closure_text, flagged, too_few_text, validation_lines

    lines = validation_lines(course, exam)
    for n, text in enumerate(too_few_text(course, lines)):  # before the flags: whether they can be read at all
        say(("Warning: " if n == 0 else "  ") + text)
    rs = course.recourse_settings
    shown = lines if every else flagged(lines)
    t = Table(title=f"{exam}: key validation ({len(shown)} of {len(lines)} item line(s); {closure_text(course, exam)})")
    for col in ("form", "Q", "item", "key", "n", "facility", "discr.", "strong chose", "flags", "comments",
                "decision"):
        t.add_column(col, overflow="fold")
    for ln in shown:
        strong = (f"{ln.strong_choice} {_f(ln.strong_choice_share, '{:.0%}')} (key {_f(ln.strong_key_share, '{:.0%}')})"
                  if ln.strong_choice else "")
        t.add_row(ln.form, str(ln.number), ln.item_id, ln.key, str(ln.n),
                  "" if ln.facility is None else against(ln.facility, rs.facility_below),
                  ln.discrimination_text(None if ln.discrimination is None
                                         else against(ln.discrimination, rs.discrimination_below)),
                  strong, "; ".join(ln.flags), "\n".join(f"form {f}: {c}" for f, c in ln.comments), ln.decision)
    console.print(t)


def _print_impact(imp) -> None:
    if not imp.changes:  # no empty table: one line says so
        say(imp.summary() + ": no sitting's points, total, points needed or result change")
        for u in imp.unread:
            say(f"not read (left as it is): {u}")
        return
    t = Table(title=imp.summary())
    for col in ("sitting", "candidate", "form", "points", "total", "max", "cut", "result"):
        t.add_column(col)
    for c in imp.changes:
        t.add_row(str(c.sitting_id), f"{c.candidate_id} {c.candidate_name}", c.assignment,
                  f"{_f(c.old_points, '{:g}')} -> {_f(c.new_points, '{:g}')}",
                  f"{_f(c.old_total, '{:g}')} -> {_f(c.new_total, '{:g}')}", f"{c.old_max:g} -> {c.new_max:g}",
                  f"{c.old_cut:.2f} -> {c.new_cut:.2f}",
                  f"{c.old_status} -> {c.new_status}" if c.outcome_changes else c.new_status)
    console.print(t)
    for u in imp.unread:
        say(f"not read (left as it is): {u}")


@keys.command("decide")
@click.argument("exam")
@click.argument("item")
@click.argument("action", type=click.Choice(["keep", "accept", "credit", "drop"]))
@click.option("--accept", "accept", default=None, help="accept: the other answer, as choice label(s): B or A,C.")
@click.option("--form", "form", default=None, help="accept: the form whose labels --accept uses (its label, e.g. A).")
@reason_option("Why (kept with the decision and in the audit trail).")
@by_option("Who decides (the coordinator, with an author).")
@pass_course_db
def decide(course, exam, item, action, accept, form, reason, actor) -> None:
    """Record a decision on one objective item (not applied yet) and show its impact."""
    from ..analysis.subscores import subscore_precision  # scipy and pandas: only when used
    from ..grading.keys import impact, mark_provisional, record_decision, unapplied

    did = record_decision(course, exam, item, action, reason, current_actor(actor), accept=accept, form=form)
    if did not in {d.id for d in unapplied(course, exam)}:  # a keep where nothing is in force: nothing to apply
        say(f"decision {did} recorded: the key of {item} stands and no score changes, so there is nothing to apply "
            "(keys close is not held back by it)")
        return
    say(f"decision {did} recorded (not applied yet). Its impact:")
    _print_impact(impact(course, exam, did))
    marked = mark_provisional(course, exam, did, precision=subscore_precision(course, exam))
    if marked:
        say(f"{len(marked)} score report(s) written again as provisional until the decision is applied")
        say_reprinted(course, exam, marked)
    say(f"apply it with: exam-builder keys apply {exam} {did} --by NAME")


@keys.command("impact")
@click.argument("exam")
@click.argument("decision", type=int)
@pass_course_db
def impact_cmd(course, exam, decision) -> None:
    """Whose totals and pass/fail a decision changes (nothing is written)."""
    from ..grading.keys import impact

    _print_impact(impact(course, exam, decision))


@keys.command("apply")
@click.argument("exam")
@click.argument("decision", type=int)
@by_option("Who applies it.")
@pass_course_db
def apply_cmd(course, exam, decision, actor) -> None:
    """Apply a decision: re-score the affected sittings, record changed outcomes, write their score reports."""
    from ..analysis.subscores import subscore_precision  # scipy and pandas: only when used
    from ..grading.keys import apply

    done = apply(course, exam, decision, current_actor(actor), precision=subscore_precision(course, exam))
    if done.nothing:  # its impact was shown when it was applied: no table of what would have changed
        say(f"decision {decision} was already applied: nothing changed")
        return
    _print_impact(done.impact)
    say(f"applied: {done.rescored} grade(s) re-scored in nbgrader's gradebook, {len(done.outcomes)} outcome(s) "
        f"changed ({', '.join(f'sitting {s}: {a} -> {b}' for s, a, b in done.outcomes) or 'none'}), "
        f"{len(done.reports)} score report(s) written again")
    say_reprinted(course, exam, done.reports)


@keys.command("list")
@click.argument("exam")
@pass_course_db
def list_cmd(course, exam) -> None:
    """Every key-validation decision of an exam, oldest first."""
    from ..grading.keys import ACTION_TEXT, accepted_text, decisions

    t = Table(title=f"{exam}: key-validation decisions")
    for col in ("id", "item", "decision", "accept", "reason", "by", "decided", "applied"):
        t.add_column(col, overflow="fold")
    for d in decisions(course, exam):
        t.add_row(str(d.id), d.item_id, ACTION_TEXT[d.action], accepted_text(course, exam, d), d.reason,
                  d.decided_by, clock.shown(d.decided_at, course.zone),
                  f"{clock.shown(d.applied_at, course.zone)} by {d.applied_by}" if d.applied_at else "not yet")
    console.print(t)


@keys.command("close")
@click.argument("exam")
@reason_option("A note kept with the closure (e.g. who reviewed with you).", required=False,
               default="key validation closed")
@by_option("Who closes it.")
@pass_course_db
def close_cmd(course, exam, reason, actor) -> None:
    """Close key validation of the sittings submitted so far: their results are no longer provisional."""
    from ..analysis.subscores import subscore_precision  # scipy and pandas: only when used
    from ..grading.keys import close

    closure, reports = close(course, exam, current_actor(actor), reason, precision=subscore_precision(course, exam))
    say(f"key validation of {exam} closed (closure {closure}); {len(reports)} score report(s) written again "
        "without 'provisional'")
    say_reprinted(course, exam, reports)


@click.group()
def appeal() -> None:
    """Appeals: record one, send a score appeal to a rater who has not rated it, decide it."""


@appeal.command("record")
@click.argument("sitting", type=int)
@click.option("--category", type=click.Choice(["procedure", "accommodation", "score"]), required=True,
              help="What the appeal is about.")
@click.option("--words", required=True, help="The candidate's own words.")
@click.option("--received", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The day it was received.")
@by_option("Who records it (the coordinator).")
@pass_course_db
def appeal_record(course, sitting, category, words, received, actor) -> None:
    """Record a candidate's appeal (refused past the program's deadline from the score report's date)."""
    from ..grading.appeals import record

    aid = record(course, sitting, category, words, received.date(), current_actor(actor))
    say(f"appeal {aid} recorded for sitting {sitting} ({category}, received {received.date()})")


@appeal.command("assign")
@click.argument("appeal_id", type=int)
@click.option("--rater", required=True, help="A rater who has rated none of this candidate's written answers.")
@by_option("Who sends it (the coordinator).")
@pass_course_db
def appeal_assign(course, appeal_id, rater, actor) -> None:
    """Send a score appeal's written answers to a rater who has not rated them (blind)."""
    from ..grading.appeals import assign_rater, blank_answers

    assign_rater(course, appeal_id, rater, current_actor(actor))
    blank = blank_answers(course, appeal_id)
    say(f"appeal {appeal_id}: the written answers go to {rater}, blind to the earlier ratings"
        + (f"; {blank} answer(s) left blank stay at 0 (nothing to re-rate)" if blank else ""))


@appeal.command("rerate")
@click.argument("appeal_id", type=int)
@click.argument("item")
@click.option("--rater", required=True, help="The appeal's rater (as assigned).")
@click.option("--level", "levels", multiple=True, required=True,
              help="criterion=points, once per criterion of the item's rubric.")
@click.option("--comment", default="", help="The rater's comment.")
@pass_course_db
def appeal_rerate(course, appeal_id, item, rater, levels, comment) -> None:
    """The appeal rater's rubric levels for one written answer."""
    from ..grading.appeals import rerate
    from ..numbers import NumberError, decimal

    chosen = {}
    for text in levels:
        crit, sep, pts = text.partition("=")
        if not sep:
            raise click.UsageError(f"--level {text!r}: write criterion=points")
        try:
            chosen[crit.strip()] = decimal(pts, f"--level {crit.strip()}", 0, 1000)
        except NumberError as exc:
            raise click.UsageError(str(exc)) from None
    score = rerate(course, appeal_id, rater, item, chosen, comment)
    say(f"appeal {appeal_id}: {item} re-rated {score:g} by {rater}")


@appeal.command("decide")
@click.argument("exam")
@click.argument("appeal_id", type=int)
@click.argument("decision", type=click.Choice(["upheld", "partly", "denied"]))
@reason_option("Why (given in the candidate's letter and kept in the audit trail).")
@click.option("--void", is_flag=True, help="Procedure or accommodation appeal: void the sitting (not an attempt).")
@by_option("Who decides.")
@pass_course_db
def appeal_decide(course, exam, appeal_id, decision, reason, void, actor) -> None:
    """Decide an appeal: re-rated scores, the outcome and the score report updated; the letter written.

    A score appeal is upheld (or partly) only when its re-rating raises the total, denied otherwise; a
    re-rating lower than the score now leaves the score unless c.RecourseSettings.appeal_may_lower = True."""
    from ..analysis.subscores import subscore_precision  # scipy and pandas: only when used
    from ..grading.appeals import decide

    done = decide(course, exam, appeal_id, decision, reason, current_actor(actor), void=void,
                  precision=subscore_precision(course, exam))
    say(f"appeal {appeal_id} {decision}: {len(done['scores'])} score(s) changed, "
        f"{len(done['outcomes'])} outcome(s) changed, {'sitting voided (not an attempt), ' if done['voided'] else ''}"
        f"letter {done['letter'].relative_to(course.root) if done['letter'] else '-'}"
        + (f"; {done['effect'].text()}" if done["effect"] is not None else ""))
    say_reprinted(course, exam, done["reports"])


@appeal.command("list")
@click.argument("exam")
@pass_course_db
def appeal_list(course, exam) -> None:
    """Every appeal of an exam, and the log (counts by category and decision, days to decision)."""
    from ..grading.appeals import appeals_log, rerating_states
    from ..records.queries import recourse as recourse_q

    t = Table(title=f"{exam}: appeals")
    for col in ("id", "sitting", "candidate", "category", "received", "rater", "re-rating", "decision", "reason"):
        t.add_column(col, overflow="fold")
    reratings = rerating_states(course, exam)
    with course.db.read() as s:
        for a, sit in recourse_q.select_appeals(s, exam):
            t.add_row(str(a.id), str(sit.id), sit.candidate_id, str(a.category), str(a.received_on), a.rater or "",
                      reratings[a.id].text() if a.id in reratings else "",
                      str(a.decision or "open") + (" (voided)" if a.voided else ""), a.decision_reason or "")
    console.print(t)
    log = appeals_log(course, exam)
    say(f"{log.total} appeal(s); " + ", ".join(f"{c} {d}: {n}" for (c, d), n in sorted(log.counts.items()))
        + (f"; median {log.median_days:g} day(s) to a decision" if log.median_days is not None else ""))


COMMANDS = [keys, appeal]
