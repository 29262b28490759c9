"""Commands of the grading domain: objective scoring, the grader app, rubric edits, results, reports.

Every command takes a database at the current revision (``pass_course_db``); the work is in
``exam_builder.grading`` (``grading.overview`` for the exam-wide views) and ``exam_builder.analysis``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..errors import rel
from ..records.audit import current_actor
from ..safeload import safe_rel
from .common import by_option, console, err_console, pass_course_db, reason_option, say

#: ``grade`` finished everyone it could, but some submission folders were set aside (unreadable)
#: or not graded (candidate not on the roster): staff must look. 1 stays "failed, nothing changed".
EXIT_NEEDS_ATTENTION = 3


@click.command()
@click.argument("exam")
@by_option("Who grades (default: $EXAM_BUILDER_USER or login).")
@reason_option(required=False, default="objective scoring from the manifest key", show_default=True)
@click.option("--workers", type=int, default=None, help="Processes reading submissions (default: one per CPU).")
@click.option("--formgrader-copies/--no-formgrader-copies", default=None,
              help="Write key-free, staff-only copies to autograded/ so nbgrader's formgrader shows every score "
                   "(on by default: GradingSettings.formgrader_copies).")
@pass_course_db
def grade(course, exam, actor, reason, workers, formgrader_copies) -> None:
    """Score every true/false and multiple-choice answer of EXAM's submissions (no code is run).

    Writes nbgrader's gradebook (as `nbgrader autograde` would), flags tampered submissions,
    scores blank written answers 0 and opens the rating queues for the rest. A submission that
    cannot be read is set aside and a folder of someone not on the roster is not graded; both
    are flagged, everyone else is graded, and the exit code is 3 (0: everything graded).
    """
    from ..grading.adjudication import AdjudicationRule
    from ..grading.objective import grade_exam
    from ..grading.overview import settle_blanks

    AdjudicationRule.from_settings(course.grading_settings)  # a rule nobody could follow stops here, before any write
    actor = current_actor(actor)
    report = grade_exam(course, exam, actor, reason, console=err_console, workers=workers,
                        write_copies=formgrader_copies)
    t = Table(title=f"{exam}: objective scoring")
    for col in ("form", "submissions", "new", "re-scored", "points changed", "flagged", "set aside", "not on roster"):
        t.add_column(col, justify="right" if col != "form" else "left")
    for f in report.forms:
        t.add_row(f.assignment, str(f.submissions), str(f.created), str(f.updated), str(len(f.changed)),
                  str(len(f.flagged)), str(len(f.set_aside)), str(len(f.unknown)))
    console.print(t)
    flagged = [(f.assignment, c, n) for f in report.forms for c, n in sorted(f.flagged.items())]
    if flagged:
        console.print(f"[yellow]{len(flagged)} submission(s) flagged[/] (scored from the manifest and gradebook; "
                      "see `exam-builder flags " + escape(exam) + "`):", highlight=False)
        for assignment, cand, n in flagged[:20]:
            console.print(f"  {escape(assignment)} {escape(cand)}: {n} finding(s)", highlight=False)
    blank = settle_blanks(course, exam, actor)
    if blank:
        console.print(f"{blank} blank written answer(s) scored 0 (no response).")
    needs_attention(report, safe_rel(course.submitted_dir, course.root))


def needs_attention(report, submitted: str = "submitted") -> None:
    """Say what was set aside or not graded, each with its located message; exit 3 if any."""
    if report.complete:
        return
    for _form, _cand, message in report.set_aside:
        err_console.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)
    for _form, _name, message in report.unknown:
        err_console.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)
    err_console.print(
        f"{len(report.set_aside)} submission(s) set aside and {len(report.unknown)} entr(ies) under "
        f"{escape(submitted)}/ not graded (not on the roster, or no candidate's folder); "
        f"everyone else is graded (exit code {EXIT_NEEDS_ATTENTION}). "
        f"See `exam-builder flags {escape(report.exam)}`.", highlight=False, soft_wrap=True)
    sys.exit(EXIT_NEEDS_ATTENTION)


@click.command()
@click.argument("exam")
@pass_course_db
def flags(course, exam) -> None:
    """What objective scoring and rubric edits flagged, per submission."""
    from ..grading.overview import score_flags

    rows = score_flags(course, exam)
    t = Table(title=f"{exam}: flags")
    for col in ("form", "candidate", "cell", "kind", "details"):
        t.add_column(col, overflow="fold")
    for assignment, candidate, grade_id, kind, details in rows:  # plain text: brackets are not markup
        t.add_row(*(escape(v) for v in (assignment, candidate, grade_id or "", kind, details)))
    console.print(t)
    console.print(f"{len(rows)} flag(s).")


@click.command()
@click.option("--exam", default=None,
              help="The exam whose written answers are scored (default: the course's one exam).")
@click.option("--port", default=8870, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--token", default=None, help="Access token (default: a new random one, printed on a terminal, else "
                                         "written to a file only you can read).")
@pass_course_db
def grader(course, exam, port, token) -> None:
    """Serve the grader app (Voila) to staff: 127.0.0.1 only, behind a token; never the candidates' server."""
    from ..delivery.server import serve_staff

    exam = course.exam_name(exam)
    notebook = Path(__file__).resolve().parents[1] / "grading" / "grader.ipynb"
    # widget messages only (the same websocket filter as the candidates' server): graders run no code
    serve_staff(course, notebook, "Grader app", port, token, {"EXAM_BUILDER_EXAM": exam},
                lambda line: console.print(line, highlight=False))


@click.command("reapply-rubric")
@click.argument("exam")
@click.option("--rubric", "rubric_ids", multiple=True, help="Only these rubric ids (default: every edited rubric).")
@reason_option("Why the rubric was edited (kept in the audit trail).")
@by_option("Who applies the edit.")
@pass_course_db
def reapply_rubric(course, exam, rubric_ids, reason, actor) -> None:
    """Re-apply edited rubrics to every rating of EXAM made with an older version."""
    from ..grading.overview import reapply_rubrics

    t = Table(title=f"{exam}: rubric edits re-applied")
    for col in ("rubric", "re-scored", "sent back for re-rating", "unchanged"):
        t.add_column(col)
    for res in reapply_rubrics(course, exam, list(rubric_ids), current_actor(actor), reason):
        t.add_row(res.rubric, str(len(res.rescored)), str(len(res.rerate)), str(res.unchanged))
    console.print(t)


@click.command()
@click.argument("exam")
@pass_course_db
def ratings(course, exam) -> None:
    """Where rating stands, per written question: decided, waiting for adjudication, pending, set aside;
    then which responses still wait, for what and for whom."""
    from ..grading.overview import rating_overview, waiting_overview

    rows, aside = rating_overview(course, exam)
    t = Table(title=f"{exam}: rating")
    for col in ("item", "responses", "final", "adjudication", "re-rate", "pending", "set aside"):
        t.add_column(col, justify="right" if col != "item" else "left")
    for r in rows:
        t.add_row(r.item_id, str(r.responses), str(r.final), str(r.adjudication), str(r.rerate), str(r.pending),
                  str(r.set_aside))
    console.print(t)
    for message in aside:
        console.print(f"[yellow]set aside:[/] {escape(message)}", highlight=False, soft_wrap=True)
    groups, note = waiting_overview(course, exam)
    if not groups:
        console.print("Nothing waits: every written answer is decided.")
        return
    w = Table(title=f"{exam}: still waiting ({escape(note)})")
    for col in ("item", "waits for", "by whom", "responses"):
        w.add_column(col, overflow="fold")
    for g in groups:
        shown = ", ".join(g.responses[:6]) + (f" and {len(g.responses) - 6} more" if len(g.responses) > 6 else "")
        w.add_row(escape(g.item_id), escape(g.step), escape(g.who), f"{len(g.responses)}: {escape(shown)}")
    console.print(w)


def _again(later) -> str:
    """An absent sitting's later one, as the results' absent line names it ("; sat again: sitting 58"):
    a coordinator chasing no-shows skips those who came back."""
    if later is None:
        return ""
    if later.status == "submitted":
        return f"; sat again: sitting {later.id}"
    return f"; booked again: sitting {later.id}, {later.status.replace('_', ' ')}"


@click.command()
@click.argument("exam")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the results to this CSV file (candidate data: keep it out of git, e.g. exports/).")
@by_option("Who records the outcomes.")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Record pass or fail of final results in the candidates' records.")
@pass_course_db
def results(course, exam, csv_path, actor, record) -> None:
    """Per candidate: total, subscores, pass or fail, attempt and next step ("pending" until scored); records each
    final result's pass or fail in the candidates' records (audited) unless --no-record (a preview).

    A result reads "(provisional)" (the CSV's provisional column: yes) until the exam's key validation is closed
    (exam-builder keys close)."""
    from ..files import check_owned
    from ..grading.results import competency_names, compute_results, record_outcomes, results_csv, write_atomic
    from ..records.absence import absent_sittings, later_sittings, settle_course

    if csv_path is not None:
        check_owned(csv_path, course.root)  # before anything is recorded: a refused command changes nothing
    settle_course(course, exam_id=exam)  # no-shows past their window: absent, stored and audited
    res = compute_results(course, exam)
    console.print(results_table(course, exam, res, competency_names(course, res)))
    with course.db.read() as s:
        rows = absent_sittings(s, exam)
        later = later_sittings(s, exam, rows)
        absent = [(a.id, a.candidate_id, _again(later.get(a.id))) for a in rows]
    if absent:
        shown = ", ".join(f"{cid} (sitting {sid}{again})" for sid, cid, again in absent)
        console.print(f"{len(absent)} absent sitting(s), no-shows with no result: {shown}", highlight=False)
    # a score changed outside exam-builder: named, and nothing recorded or written (with --no-record too)
    n = record_outcomes(course, res, current_actor(actor), write=record)
    if record:
        console.print(f"{n} outcome(s) recorded; {sum(1 for r in res if not r.final)} result(s) pending.")
    else:
        console.print("A preview (--no-record): no outcome recorded; without --no-record, results records each final "
                      "result's pass or fail in the candidates' records.", highlight=False, soft_wrap=True)
    if csv_path is not None:
        write_atomic(csv_path, results_csv(course, res), root=course.root)
        console.print(f"results written to {rel(csv_path, course.root)}")


@click.command()
@click.argument("exam")
@click.option("--pdf", is_flag=True,
              help="Also print each report to a PDF in exports/EXAM/score-reports/ (staff only), with a delivery list "
                   "beside them (delivery-list.csv: who gets which file), to hand or e-mail to candidates who have no "
                   "Jupyter account.")
@pass_course_db
def feedback(course, exam, pdf: bool) -> None:
    """Write each candidate's score report (HTML, no items or keys) to feedback/<candidate>/<form>/.

    Candidates with a Jupyter account get it with nbgrader release_feedback; for the others, --pdf prints
    one PDF per candidate (named <candidate>-<form>.pdf) and a delivery list (delivery-list.csv: candidate,
    name, e-mail, file) for staff to print or e-mail; delete the folder once every file is delivered. Without
    --pdf, the PDFs printed before are printed again from the reports written now (none shows an old report).
    """
    from ..grading.results import write_feedback

    if pdf:
        from ..reports.pdf import chromium

        chromium()  # no browser to print with: said before anything is written
    from ..analysis.subscores import subscore_precision

    paths = write_feedback(course, exam, precision=subscore_precision(course, exam))
    console.print(f"{len(paths)} score report(s) written under {rel(course.feedback_dir, course.root)}/")
    if pdf:
        from ..reports.pdf import DELIVERY_LIST, pdf_folder, print_score_reports

        pdfs = print_score_reports(course, exam, paths)
        folder = rel(pdf_folder(course, exam), course.root)
        console.print(f"{len(pdfs)} printable score report(s) (PDF, staff only) written under {folder}/; "
                      f"who gets which file: {folder}/{DELIVERY_LIST}", highlight=False, soft_wrap=True)
        if pdfs:
            console.print(f"Send or hand each file to the candidate on its line, then delete them all: "
                          f"rm -r {folder}", highlight=False, soft_wrap=True)
    else:
        say_reprinted(course, exam, paths)


def say_reprinted(course, exam: str, reports) -> None:
    """After score reports are written again: their PDFs (if any were printed) printed again, said in one line."""
    from ..reports.pdf import reprint_score_reports

    line = reprint_score_reports(course, exam, list(reports)).text(course.root)
    if line:
        say(line)


@click.command("item-analysis")
@click.argument("exam")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the statistics to this CSV file.")
@pass_course_db
def item_analysis(course, exam, csv_path) -> None:
    """Facility and discrimination per item, KR-20 / coefficient alpha per form."""
    from ..analysis.items import analyse, analysis_csv, analysis_tables
    from ..grading.results import write_atomic

    reports = analyse(course, exam)
    for table in analysis_tables(reports):
        console.print(table)
    if csv_path is not None:
        write_atomic(csv_path, analysis_csv(reports), root=course.root)
        console.print(f"item statistics written to {rel(csv_path, course.root)}")


COMMANDS = [grade, flags, grader, reapply_rubric, ratings, results, feedback, item_analysis]


def results_table(course, exam: str, res, comps, wide: bool | None = None) -> Table:
    """The results; competency columns when the terminal is wide enough (the CSV always has them)."""
    wide = console.width >= 150 if wide is None else wide
    comps = comps if wide else []
    t = Table(title=f"{exam}: results" + ("" if wide else " (subscores per competency: --csv, or a wider terminal)"))
    for col in ("candidate", "form", "try", "objective", "written", "total", *[n for _c, n in comps], "result",
                "next step"):
        t.add_column(col, no_wrap=col not in ("next step",))
    style = {"pass": "green", "fail": "red", "pending": "dim", "withheld": "bold red"}
    for r in res:
        status = "withheld" if r.tampered else r.status  # a changed score's figures are never shown as if real
        word = f"{status} (provisional)" if r.final and r.provisional and not r.tampered else status
        t.add_row(r.candidate_id, r.assignment, str(r.attempt_no), r.objective.text(), r.open_response.text(),
                  r.total.text(),
                  *[r.competencies[c].text() if c in r.competencies else "" for c, _n in comps],
                  f"[{style[status]}]{word}[/]", escape(r.next_step))
    provisional = [r for r in res if r.final and r.provisional and not r.tampered]
    if provisional:
        t.caption = provisional_note(len(provisional), sorted({k for r in provisional for k in r.waiting_keys}),
                                     sum(1 for r in provisional if r.waiting_keys))
    return t


def provisional_note(n: int, keys: list[str] | None = None, by_keys: int = 0) -> str:
    """Why a result reads "(provisional)", in a coordinator's words (``Result.provisional``): key validation
    not closed, or key decision(s) recorded but not applied (``keys``: "3 on it-0012"; ``by_keys`` results)."""
    if keys:
        others = (f"; the other {n - by_keys}: the exam's key validation is not closed yet (exam-builder keys close)"
                  if n > by_keys else "")
        return (f"{n} result(s) provisional: key decision(s) {', '.join(keys)} are recorded but not applied, so "
                f"{by_keys} of them may still change (exam-builder keys impact, then keys apply){others}.")
    return (f"{n} result(s) provisional: the exam's key validation is not closed yet, so a key decision may still "
            "change them (exam-builder keys validate, then keys close).")
