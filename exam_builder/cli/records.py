"""Commands of the records domain: the database, roster, accommodations, attendance,
homework, eligibility, the attempt ledger and the audit trail.

Every command but ``db upgrade`` takes a database at the current revision (``pass_course_db``);
the work is in ``exam_builder.records``.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from .. import clock
from ..model.states import AccommodationStatus
from ..records import audit
from ..text import visible
from .common import by_option, console, err_console, pass_course, pass_course_db, reason_option


class _Date(click.DateTime):
    """A date option (YYYY-MM-DD) in the range a record may carry (``records.csvfile``): no year 1 or 9999."""

    def convert(self, value, param, ctx):
        from ..records.csvfile import EARLIEST_DATE, LATEST_DATE

        day = super().convert(value, param, ctx)
        if not EARLIEST_DATE <= day.date() <= LATEST_DATE:
            self.fail(f"{day.date()} is out of range; give a date from {EARLIEST_DATE} to {LATEST_DATE}", param, ctx)
        return day


DATE = _Date(formats=["%Y-%m-%d"])
#: Row ids fit a 32-bit INTEGER (PostgreSQL); a longer number is a typo, refused by click with exit 2.
ROW_ID = click.IntRange(1, 2**31 - 1)


def _table(*columns: str, **kw) -> Table:
    """A table whose cells wrap rather than being cut off on a narrow terminal."""
    table = Table(**kw)
    for col in columns:
        table.add_column(col, overflow="fold")
    return table


def _warnings(problems) -> None:
    for p in problems:
        err_console.print(f"[yellow]{p}[/]", highlight=False)


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


def _fmt(value, zone: dt.tzinfo | None = None) -> str:
    """A value for a table cell; a stored time (naive UTC) in the room's zone, named (``clock.shown``)."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return clock.shown(value, zone)
    return str(value)


# -- database -----------------------------------------------------------------------
@click.group()
def db() -> None:
    """The course database (nbgrader's gradebook and exam-builder's tables)."""


@db.command("upgrade")
@pass_course
def upgrade(course) -> None:
    """Create or migrate every table to the current revision."""
    course.db.upgrade()
    console.print(f"database ready at {course.db.safe_url} (revision {course.db.current_revision()})")


# -- roster ---------------------------------------------------------------------------
@click.group()
def roster() -> None:
    """Candidates (each is also an nbgrader student with the same id)."""


DRY_RUN_HELP = "Show what would change, and write nothing."
_DRY = " (dry run: nothing written)"


def _changes(changes, dry_run: bool) -> None:
    """Every stored value an import changes (or would change), one a line: never a silent update."""
    if changes:
        console.print(("would change" if dry_run else "changed") + f" ({len(changes)}):", highlight=False)
    for c in changes:
        console.print(f"  {escape(str(c))}", highlight=False)


@roster.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@by_option(dest="by")
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@pass_course_db
def roster_import(course, file: Path, by: str | None, dry_run: bool) -> None:
    """Create or update candidates from FILE.csv (candidate id, first name, last name; optional: email, cohort,
    training ended).

    All or nothing: a file with a bad row writes nothing. Importing it again changes nothing. A column the
    file lacks leaves the stored values alone; every value that changes is listed (old -> new).
    """
    from ..records.roster import import_roster

    report = import_roster(course, file, audit.current_actor(by), dry_run=dry_run)
    _warnings(report.warnings)
    _changes(report.changes, dry_run)
    if report.kept and (report.updated or report.unchanged):
        console.print(f"not in the file, kept as stored: {', '.join(report.kept)}", highlight=False)
    verb = "would be" if dry_run else ""
    console.print(f"{report.file}: {report.total} candidates: {len(report.created)} new, "
                  f"{len(report.updated)} {verb + ' ' if verb else ''}updated, {len(report.unchanged)} unchanged"
                  + (_DRY if dry_run else ""), highlight=False)


@roster.command("list")
@pass_course_db
def roster_list(course) -> None:
    """Every candidate on the roster."""
    from ..records.roster import list_candidates

    table = _table("candidate", "name", "email", "cohort", "training ended")
    with course.db.read() as s:
        for c in list_candidates(s):
            table.add_row(c.id, escape(c.name), c.email or "-", escape(c.cohort or "-"),
                          c.training_ended_on.isoformat() if c.training_ended_on else "-")
    console.print(table)


@click.group()
def accommodation() -> None:
    """Accommodations: requested with a provider's letter on file, approved by staff.

    Never record a diagnosis, a condition or what the letter says: only the arrangement
    and the letter's date.
    """


@accommodation.command("request")
@click.argument("candidate")
@click.option("--kind", required=True,
              type=click.Choice(["extended_time", "scribe", "separate_room", "breaks", "large_print", "other"]))
@click.option("--multiplier", type=float, default=None,
              help="extended_time only (default: ProgramPolicy.extended_time_multiplier, 1.5).")
@click.option("--breaks", "break_count", type=int, default=None,
              help="breaks only: how many stop-the-clock breaks the candidate may take in a sitting.")
@click.option("--break-minutes", type=int, default=None, help="breaks only: the longest each break may last.")
@click.option("--details", default="", help="What is arranged ('other' needs it). NO diagnosis, "
                                             "condition or medical information.")
@click.option("--letter-on-file", type=DATE, default=None, help="Date of the provider's letter (YYYY-MM-DD).")
@click.option("--requested-on", type=DATE, default=None,
              help="Date of the request (default: today in the room's time zone).")
@by_option(dest="by")
@reason_option("Why, for the audit trail.", required=False, default="")
@pass_course_db
def acc_request(course, candidate, kind, multiplier, break_count, break_minutes, details, letter_on_file,
                requested_on, by, reason) -> None:
    """Record a request; it takes effect only once approved."""
    from ..records import accommodations

    with course.db.transaction() as s:
        acc = accommodations.request(s, course.policy, candidate, kind, audit.current_actor(by),
                                     multiplier=multiplier, details=details,
                                     letter_on_file=_date(letter_on_file), requested_on=_date(requested_on),
                                     reason=reason, break_count=break_count, break_minutes=break_minutes,
                                     zone=course.zone)
        acc_id = acc.id
    console.print(f"accommodation {acc_id} requested for {candidate} ({kind}); approve it with "
                  f"`exam-builder accommodation approve {acc_id} --by NAME`")


@accommodation.command("approve")
@click.argument("accommodation_id", type=ROW_ID)
@by_option("The staff member approving.", dest="by", required=True)
@click.option("--letter-on-file", type=DATE, default=None, help="Date of the provider's letter, if not yet given.")
@reason_option("Why, for the audit trail.", required=False, default="")
@pass_course_db
def acc_approve(course, accommodation_id, by, letter_on_file, reason) -> None:
    """Approve a requested accommodation (a provider's letter must be on file)."""
    from ..records import accommodations

    with course.db.transaction() as s:
        acc = accommodations.approve(s, accommodation_id, audit.current_actor(by), reason,
                                     letter_on_file=_date(letter_on_file), zone=course.zone)
        cand, kind = acc.candidate_id, acc.kind
        limit = accommodations.personal_time_limit(s, course.policy, cand)
    console.print(f"accommodation {accommodation_id} ({kind}) approved for {cand}; time limit {limit} min")


@accommodation.command("revoke")
@click.argument("accommodation_id", type=ROW_ID)
@by_option("The staff member revoking.", dest="by", required=True)
@reason_option("Why it is revoked (required).")
@pass_course_db
def acc_revoke(course, accommodation_id, by, reason) -> None:
    """Revoke an accommodation (requested or approved)."""
    from ..records import accommodations

    with course.db.transaction() as s:
        acc = accommodations.revoke(s, accommodation_id, audit.current_actor(by), reason, zone=course.zone)
        cand = acc.candidate_id
    console.print(f"accommodation {accommodation_id} of {cand} revoked")


@accommodation.command("list")
@click.option("--candidate", default=None)
@click.option("--status", type=click.Choice(AccommodationStatus.values()), default=None)
@pass_course_db
def acc_list(course, candidate, status) -> None:
    """Accommodations, with who approved them and each candidate's time limit."""
    from ..records import accommodations

    table = _table("id", "candidate", "kind", "multiplier", "details", "letter on file", "status",
                   "approved by / on", "time limit")
    with course.db.read() as s:
        limits: dict[str, int] = {}  # one lookup per candidate, not per row
        for a in accommodations.list_accommodations(s, candidate, status):
            if a.candidate_id not in limits:
                limits[a.candidate_id] = accommodations.personal_time_limit(s, course.policy, a.candidate_id)
            limit = limits[a.candidate_id]
            kind = (f"{a.kind} "
                    f"({accommodations.breaks_text(a.break_count, a.break_minutes)})") if a.break_count else a.kind
            table.add_row(str(a.id), a.candidate_id, kind, _fmt(a.multiplier), escape(a.details or "-"),
                          _fmt(a.letter_on_file), a.status,
                          escape(f"{a.approved_by} {a.approved_on}") if a.approved_by else "-", f"{limit} min")
    console.print(table)


@accommodation.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@by_option(dest="by")
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@pass_course_db
def acc_import(course, file: Path, by, dry_run: bool) -> None:
    """Request (and approve where status says approved) accommodations from FILE.csv.

    Columns: candidate id, kind, multiplier, breaks, break minutes, details, letter on file,
    requested on, status (requested|approved), approved by. All or nothing. No diagnosis in details.
    """
    from ..records.accommodations import import_accommodations

    report = import_accommodations(course, file, audit.current_actor(by), dry_run=dry_run)
    _warnings(report.warnings)
    console.print(f"{report.file}: {len(report.requested)} requested, {len(report.approved)} approved, "
                  f"{report.unchanged} unchanged" + (_DRY if dry_run else ""), highlight=False)


# -- attendance and homework ----------------------------------------------------------
@click.group()
def attendance() -> None:
    """Attendance per class and module (present, late, absent)."""


@attendance.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@by_option(dest="by")
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@pass_course_db
def att_import(course, file: Path, by, dry_run: bool) -> None:
    """Record attendance from FILE.csv (candidate, class, module, present/late/absent). All or nothing."""
    from ..records.attendance import import_attendance

    report = import_attendance(course, file, audit.current_actor(by), dry_run=dry_run)
    _warnings(report.warnings)
    _changes(report.changes, dry_run)
    console.print(f"{report.file}: {report.created} new, {report.changed} changed, {report.unchanged} unchanged"
                  + (_DRY if dry_run else ""), highlight=False)


@click.group()
def homework() -> None:
    """Homework, toward the participation grade (a CSV or nbgrader homework assignments)."""


@homework.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@by_option(dest="by")
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@pass_course_db
def hw_import(course, file: Path, by, dry_run: bool) -> None:
    """Record homework from FILE.csv (candidate, assignment, class, turned in, score, max score)."""
    from ..records.attendance import import_homework

    report = import_homework(course, file, audit.current_actor(by), dry_run=dry_run)
    _warnings(report.warnings)
    _changes(report.changes, dry_run)
    console.print(f"{report.file}: {report.created} new, {report.changed} changed, {report.unchanged} unchanged"
                  + (_DRY if dry_run else ""), highlight=False)


@homework.command("sync")
@by_option(dest="by")
@pass_course_db
def hw_sync(course, by) -> None:
    """Read homework scores of every nbgrader assignment that is not an exam form."""
    from ..records.attendance import sync_homework_from_gradebook

    report = sync_homework_from_gradebook(course, audit.current_actor(by))
    console.print(f"gradebook: {report.created} new, {report.changed} changed, {report.unchanged} unchanged")


# -- eligibility and attempts ---------------------------------------------------------
@click.command()
@click.argument("exam")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the table to this CSV file (it holds candidate names: keep it out of git).")
@click.option("--date", "on", type=DATE, default=None,
              help="Evaluate as of this date (default: today in the room's time zone).")
@pass_course_db
def eligibility(course, exam: str, csv_path: Path | None, on) -> None:
    """Every candidate: eligible for EXAM or not, with every reason."""
    from ..records.absence import settle_course
    from ..records.eligibility import evaluate, write_eligibility_csv

    settle_course(course, exam_id=exam)  # no-shows past their window are absent, not "pending"
    with course.db.read() as s:
        rows = evaluate(s, course.policy, exam, today=_date(on), zone=course.zone)
    console.print(eligibility_table(rows, course.policy, exam))
    if csv_path is not None:
        write_eligibility_csv(csv_path, rows, course.root)
        console.print(f"written to {csv_path}")


def _outcome_text(e, policy) -> str:
    """The outcome column: pass/fail, "pending" only for a sitting that will have a result."""
    if e.outcome:
        return str(e.outcome)
    if e.status == "absent":
        return "absent (" + ("counts as an attempt" if e.attempt_no is not None else "not an attempt") + ")"
    return "-" if e.status == "voided" else "pending"


@click.command()
@click.argument("candidate", required=False)
@click.option("--exam", default=None, help="Only this exam.")
@click.option("--confirmation", default=None, metavar="NUMBER",
              help="Find the submitted sitting of a receipt's confirmation number (e.g. K7Q4-9MZX) instead.")
@pass_course_db
def attempts(course, candidate: str | None, exam: str | None, confirmation: str | None) -> None:
    """A candidate's sittings: forms, outcomes, voids, tutoring, confirmation numbers, and their standing.

    With --confirmation, the sitting a candidate's receipt names: who, which exam and room, when."""
    from ..delivery.session import confirmation_number
    from ..grading.results import outcomes_in_question, provisional_sittings
    from ..records import accommodations, ledger
    from ..records.absence import settle_course
    from ..records.eligibility import evaluate, standing
    from ..records.roster import get_candidate

    if confirmation is not None:
        if candidate is not None:
            raise click.UsageError("give a CANDIDATE or --confirmation, not both")
        _find_confirmation(course, confirmation)
        return
    if candidate is None:
        raise click.UsageError("give a CANDIDATE (or --confirmation NUMBER)")
    settle_course(course, exam_id=exam)  # no-shows past their window are absent, stored and audited
    with course.db.read() as s:
        cand = get_candidate(s, candidate)
        who = f"[bold]{cand.id}[/] {escape(cand.name)} ({escape(cand.cohort or 'no cohort')})"
        entries = ledger.history(s, candidate, exam)
        limit = accommodations.personal_time_limit(s, course.policy, candidate)
        kinds = sorted({a.kind for a in accommodations.approved(s, candidate)})
        exams = [exam] if exam else list(dict.fromkeys(e.exam_id for e in entries))
        standings = [standing(row, x, course.policy) for x in exams
                     for row in evaluate(s, course.policy, x, candidate_ids=[candidate], zone=course.zone)]
    console.print(f"{who}; time limit {limit} min" + (f"; approved: {', '.join(kinds)}" if kinds else ""))
    table = _table("sitting", "exam", "seq", "attempt", "form", "status", "opened", "submitted", "confirmation",
                   "limit", "outcome", "void", "tutoring offered / attended")
    in_question = outcomes_in_question(course, candidate, exam)  # a score changed after the outcome was recorded
    provisional = provisional_sittings(course, [(e.sitting_id, e.exam_id, e.submitted_at) for e in entries
                                                if e.outcome])  # key validation not closed: it may still change
    for e in entries:
        table.add_row(str(e.sitting_id), e.exam_id, str(e.seq), _fmt(e.attempt_no), e.form, e.status,
                      _fmt(e.opened_at, course.zone), _fmt(e.submitted_at, course.zone),
                      confirmation_number(e.receipt_hash) if e.receipt_hash and e.status == "submitted" else "-",
                      f"{e.time_limit_minutes}+{e.extra_minutes}" if e.extra_minutes else str(e.time_limit_minutes),
                      _outcome_text(e, course.policy) + (" [bold red](in question)[/]" if e.sitting_id in in_question
                                                         else "")
                      + (" (provisional)" if e.sitting_id in provisional else ""),
                      escape(f"{e.voided_by}: {e.void_reason}") if e.voided_by else "-",
                      f"{_fmt(e.tutoring_offered_on)} / {_fmt(e.tutoring_attended_on)}"
                      if e.tutoring_offered_on else "-")
    console.print(table if entries else "no sittings yet")
    for line in standings:  # the eligibility rules themselves (records.eligibility), as of today
        console.print(escape(line), highlight=False, soft_wrap=True)
    for sid, changed in sorted(in_question.items()):
        console.print(f"[bold red]sitting {sid}: the outcome recorded rests on a score changed outside exam-builder "
                      f"after it was recorded[/] (put the score back, then run `exam-builder results` again):",
                      highlight=False, soft_wrap=True)
        for line in changed:
            console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


def _find_confirmation(course, number: str) -> None:
    """``attempts --confirmation``: the submitted sitting a receipt names; exit 1 when none does."""
    from ..delivery.session import find_confirmation

    found = find_confirmation(course.db, number)
    if not found:
        err_console.print(f"no submitted sitting has confirmation number {escape(number.strip().upper())}; "
                          "check it letter by letter (it has no I, L, O or U)", highlight=False)
        sys.exit(1)
    table = _table("confirmation", "sitting", "candidate", "name", "exam", "room", "submitted", "by", "receipt hash")
    for m in found:
        table.add_row(m.number, str(m.sitting_id), m.candidate_id, escape(m.candidate_name), m.exam_id, m.room,
                      _fmt(m.submitted_at, course.zone), m.submit_reason, m.receipt_hash)
    console.print(table)


@click.command()
@click.argument("candidate")
@click.argument("exam")
@click.option("--offered", type=DATE, default=None,
              help="Date tutoring was offered (default: today in the room's time zone).")
@click.option("--attended", type=DATE, default=None, help="Date the candidate attended tutoring.")
@by_option(dest="by")
@pass_course_db
def tutoring(course, candidate: str, exam: str, offered, attended, by) -> None:
    """Record tutoring offered or attended after the candidate's latest failed attempt."""
    from ..records.ledger import record_tutoring

    with course.db.transaction() as s:
        t = record_tutoring(s, candidate, exam, offered_on=_date(offered), attended_on=_date(attended),
                            actor=audit.current_actor(by), zone=course.zone)
        offered_on, attended_on = t.offered_on, t.attended_on
    console.print(f"tutoring of {candidate} for {exam}: offered {offered_on}, attended {_fmt(attended_on)}")


# -- audit ----------------------------------------------------------------------------
@click.group("audit")
def audit_group() -> None:
    """The audit trail: who changed what, when and why (hash-chained)."""


@audit_group.command("verify")
@pass_course_db
def audit_verify(course) -> None:
    """Check the hash chain; exit 1 at the first entry that was changed or removed."""
    with course.db.read() as s:
        report = audit.verify(s)
    if not report.ok:
        err_console.print(f"[bold red]audit trail broken:[/] {report.problem} "
                          f"(checked {report.entries} entries)", highlight=False)
        sys.exit(1)
    console.print(f"audit trail intact: {report.entries} entries")


def _field(value: object) -> str:
    """A stored value for one line of the log: markup and every character the text rule refuses escaped."""
    return escape(visible(str(value)))


@audit_group.command("log")
@click.option("--entity", default=None, help="Only this kind of entity (accommodation, sitting, ...).")
@click.option("--id", "entity_id", default=None, help="Only this entity id.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000),
              help="The newest N entries.")
@pass_course_db
def audit_log(course, entity, entity_id, limit) -> None:
    """The newest audit entries, oldest first."""
    with course.db.read() as s:
        entries = audit.newest(s, entity, entity_id, limit)
        for e in entries:
            # one line per field whatever an entry holds: an entry stored before the text rule (or
            # written around it) may carry escape sequences, bidi overrides or line breaks that would
            # drive the terminal or fake another entry; each is shown escaped (text.visible)
            details = ", ".join(f"{k}={clock.shown_value(v, course.zone)}" for k,
                                v in sorted((e.details or {}).items()))
            console.print(f"[bold]#{e.id}[/] {clock.shown(e.at, course.zone, seconds=True)}  {_field(e.actor)}  "
                          f"[cyan]{_field(e.action)}[/] "
                          f"{_field(e.entity)} {_field(e.entity_id)}"
                          + (f"  [italic]why:[/] {_field(e.reason)}" if e.reason else "")
                          + (f"\n    [dim]{_field(details)}[/]" if details else ""), soft_wrap=False)
    if not entries:
        console.print("no audit entries")


@click.command()
@click.option("--exam", default=None, help="The exam whose accommodations and eligibility are shown (default: the "
                                           "course's one exam).")
@click.option("--port", default=8869, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--token", default=None, help="Access token (default: a new random one, printed on a terminal, else "
                                         "written to a file only you can read).")
@pass_course_db
def coordinator(course, exam, port, token) -> None:
    """Serve the coordinator's desk (Voila) to staff: accommodation decisions, who may not sit, the
    program's report. 127.0.0.1 only, behind a token; the name typed in it is recorded as self-declared."""
    from ..delivery.server import serve_staff
    from ..desks.coordinator_app import NOTEBOOK

    exam = course.exam_name(exam)
    # widget messages only (the candidates' websocket filter): the coordinator runs no code
    serve_staff(course, NOTEBOOK, "Coordinator's desk", port, token, {"EXAM_BUILDER_EXAM": exam},
                lambda line: console.print(line, highlight=False))


COMMANDS = [db, roster, accommodation, attendance, homework, eligibility, attempts, tutoring, audit_group,
            coordinator]


def eligibility_table(rows, policy, exam: str) -> Table:
    """The eligibility table, every reason shown (the command and the demo print it)."""
    table = Table(title=f"Eligibility for {exam} ({sum(e.eligible for e in rows)} of {len(rows)} eligible)",
                  caption=f"modules late or absent: training modules the candidate was late for or missed; "
                          f"{policy.disqualify_late_or_absent} or more: no exam", caption_justify="left")
    table.add_column("candidate", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("modules late or absent", justify="right")
    table.add_column("homework", justify="right")
    table.add_column("attempts", justify="right")
    table.add_column("eligible")
    table.add_column("reasons", overflow="fold", ratio=1)
    for e in rows:
        table.add_row(
            e.candidate_id, escape(e.name),
            str(len(e.late_or_absent)),
            str(e.participation or "-"),
            f"{e.attempts_used} of {policy.max_attempts}",
            "[green]yes[/]" if e.eligible else "[red]no[/]",
            escape("; ".join(e.reasons) or "-"),
        )
    return table
