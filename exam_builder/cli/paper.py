"""Commands of the paper path: print a form's booklet and answer sheets, scan answer sheets, verify unclear marks.

The work is in ``exam_builder.paper``; every command takes a database at the current revision.
``scan EXAM FILES...`` reads scans; ``scan verify EXAM`` lists the marks a person must decide and
records a decision (audited); ``scan desk EXAM`` serves the same decisions as a staff screen;
``scan key EXAM SITTING`` is double key entry where there is no scanner.
"""
from __future__ import annotations

import click

from ..errors import rel
from ..records.audit import current_actor
from .common import by_option, console, pass_course_db


@click.command("print")
@click.argument("exam")
@click.option("--form", "form", required=True, help="The form to print: its label (A) or its assignment (cps-A).")
@click.option("--large-print", is_flag=True, help="Print the booklet in large print (18 pt, a question a page).")
@click.option("--candidate", "candidates", multiple=True,
              help="Print this candidate's answer sheet too (their open sitting must be on this form); repeatable. "
                   "A candidate with an approved large_print accommodation gets the large-print booklet.")
@click.option("--copies", type=int, default=1, show_default=True, help="How many copies will be printed (audited).")
@by_option("Who prints (kept in the audit trail).")
@pass_course_db
def print_(course, exam, form, large_print, candidates, copies, actor) -> None:
    """Print a form's booklet (no key) and candidates' answer sheets as PDFs (staff-only files, audited)."""
    from ..paper.printing import print_form

    out = print_form(course, exam, form, current_actor(actor), large_print=large_print,
                     candidates=list(candidates), copies=copies)
    for path in out.files:
        console.print(f"printed {rel(path, course.root)} (staff only)", highlight=False)
    if out.large_for:
        console.print("large print for: " + ", ".join(out.large_for), highlight=False)


class _ScanGroup(click.Group):
    """``scan EXAM FILES...`` reads scans; ``scan verify ...`` decides unclear marks."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["read", *args]
        return super().parse_args(ctx, args)


@click.group("scan", cls=_ScanGroup)
def scan() -> None:
    """Read scanned answer sheets into the sittings' journals (scan EXAM FILES...); verify unclear marks."""


@scan.command("read")
@click.argument("exam")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--dpi", type=int, default=200, show_default=True, help="Resolution a PDF's pages are read at.")
@by_option("Who scans (kept in the audit trail).")
@pass_course_db
def scan_read(course, exam, files, dpi, actor) -> None:
    """Read scanned answer sheets (PDF, PNG, JPEG, TIFF): clear marks into the journal, unclear ones to verify."""
    from pathlib import Path

    from ..paper.scan import scan_files

    res = scan_files(course, exam, [Path(f) for f in files], current_actor(actor), dpi=dpi)
    for note in res.notes:
        console.print(note, highlight=False)
    console.print(f"{res.pages_read} page(s) read, {res.marks} answer(s) stored, {res.checks} to verify, "
                  f"{len(res.handed_in)} sitting(s) complete, {len(res.set_aside)} page(s) set aside",
                  highlight=False)
    for msg in res.set_aside:
        console.print(f"[red]set aside:[/] {msg}", highlight=False)
    if res.set_aside:
        raise SystemExit(1)


@scan.command("verify")
@click.argument("exam")
@click.option("--check", "check_id", type=int, default=None, help="The check to decide (see the list).")
@click.option("--confirm", is_flag=True, help="The value read is right.")
@click.option("--value", default=None, help="The right answer: labels (B, or A,C for several), '' for none, or "
                                             "the words of a written short answer.")
@click.option("--images", "images", is_flag=True, help="Write each pending check's cropped image (PNG) to "
                                                       "exports/<exam>/paper/checks/ to look at.")
@by_option("Who decides (kept in the audit trail).")
@pass_course_db
def scan_verify(course, exam, check_id, confirm, value, images, actor) -> None:
    """List the marks a person must decide, or confirm or correct one (audited)."""
    from ..paper.verify import decide, export_images, pending

    if check_id is not None:
        if confirm == (value is not None):
            raise click.UsageError("give either --confirm or --value")
        done = decide(course, exam, check_id, current_actor(actor), value=None if confirm else value)
        console.print(f"check {check_id}: question {done.number} of sitting {done.sitting_id} is "
                      f"{done.value or 'no answer'}" + (" (sitting complete)" if done.handed_in else ""),
                      highlight=False)
        return
    rows = pending(course, exam)
    if images:
        for path in export_images(course, exam):
            console.print(f"image: {rel(path, course.root)}", highlight=False)
    for c in rows:
        console.print(f"check {c.id}: sitting {c.sitting_id}, question {c.number} ({c.why}): read "
                      f"{c.read or 'nothing'} [{c.source}]", highlight=False)
    console.print(f"{len(rows)} mark(s) to verify", highlight=False)


@scan.command("key")
@click.argument("exam")
@click.argument("sitting_id", type=int)
@click.option("--answers", required=True,
              help="What the sheet's bubble rows say, in question order, separated by spaces: A B A,C - ... "
                   "('-' for a blank row).")
@by_option("Who keys (the second entry must be another person).")
@pass_course_db
def scan_key(course, exam, sitting_id, answers, actor) -> None:
    """Double key entry where there is no scanner: two people key a sheet's bubbles independently; what they
    read alike is stored, what differs goes to verification (audited)."""
    from ..paper.keyed import key_entry

    done = key_entry(course, exam, sitting_id, current_actor(actor), answers.split())
    if not done.second:
        console.print(f"sitting {sitting_id}: first entry kept aside; a second person keys the sheet now",
                      highlight=False)
        return
    console.print(f"sitting {sitting_id}: {done.agreed} answer(s) read alike and stored; "
                  + (f"questions {', '.join(map(str, done.differs))} read differently: decide them with "
                     f"`exam-builder scan verify {exam}`" if done.differs else "no difference")
                  + ("; the sitting is complete" if done.handed_in else ""), highlight=False)


@scan.command("desk")
@click.argument("exam")
@click.option("--port", default=8871, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--token", default=None, help="Access token (default: a new random one, printed on a terminal, else "
                                         "written to a file only you can read).")
@pass_course_db
def scan_desk(course, exam, port, token) -> None:
    """Serve the verification desk (Voila) to staff: each unclear mark's cropped image beside what was read;
    confirm or correct (audited). 127.0.0.1 only, behind a token; the name typed in it is recorded as self-declared."""
    from ..delivery.server import serve_staff
    from ..desks.verify_app import NOTEBOOK

    serve_staff(course, NOTEBOOK, "Verification desk", port, token, {"EXAM_BUILDER_EXAM": course.exam_name(exam)},
                lambda line: console.print(line, highlight=False))


COMMANDS = [print_, scan]
