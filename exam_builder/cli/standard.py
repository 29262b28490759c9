"""``exam-builder standard ...``: run a standard-setting study and put its decision into the forms.

A thin layer over ``exam_builder.standard``: create a study (Modified Angoff or Yes/No) over a form,
several forms or the live bank; seat the panel; open and close rounds; import ratings from a CSV
(every bad row located, nothing written); show the spread; record the board's decision; write the
study report; re-cut a frozen form (the candidates whose result would change listed first; nothing
applied without ``--apply``). The impact data (past candidates' totals and item facility) are read
here, above grading, and handed to the study's numbers.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .. import clock
from ..course import Course
from ..errors import ExamBuilderError
from ..standard.compute import METHODS, MIN_PANEL_FOR_OUTLIERS
from .common import by_option, console, pass_course_db, reason_option


@click.group()
def standard() -> None:
    """Standard setting: a panel's study of the cut score, the board's decision, each form's cut."""


def _actor(actor: str | None) -> str:
    from ..records.audit import current_actor

    return current_actor(actor)


def _share(value: str) -> float | None:
    """``recommended`` (None) or a percent such as ``68%`` / ``68.5``: the adopted share of the points."""
    from .. import numbers

    text = value.strip()
    if text.casefold() == "recommended":
        return None
    body = text[:-1] if text.endswith("%") else text
    try:
        pct = numbers.decimal(body, "--adopt", 0.0, 100.0, above_low=True)
    except numbers.NumberError as exc:
        raise ExamBuilderError(f"--adopt {value!r}: 'recommended' or a percent of the points rated, e.g. 68%; "
                               f"{exc}") from None
    return pct / 100


@standard.command("create")
@click.argument("exam")
@click.option("--method", type=click.Choice(["modified_angoff", "yes_no"]), default="modified_angoff",
              show_default=True, help="Modified Angoff (a probability per item in 5% steps) or Yes/No Angoff.")
@click.option("--forms", "form_labels", default=None, help="Rate these built forms' items, e.g. A,B.")
@click.option("--bank", "live_bank", is_flag=True, help="Rate every live item of the exam's bank.")
@click.option("--mcc", required=True, help="The panel's definition of the minimally competent candidate.")
@click.option("--title", default="", help="The study's title.")
@click.option("--sd-flag", type=click.FloatRange(0.01, 1.0), default=0.15, show_default=True,
              help="Items whose ratings' SD is above this share of their points are flagged for discussion.")
@by_option()
@reason_option(required=False, default="")
@pass_course_db
def create(course: Course, exam: str, method: str, form_labels: str | None, live_bank: bool, mcc: str, title: str,
           sd_flag: float, actor: str | None, reason: str) -> None:
    """Create a standard-setting study of EXAM over --forms or the live --bank."""
    from ..kinds import kind_for
    from ..standard.study import ScopeItem, create_study

    if bool(form_labels) == live_bank:
        raise ExamBuilderError("say what the panel rates: --forms A,B (built forms) or --bank (the live bank)")
    items: dict[str, ScopeItem] = {}
    if live_bank:
        from ..assembly.build import load_checked_bank
        from ..model.item import Pool, Status

        bank, _rubrics = load_checked_bank(course, exam)
        for it in bank.items.values():
            if it.status is Status.live and it.pool == Pool.certification:
                items[it.id] = ScopeItem(it.id, it.kind.value, it.points, kind_for(it.kind).rated, it.content_hash())
        scope: dict = {"bank": True}
    else:
        from ..assembly.forms import require_forms

        labels = [x.strip().upper() for x in (form_labels or "").split(",") if x.strip()]
        with course.db.read() as s:
            forms = {f.label: m for f, m in require_forms(s, exam)}
        unknown = [x for x in labels if x not in forms]
        if unknown:
            raise ExamBuilderError(f"exam {exam} has no form {', '.join(unknown)}; its forms are {', '.join(forms)}")
        for x in labels:
            for e in forms[x].items:
                items.setdefault(e.item_id, ScopeItem(e.item_id, e.kind.value, e.points, kind_for(e.kind).rated,
                                                      e.content_hash))
        scope = {"forms": [forms[x].assignment for x in labels]}
    title = title.strip() or f"{METHODS[method]} study of the {exam_title(course, exam)}"  # never the exam's short id
    study_id = create_study(course.db, exam, list(items.values()), method=method, scope=scope, mcc=mcc, title=title,
                            sd_flag=sd_flag, actor=_actor(actor), reason=reason)
    console.print(f"study {study_id} created: {METHODS[method]} over {len(items)} item(s) of {exam}, titled "
                  f"\"{title}\" (--title names it otherwise); seat the "
                  f"panel with `exam-builder standard panelist {study_id} ...`", highlight=False)


@standard.command("panelist")
@click.argument("study", type=click.IntRange(1))
@click.option("--name", required=True, help="The panelist's name.")
@click.option("--role", required=True, help="Their role, e.g. 'certified peer specialist, 6 years'.")
@click.option("--conflict", required=True, help="Their conflict-of-interest declaration ('none' if none).")
@by_option()
@pass_course_db
def panelist(course: Course, study: int, name: str, role: str, conflict: str, actor: str | None) -> None:
    """Seat a panelist on STUDY with role and conflict-of-interest declaration."""
    from ..standard.study import add_panelist

    add_panelist(course.db, study, name=name, role=role, conflict=conflict, actor=_actor(actor))
    console.print(f"{name} ({role}) is on the panel of study {study}; conflict declared: {conflict}")


@standard.command("round-open")
@click.argument("study", type=click.IntRange(1))
@click.option("--reopen", is_flag=True, help="Open another round of a study the board has decided on (with "
                                             "--reason; audited). The decision stays in force until the next.")
@by_option()
@reason_option("Why a decided study is reopened (with --reopen; kept in the audit trail).", required=False,
               default="")
@pass_course_db
def round_open(course: Course, study: int, reopen: bool, actor: str | None, reason: str) -> None:
    """Open STUDY's next round (a later round starts from each panelist's ratings of the one before)."""
    from ..standard.study import open_round

    if reopen and not reason.strip():
        raise ExamBuilderError("--reopen needs the reason (--reason): it is kept in the audit trail")
    if reason.strip() and not reopen:
        raise ExamBuilderError("--reason is for reopening a decided study; add --reopen, or leave the reason out")
    n = open_round(course.db, study, _actor(actor), reopen=reason if reopen else "")
    console.print(f"round {n} of study {study} is open" + (" (independent ratings)" if n == 1 else
                                                          "; each panelist starts from their round "
                                                          f"{n - 1} ratings, every change is kept")
                  + ("; the study is reopened (audited): its decision stays in force until the board decides "
                     "again" if reopen else ""))


@standard.command("round-close")
@click.argument("study", type=click.IntRange(1))
@by_option()
@pass_course_db
def round_close(course: Course, study: int, actor: str | None) -> None:
    """Close STUDY's open round (refused while any rating is missing)."""
    from ..standard.study import close_round

    n = close_round(course.db, study, _actor(actor))
    console.print(f"round {n} of study {study} is closed; `exam-builder standard show {study}` shows the spread")


@standard.command("ratings")
@click.argument("study", type=click.IntRange(1))
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@by_option()
@pass_course_db
def ratings(course: Course, study: int, csv_file: Path, actor: str | None) -> None:
    """Import ratings into STUDY's open round from CSV_FILE (panelist, item, rating, note)."""
    from ..standard.study import import_ratings

    course.require_inside(csv_file)
    got = import_ratings(course.db, study, csv_file, course.root, _actor(actor))
    console.print(f"study {study}, round {got.round_no}: {got.new} new, {got.changed} changed and {got.unchanged} "
                  f"unchanged rating(s) from {csv_file.name}"
                  + (f" ({got.blank} row(s) without a rating skipped)" if got.blank else "") + "; "
                  + (f"{got.missing} still missing (`exam-builder standard round-close {study}` names them)"
                     if got.missing else "none missing: the round can close"), highlight=False)


@standard.command("sheet")
@click.argument("study", type=click.IntRange(1))
@pass_course_db
def sheet(course: Course, study: int) -> None:
    """Print STUDY's ratings sheet as CSV (panelist, item, rating, note): a row per panelist and item in scope,
    the rating filled in where the open round holds one. Redirect it to a file, fill in the ratings, import it
    with `exam-builder standard ratings`."""
    import csv
    import sys

    from ..standard.study import read_study

    view = read_study(course.db, study)
    held = view.open_round.raw if view.open_round is not None else {}
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["panelist", "item", "rating", "note"])
    for name in [p.name for p in view.panel] or [""]:
        for it in view.items:
            value = held.get(name, {}).get(it.item_id)
            w.writerow([name, it.item_id, "" if value is None else f"{value:g}", ""])


def study_summary(course: Course, study: int):
    """The study with its impact data, as `show` and `report` give it."""
    from ..analysis.impact import standard_impact
    from ..standard.report import summarise
    from ..standard.study import in_force, read_study

    view = read_study(course.db, study)
    exam = view.study.exam_id
    manifests, scores, facility = standard_impact(course, exam)
    with course.db.read() as s:
        force = in_force(s, exam)
    return summarise(view, manifests, scores, facility, force, exam_title(course, exam), named_standard(course, exam))


def _blueprint(course: Course, exam: str):
    """The exam's blueprint as parsed (None when it is missing or cannot be read)."""
    from ..assembly.blueprint import parse_blueprint

    path = course.blueprint_path(exam)
    return parse_blueprint(path, f"source/{exam}/blueprint.yaml")[0] if path.is_file() else None


def exam_title(course: Course, exam: str) -> str:
    """The exam's title as people know it: its blueprint's title, else the program's name."""
    bp = _blueprint(course, exam)
    return bp.title if bp is not None and bp.title else course.policy.program_name


def named_standard(course: Course, exam: str) -> tuple[int, int] | None:
    """(study, decision) the exam's blueprint names as its `standard:`, or None."""
    bp = _blueprint(course, exam)
    ref = bp.standard if bp is not None else None
    return (ref.study, ref.decision) if ref is not None else None


@standard.command("show")
@click.argument("study", type=click.IntRange(1))
@pass_course_db
def show(course: Course, study: int) -> None:
    """STUDY's progress, spread, panelists' cuts, recommended cut per form with SE and impact."""
    from rich.table import Table

    from ..numbers import fmt
    from ..standard.report import facility_line, facility_shown, round_fields, sd_shown

    summary = study_summary(course, study)
    view = summary.view
    method = "" if METHODS[view.study.method] in view.study.title else f"{METHODS[view.study.method]}; "
    console.print(f"study {study}: {view.study.title} ({method}{len(view.panel)} panelist(s), "
                  f"{len(view.items)} item(s), {view.points:g} points)", highlight=False, markup=False)
    for r in view.rounds:
        console.print("  " + round_fields(r))
    for n, d in enumerate(view.decisions, 1):
        console.print(f"  decision {n}: {d.decided_by} adopted {d.adopted:.1%} of the points on "
                      f"{d.decided_on.isoformat()} (round {d.round_no}); {summary.status(n)}", highlight=False,
                      markup=False)
    console.print("  " + facility_line(summary), highlight=False, markup=False)
    for r in summary.rounds:
        flagged = [it for it in r.spread if it.flagged]
        icc = f"ICC(2,1) {r.icc[0]:.2f}, ICC(2,k) {r.icc[1]:.2f}" if r.icc else "ICC n/a"
        se = f"{r.se:.2f}" if r.se is not None else "n/a"
        console.print(f"\n[bold]round {r.number}[/]: recommended {r.share:.1%} of the points ({r.scope_cut:.2f} of "
                      f"{view.points:g}), SE {se}; {icc}; {len(flagged)} item(s) flagged for discussion (SD above "
                      f"{fmt(round(view.study.sd_flag * 100, 6))}%)")
        if r.changes:
            console.print(f"ratings changed from round {r.number - 1}: {sum(r.changes.values())} ("
                          + ", ".join(f"{p} {n}" for p, n in r.changes.items()) + ")")
        t = Table(title=f"items flagged in round {r.number}")
        for col in ("item", "mean", "SD", "lowest", "highest", "facility"):
            t.add_column(col, justify="left" if col == "item" else "right")
        for it in flagged:
            t.add_row(it.item_id, f"{it.mean:.0%}", sd_shown(it.sd, view.study.sd_flag), f"{it.low:.0%}",
                      f"{it.high:.0%}", facility_shown(summary.facility, it.item_id))
        if flagged:
            console.print(t)
        out = [ch for ch in r.checks if ch.flagged]
        if len(r.checks) < MIN_PANEL_FOR_OUTLIERS:
            console.print(f"outlier panelists: not named on a panel of {len(r.checks)} (needs "
                          f"{MIN_PANEL_FOR_OUTLIERS}: the others' spread rests on too few cuts)")
        else:
            console.print("outlier panelists: " + ("; ".join(f"{ch.panelist} ({ch.why})" for ch in out) or "none"))
        for f in r.forms:
            se_f = f"{f.se:.2f}" if f.se is not None else "n/a"
            adopted = (f"; adopted cut {f.adopted:.2f}" + (f" (pass rate {f.adopted_pass:.0%})" if f.adopted_pass
                                                             is not None else "") if f.adopted is not None else "")
            impact = ", ".join(f"{lab} {cut:.2f}: {rate:.0%}" for lab, cut, rate in f.impact if rate is not None)
            console.print(f"  form {f.assignment}: recommended raw cut {f.recommended:.2f} of {f.points:g} (SE {se_f})"
                          f"{adopted}" + (f"; pass rate of {f.candidates} past candidates at {impact}" if impact
                                          else "; no past candidates on this form"))
            if f.candidates:
                console.print("    the pass rate each panelist's cut would have produced: "
                              + ", ".join(f"{p} {rate:.0%}" for p, rate in f.panelist_pass.items() if rate is not None))


def coverage_lines(course: Course, study: int, exam: str) -> list[str]:
    """What the study's ratings cover of the exam's built forms and of the items its blueprint can draw, and what
    follows for what they do not cover (said before a decision is recorded)."""
    from ..assembly.blueprint import eligible_items, parse_blueprint
    from ..assembly.build import load_checked_bank
    from ..assembly.forms import load_forms
    from ..assembly.standard_line import some, uncovered
    from ..standard.study import read_study

    rated = read_study(course.db, study).hashes
    with course.db.read() as s:
        forms = [m for _f, m in load_forms(s, exam)]
    out = [f"study {study} rated {len(rated)} item(s):"]
    short = []
    for m in forms:
        unrated, edited = uncovered(rated, [(e.item_id, e.content_hash) for e in m.items])
        if unrated or edited:
            short.append(m.assignment)
            out.append(f"  form {m.assignment}: NOT covered: " + "; ".join(
                ([f"{len(unrated)} of its {len(m.items)} items not rated ({some(unrated)})"] if unrated else [])
                + ([f"{len(edited)} edited since rated ({some(edited)})"] if edited else [])))
        else:
            out.append(f"  form {m.assignment}: covered (all {len(m.items)} items rated)")
    try:
        bank, rubrics = load_checked_bank(course, exam)
        bp, _data, problems = parse_blueprint(course.blueprint_path(exam), f"source/{exam}/blueprint.yaml")
    except ExamBuilderError:
        bp, problems = None, []
    drawable_short = False
    if bp is not None and not problems:
        drawable = eligible_items(bp, bank, rubrics).items
        unrated, edited = uncovered(rated, [(i.id, i.content_hash()) for i in drawable])
        drawable_short = bool(unrated or edited)
        out.append(f"  the bank: {len(drawable) - len(unrated) - len(edited)} of the {len(drawable)} items the "
                   "blueprint can draw are covered" + (
                       f"; not rated: {some(unrated)}" if unrated else "") + (
                       f"; edited since rated: {some(edited)}" if edited else ""))
    else:
        out.append("  the bank: not checked (`exam-builder check` says why)")
    if short or drawable_short:
        follows = ([f"form(s) {', '.join(short)} cannot take a cut from it (`standard recut` refuses them)"]
                   if short else []) + (["a build that draws an item it does not cover is refused"]
                                        if drawable_short else [])
        out.append("what follows: this decision becomes the standard of the whole exam, but "
                   + " and ".join(follows)
                   + f"; to cover them, a study rates them (`exam-builder standard create {exam} --bank`) and the "
                     "board decides on it")
    return out


@standard.command("decide")
@click.argument("study", type=click.IntRange(1))
@click.option("--adopt", "adopt", default="recommended", show_default=True,
              help="The cut the board adopts: 'recommended' or a percent of the points rated, e.g. 68%.")
@click.option("--board", required=True, help="Who decided: the oversight board (or its chair).")
@click.option("--decided-on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day of the board's decision (default: today in the room's time zone).")
@click.option("--apply", "apply", is_flag=True,
              help="Record the decision and write it into the blueprint (without it: show both, change nothing).")
@by_option("Who records the decision (default: $EXAM_BUILDER_USER or the login name).")
@reason_option("Why the board adopts this cut (required when it differs from the recommendation).",
               required=False, default="")
@pass_course_db
def decide(course: Course, study: int, adopt: str, board: str, decided_on: dt.datetime | None, apply: bool,
           actor: str | None, reason: str) -> None:
    """Record the board's decision on STUDY: the adopted cut, who decided, when and why (audited), and write it
    into the exam's blueprint as its `standard:`. Shows the decision and the blueprint's change first; records
    and writes only with --apply."""
    from ..assembly.standard_line import plan_edit
    from ..standard.study import plan_decision, record_decision

    day = decided_on.date() if decided_on else clock.today(course.zone)
    pending = plan_decision(course.db, study, adopted=_share(adopt), board=board, decided_on=day, reason=reason)
    edit = plan_edit(course, pending.exam, pending.ref, pending.comment())
    console.print(f"decision {pending.number} of study {study}: {board} adopts {pending.adopted:.1%} of the points "
                  f"(the panel recommended {pending.recommended:.1%} in round {pending.round_no}) on {day.isoformat()}"
                  f"; reason: {pending.reason}", highlight=False, markup=False)
    for line in coverage_lines(course, study, pending.exam):
        console.print(line, highlight=False, markup=False)
    console.print("the blueprint's change:", highlight=False)
    for line in edit.shown():
        console.print(f"  {line}", highlight=False, markup=False)
    if not apply:
        console.print("nothing was recorded or written; run again with --apply to record the decision and write "
                      "the blueprint", highlight=False)
        return
    record_decision(course.db, pending, edit, course.root, _actor(actor))
    console.print(f"decision recorded: {board} adopted {pending.adopted:.1%} of the points (audited); {edit.label} "
                  f"written (sha256 {edit.before_hash[:12]} -> {edit.after_hash[:12]}); forms built from now on take "
                  "their own raw cut from the study's ratings; forms built before keep theirs until "
                  "`exam-builder standard recut`", highlight=False, markup=False)


@standard.command("report")
@click.argument("study", type=click.IntRange(1))
@click.option("--names", is_flag=True, help="Name the panelists (default: roles only, 'panelist 1', ...).")
@pass_course_db
def report(course: Course, study: int, names: bool) -> None:
    """Write STUDY's report (HTML, figures embedded) and its CSV beside the program's report."""
    from ..standard.report import write_report

    summary = study_summary(course, study)
    html, csv_path = write_report(summary, course.report_dir(summary.view.study.exam_id), course.root, names=names,
                                   zone=course.zone)
    console.print(f"study report: {html}\nits numbers: {csv_path}")


def _final_why(course: Course, exam: str, results: list) -> dict[int, str]:
    """sitting -> why its result is final (it no longer changes by key validation or an appeal): "decided on
    appeal 2", "key validation closed", both; sittings whose result is not final are not listed."""
    from ..grading.keys import closed_at
    from ..records.queries.recourse import select_appeals

    with course.db.read() as s:
        appealed: dict[int, list[int]] = {}
        for a, sit in select_appeals(s, exam):
            if a.decision is not None:
                appealed.setdefault(sit.id, []).append(a.id)
    validated = closed_at(course, exam) is not None or not course.recourse_settings.provisional_until_validated
    out = {}
    for r in results:
        why = [f"decided on appeal {', '.join(map(str, appealed[r.sitting_id]))}"] if r.sitting_id in appealed else []
        if validated and not r.provisional and r.recorded:
            why.append("key validation closed" if course.recourse_settings.provisional_until_validated
                       else f"{r.recorded} recorded")
        if why:
            out[r.sitting_id] = " and ".join(why)
    return out


@standard.command("recut")
@click.argument("exam")
@click.option("--form", "label", required=True, help="The frozen form to re-cut, e.g. A.")
@click.option("--apply", "apply", is_flag=True, help="Record the new cut (without it: list what would change).")
@click.option("--change-final", "change_final", is_flag=True,
              help="With --apply: also change results that are final (key validation closed, or decided on "
                   "appeal); the list of them is audited with the reason.")
@by_option()
@reason_option("Why the form is re-cut (kept in the audit trail).", required=False, default="")
@pass_course_db
def recut(course: Course, exam: str, label: str, apply: bool, change_final: bool, actor: str | None,
          reason: str) -> None:
    """Give a form built before the standard its cut from the standard in force; lists the candidates whose
    result would change (marking those already final), and records it only with --apply (audited). Applied,
    the outcomes that change are recorded and the form's score reports written again, as a key decision does."""
    from ..assembly.forms import require_forms
    from ..assembly.standard_line import decision_number
    from ..grading.results import compute_results
    from ..records.cuts import effective_cut
    from ..standard.study import recut as record, standard_in_force

    with course.db.read() as s:
        forms = {f.label: (f, m) for f, m in require_forms(s, exam)}
        if label.upper() not in forms:
            raise ExamBuilderError(f"exam {exam} has no form {label}; its forms are {', '.join(forms)}")
        form, m = forms[label.upper()]
        std = standard_in_force(s, exam)
        if std is None:
            raise ExamBuilderError(f"no standard is in force for {exam}: record the board's decision first "
                                   "(exam-builder standard decide)")
        old = effective_cut(s, form, m)
        form_id = form.id
    new = std.form_cut(m)
    on_form = [r for r in compute_results(course, exam) if r.assignment == m.assignment]
    moving = [r for r in on_form if r.final and (r.total.score + 1e-9 >= old) != (r.total.score + 1e-9 >= new)]
    final = _final_why(course, exam, moving)
    changed, final_changed = [], []
    for r in moving:
        was = r.total.score + 1e-9 >= old
        line = (f"{r.candidate_id} (sitting {r.sitting_id}, {r.total.score:g} points): "
                f"{'pass' if was else 'fail'} -> {'fail' if was else 'pass'}")
        changed.append(line)
        if r.sitting_id in final:
            final_changed.append(f"{line}: FINAL ({final[r.sitting_id]})")
    with course.db.read() as s:
        number = decision_number(s, std.decision)
    console.print(f"form {m.assignment}: cut {old:.2f} now, {new:.2f} under the standard of study {std.view.study.id} "
                  f"(decision {number})")
    console.print(f"{len(changed)} result(s) would change" + (":" if changed else ""))
    for line in changed:
        marked = next((f for f in final_changed if f.startswith(line + ":")), line)
        console.print(f"  {marked}", highlight=False, markup=False)
    if final_changed:
        console.print(f"{len(final_changed)} of them final: the candidate was told the result as settled; re-cutting "
                      "reverses it, and their score report is written again", highlight=False, markup=False)
    if abs(new - old) < 1e-9:
        console.print("nothing to re-cut")
        return
    if not apply:
        console.print("nothing was changed; run again with --apply and --reason to record the new cut"
                      + (" (and --change-final: it changes final results)" if final_changed else ""),
                      highlight=False, markup=False)
        return
    if final_changed and not change_final:
        raise ExamBuilderError(f"the re-cut of form {m.assignment} changes {len(final_changed)} final result(s) "
                               "(listed above); nothing was changed. To change them, add --change-final (audited "
                               "with the reason)")
    record(course.db, form_id, m, new, old, std.decision.id, changed, reason, _actor(actor), final_changed)
    console.print(f"form {m.assignment} re-cut to {new:.2f} (audited)", highlight=False)
    _after_recut(course, exam, {r.sitting_id for r in on_form}, m.assignment, new, _actor(actor))


def _after_recut(course: Course, exam: str, sittings: set[int], assignment: str, cut: float, actor: str) -> None:
    """The re-cut form's outcomes that changed recorded (the ledger, audited) and its score reports (and their
    printed copies) written again: the path a key decision takes (``grading.keys``)."""
    from ..analysis.subscores import subscore_precision  # scipy and pandas: only when used
    from ..grading.keys import rewrite_reports, update_outcomes
    from .grading import say_reprinted

    moved = update_outcomes(course, exam, sittings, actor, f"form {assignment} re-cut to {cut:.2f}")
    reports = rewrite_reports(course, exam, sittings, subscore_precision(course, exam))
    console.print(f"{len(moved)} recorded outcome(s) changed ("
                  + (", ".join(f"sitting {s}: {a} -> {b}" for s, a, b in moved) or "none")
                  + f"), {len(reports)} score report(s) of form {assignment} written again", highlight=False,
                  markup=False)
    say_reprinted(course, exam, reports)


@standard.command("list")
@click.argument("exam", required=False)
@pass_course_db
def list_studies(course: Course, exam: str | None) -> None:
    """The studies (of EXAM) with their rounds and decisions."""
    from ..records.queries import standard as q
    from ..standard.study import in_force

    with course.db.read() as s:
        exams = {st.exam_id for st in q.select_studies(s, exam)}
    named = {e: named_standard(course, e) for e in exams}
    with course.db.read() as s:
        studies = q.select_studies(s, exam)
        force = {e: in_force(s, e) for e in {st.exam_id for st in studies}}
        for st in studies:
            rounds = q.select_rounds(s, st.id)
            decisions = q.select_decisions(s, study_id=st.id)
            f = force[st.exam_id]
            state = (f"decided: decision {len(decisions)}, {decisions[-1].adopted:.1%} adopted; "
                     + (f.status(decisions[-1], len(decisions), named.get(st.exam_id)) if f is not None else "")
                     if decisions else f"{len(rounds)} round(s)" if rounds else "panel being seated")
            if decisions and rounds and rounds[-1].number > decisions[-1].round_no:  # another round since
                state += (f"; reopened: round {rounds[-1].number} "
                          + ("open" if rounds[-1].closed_at is None else "closed, not yet decided on"))
            method = "" if METHODS[st.method] in st.title else f" ({METHODS[st.method]})"  # a title may not say
            console.print(f"study {st.id} ({st.exam_id}): {st.title}{method}; {state}", highlight=False, markup=False)
    if not studies:
        console.print("no studies" + (f" of {exam}" if exam else ""))


@standard.command("panel")
@click.argument("study", type=click.IntRange(1))
@click.option("--port", default=8875, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--token", default=None, help="Access token (default: a new random one, printed on a terminal, else "
                                         "written to a file only you can read).")
@pass_course_db
def panel(course: Course, study: int, port: int, token: str | None) -> None:
    """Serve the panelist's screen for STUDY (Voila) on 127.0.0.1 behind a token: each item with its key and
    rationale, one rating per item, notes, progress. The name typed in it must be on the panel (self-declared)."""
    from ..delivery.server import serve_staff
    from ..desks.panel_app import NOTEBOOK
    from ..standard.study import read_study

    read_study(course.db, study)  # a clear error for a study that does not exist, before the server starts
    serve_staff(course, NOTEBOOK, "Panelist's screen", port, token, {"EXAM_BUILDER_STUDY": str(study)},
                lambda line: console.print(line, highlight=False))


COMMANDS = [standard]
