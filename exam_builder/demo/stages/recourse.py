"""Demo stage 'recourse': comments read blind, key validation that corrects a key, an appeal re-rated blind.

After grading and before the results are final (issue 26):

1. The candidates' comments on questions (left during the delivery stage), by item and form, without
   a name; the key-validation lines of the commented items (facility, discrimination, the answer the
   strong candidates chose), and how many items are flagged past the thresholds.
2. The coordinator, with the item's author, decides that a commented item was miskeyed: the answer
   its commenter gave is accepted as well. The first decision is on the comment of the candidate the
   delivery stage scripted just below their form's cut (``ctx.state["borderline"]``: the script's
   knowledge, as the delivery stage's): its item, that candidate's answer, on their form, so it
   certainly turns that candidate's fail into a pass, whatever the other candidates' random ratings.
   The decision is recorded with its reason, its impact shown (whose totals and pass/fail change; the
   scripted candidate's row first) before it is applied, then applied: exactly the changed cells
   re-scored in nbgrader's gradebook, outcomes updated, score reports written again. Without a
   scripted candidate (a cohort too small for one), the script tries each commented answer
   (``grading.keys.preview``: nothing written) and takes the one that changes most results, item by
   item, until a decision has changed a result (or no commented item is left).
3. A candidate who did not pass appeals their score. Their written answers go to Grader Cy, who
   rated none of them and sees each answer and its rubric without a name or an earlier rating; the
   coordinator decides with a reason, the outcome and score report follow, a letter is written.
4. Key validation is closed: the results are final, the score reports no longer "provisional".

Reads ``ctx.state["borderline"]`` (delivery stage), when there is one; leaves ``ctx.state["results"]`` up to
date and ``ctx.state["recourse"]``: {"decision", "item", "accepted", "flipped", "appeal", "outcomes"}.
"""
from __future__ import annotations

from rich.table import Table

from ... import clock
from ...analysis.keys import flagged, validation_lines
from ...analysis.subscores import subscore_precision
from ...assembly.forms import require_forms
from ...grading import appeals
from ...grading.adjust import originals_of
from ...grading.keys import (
    accepted_text,
    apply,
    comments_by_item,
    decisions,
    impact,
    preview,
    proposal,
    record_decision,
)
from ...grading.queue import load_rubric_for
from ...grading.results import compute_results
from ...model.states import AppealDecision
from ...records.queries import sittings as sittings_q
from ...records.queries.recourse import select_submitted_comments
from ...records.queries.responses import select_latest_responses

COORDINATOR = "Carla Coordinator"
APPEAL_RATER = "Grader Cy"
#: The comments the demo prints (every one, up to this many).
SHOW_COMMENTS = 12


def _candidates(course, exam: str, comments: dict) -> list[tuple[str, str, str, tuple[int, ...]]]:
    """(item, form label, answer, authored choice indexes) of each commented answer (the script reads who said what)."""
    out = []
    with course.db.read() as s:
        forms = {f.id: (f, m) for f, m in require_forms(s, exam)}
        rows = sittings_q.select_submitted_with_candidates(s, exam)
        answers = select_latest_responses(s, [sit.id for sit, _f, _c in rows])
        for sid, form_id, item, _text in select_submitted_comments(s, exam):
            f, m = forms[form_id]
            entry = next(e for e in m.items if e.item_id == item)
            given = answers.get(sid, {}).get(item)
            if given is None or not given.value or given.value == entry.key:
                continue
            picked = originals_of(entry, given.value, len(entry.option_order) or 2)
            if (item, picked) not in {(o[0], o[3]) for o in out}:
                out.append((item, f.label, given.value, picked))
    return out


def _scripted_comment(course, exam: str, scripted: dict | None, comments: dict) -> tuple[str, str, str] | None:
    """(item, form label, answer) of the scripted borderline candidate's comment (``ctx.state["borderline"]``):
    the decision that certainly passes them. None without one, or when their comment is not there to read."""
    if not scripted:
        return None
    plan = scripted["plan"]
    with course.db.read() as s:
        label = next((f.label for f, m in require_forms(s, exam) if m.assignment == plan.assignment), None)
    if label is None or not any(form == label for form, _text in comments.get(plan.item_id, [])):
        return None
    return plan.item_id, label, plan.accepted


def _decision_row(course, exam: str, decision_id: int):
    """The recorded key decision (a detached copy), for the words of what it accepts."""
    return next(d for d in decisions(course, exam) if d.id == decision_id)


def _form_labels(course, exam: str) -> dict[str, str]:
    """assignment -> the form's label (A, B, ...)."""
    with course.db.read() as s:
        return {f.assignment: f.label for f, _m in require_forms(s, exam)}


def run(ctx) -> None:
    course, console, exam = ctx.course, ctx.console, ctx.exam
    comments = comments_by_item(course, exam)
    listed = [(item, form, text) for item, rows in comments.items() for form, text in rows]
    console.print(f"{len(listed)} comment(s) on {len(comments)} question(s), read after the exam, by item and form "
                  f"(no name, no sitting){'' if len(listed) <= SHOW_COMMENTS else f'; the first {SHOW_COMMENTS}'}:",
                  highlight=False)
    for item, form, text in listed[:SHOW_COMMENTS]:
        console.print(f"  {item}, form {form}: \"{text}\"", highlight=False)
    if len(listed) > SHOW_COMMENTS:
        console.print(f"  ... and {len(listed) - SHOW_COMMENTS} more (exam-builder keys validate {exam} lists them "
                      "all)", highlight=False)
    lines = validation_lines(course, exam)
    console.print(f"key validation: {len(lines)} item line(s); {len(flagged(lines))} flagged past the thresholds "
                  "or commented on", highlight=False)

    precision = subscore_precision(course, exam)  # reports written again show only the subscores they did
    decided: set[str] = set()
    flipped: list[int] = []
    outcomes: list = []
    did = item = answer = None
    scripted = ctx.state.get("borderline")
    first = _scripted_comment(course, exam, scripted, comments)
    # The coordinator takes the scripted candidate's comment first (it certainly changes their result); else the
    # commented answers one item at a time, the one that changes most results first. Each decision's impact is
    # shown before it is applied; they stop once a decision has changed a result.
    while not flipped:
        results = compute_results(course, exam)
        best = None
        if first is not None and first[0] not in decided:
            item, form, answer = first
        else:
            for c_item, c_form, c_answer, picked in _candidates(course, exam, comments):
                if c_item in decided:
                    continue
                imp = preview(course, exam, proposal(c_item, "accept", (picked,)), results=results)
                score = (len(imp.passes_changed), len(imp.changes))  # the comment whose answer changes a result
                if best is None or score > best[0]:
                    best = (score, c_item, c_form, c_answer)
            if best is None:
                break
            _score, item, form, answer = best
        decided.add(item)
        for ln in lines:
            if ln.item_id == item and ln.form == form:
                console.print(f"the line of {item} (form {form} Q{ln.number}): facility "
                              f"{'-' if ln.facility is None else f'{ln.facility:.2f}'}, discrimination "
                              f"{'-' if ln.discrimination is None else f'{ln.discrimination:.2f}'}"
                              + (f", strong candidates chose {ln.strong_choice}" if ln.strong_choice else "")
                              + (f"; flags: {'; '.join(ln.flags)}" if ln.flags else ""), highlight=False)
        did = record_decision(course, exam, item, "accept", "a candidate's comment: the stem allows this answer "
                              "too; the item's author agrees (miskeyed)", COORDINATOR, accept=answer, form=form)
        before = impact(course, exam, did, results=results)
        # the answer as each form's candidates saw it ("C on form A, B on form C"), and per row its own form
        # (the points needed are that form's)
        accepts = accepted_text(course, exam, _decision_row(course, exam, did))
        t = Table(title=f"impact BEFORE applying decision {did}: {item} accepts {answer} on form {form} as well"
                        + (f" (as each form shows it: {accepts})" if accepts and accepts != f"{answer} on form {form}"
                           else ""))
        for col in ("candidate", "form", "total", "points needed", "result"):  # needed: on the row's own form
            t.add_column(col)
        labels = _form_labels(course, exam)
        moved = sorted((c for c in before.changes if c.outcome_changes),  # the scripted candidate's row first
                       key=lambda c: not (scripted and c.sitting_id == scripted["sitting"]))
        for c in moved + [c for c in before.changes if not c.outcome_changes][:max(0, 6 - len(moved))]:
            t.add_row(c.candidate_id, labels.get(c.assignment, c.assignment),
                      f"{c.old_total:g} -> {c.new_total:g}" if c.new_total is not None else "pending",
                      f"{c.new_cut:.2f}", f"{c.old_status} -> {c.new_status}" if c.outcome_changes else c.new_status)
        console.print(t)
        console.print(f"{len(before.changes)} sitting(s) change ({len(moved)} result(s)); the table shows every "
                      "result that changes and a few of the others", highlight=False)
        done = apply(course, exam, did, COORDINATOR, precision)
        whose = {c.sitting_id: c.candidate_id for c in before.changes}
        changed = ", ".join(f"sitting {s} of {whose.get(s, '?')}: {a} -> {b}" for s, a, b in done.outcomes)
        again = apply(course, exam, did, COORDINATOR, precision)
        console.print(f"applied: {done.rescored} grade(s) re-scored in nbgrader's gradebook (sealed), "
                      f"{len(done.outcomes)} outcome(s) changed "
                      f"({changed or 'none'}), "
                      f"{len(done.reports)} score report(s) written again; applied again: "
                      f"{'nothing changed' if again.nothing else 'CHANGED AGAIN'}", highlight=False)
        flipped += [c.sitting_id for c in before.passes_changed]
        outcomes += done.outcomes
    if did is None:
        console.print("[yellow]no comment named another answer; nothing to correct this time[/]")
        ctx.state["recourse"] = {}
        return
    if scripted:
        plan = scripted["plan"]
        if scripted["sitting"] in flipped:
            console.print(f"{scripted['candidate']}, scripted just below the cut of {plan.assignment} with "
                          f"{plan.item_id}'s really right answer ({plan.accepted}), passes: fail -> pass by decision "
                          f"{did}, shown before it was applied", highlight=False)
        else:
            console.print(f"{scripted['candidate']}, scripted just below the cut with {plan.item_id}'s really right "
                          f"answer, is not passed by key validation (decided: {', '.join(sorted(decided))})",
                          highlight=False)

    # an appeal of a score, re-rated blind
    results = compute_results(course, exam)
    failed = [r for r in results if r.status == "fail" and r.open_response.score is not None
              and r.open_response.score < r.open_response.max]
    appeal_line = None
    if failed:
        r = min(failed, key=lambda x: x.cut_score - (x.total.score or 0))
        today = clock.today(course.zone)
        aid = appeals.record(course, r.sitting_id, "score", "I think my written answers were marked too low.",
                             today, COORDINATOR)
        appeals.assign_rater(course, aid, APPEAL_RATER, COORDINATOR)
        shown = appeals.to_rerate(course, aid, APPEAL_RATER)
        for x in shown:  # the rater reads the answer and the rubric only, and chooses levels
            rubric = load_rubric_for(course, x.rubric_id)
            strong = len(x.answer) > 150
            levels = {c.id: (c.max_points if strong else c.levels[len(c.levels) // 2].points) for c in rubric.criteria}
            appeals.rerate(course, aid, APPEAL_RATER, x.item_id, levels, "re-rated for the appeal")
        eff = appeals.effect(course, aid)  # the decision follows what the re-rating does to the total
        assert eff is not None  # a score appeal, every written answer re-rated
        # the reason is the candidate's to read (their letter gives it): plain words, no setting's name; the
        # letter says itself what the re-rating did to the points
        verdict, why = (("partly", "a rater who had not rated your written answers rated them again, and the new "
                         "rating gives you more points") if eff.raises else
                        ("denied", "a rater who had not rated your written answers rated them again, and the new "
                         "rating does not give you more points"))
        decision = appeals.decide(course, exam, aid, verdict, why, COORDINATOR,
                                  precision=subscore_precision(course, exam))
        after = next(x for x in compute_results(course, exam) if x.sitting_id == r.sitting_id)
        appeal_line = (aid, r.candidate_id, str(r.status), str(after.status))
        console.print(f"appeal {aid}: {r.candidate_id} (sitting {r.sitting_id}) appealed their score; "
                      f"{len(shown)} written answer(s) re-rated blind by {APPEAL_RATER} (no name, no earlier "
                      f"rating shown); decided {appeals.DECISION_TEXT[AppealDecision(verdict)]} ({eff.text()}): "
                      f"{len(decision['scores'])} score(s) changed, total "
                      f"{r.total.text()} -> {after.total.text()}, result {r.status} -> {after.status}; letter "
                      f"{decision['letter'].relative_to(course.root) if decision['letter'] else '-'}",
                      highlight=False)
    log = appeals.appeals_log(course, exam)
    console.print(f"appeals log: {log.total} appeal(s), "
                  + ", ".join(f"{c} {d}: {k}" for (c, d), k in sorted(log.counts.items())), highlight=False)

    from ...grading.keys import close

    closure, reports = close(course, exam, COORDINATOR, "key validation reviewed with the items' authors",
                             precision=subscore_precision(course, exam))
    console.print(f"key validation closed (closure {closure}): results final, {len(reports)} score report(s) "
                  "written again without 'provisional'", highlight=False)
    ctx.state["results"] = compute_results(course, exam)
    ctx.state["recourse"] = {"decision": did, "item": item, "accepted": answer, "flipped": flipped,
                             "appeal": appeal_line, "outcomes": outcomes}
