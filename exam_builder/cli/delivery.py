"""Commands of the delivery domain: sittings, the exam app, the proctor's dashboard, collection."""
from __future__ import annotations

import datetime as dt

import click
from rich.table import Table

from ..errors import rel
from ..records.audit import current_actor
from . import console, pass_course


def register(cli: click.Group) -> None:
    @cli.group()
    def sitting() -> None:
        """Open sittings with access codes; add time, record a scribe, void (audited)."""

    @sitting.command("open")
    @click.argument("exam")
    @click.option("--room", required=True, help="Room of the sitting (printed on the seat cards).")
    @click.option("--candidate", "candidates", multiple=True, help="Only these candidates (default: the roster).")
    @click.option("--date", "today", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="The exam date for eligibility (default: today).")
    @click.option("--by", "actor", default=None, help="Who opens the sitting (default: $EXAM_BUILDER_USER or login).")
    @pass_course
    def open_(course, exam, room, candidates, today, actor) -> None:
        """Open a sitting for each eligible candidate and print one-time access codes."""
        from ..delivery.sittings import open_sittings
        from ..delivery.session import format_minutes

        course.db.require_current()
        res = open_sittings(course, exam, room, current_actor(actor), list(candidates) or None,
                            today=today.date() if isinstance(today, dt.datetime) else None)
        if res.opened:
            t = Table(title=f"{exam}: access codes for room {room} (shown once; only a hash is kept)")
            for col in ("sitting", "candidate", "name", "attempt", "time", "access code"):
                t.add_column(col)
            for o in res.opened:
                t.add_row(str(o.sitting_id), o.candidate_id, o.name, str(o.attempt_no or ""),
                          format_minutes(o.time_limit_minutes), o.code)
            console.print(t)
        for cid, name, reasons in res.refused:
            console.print(f"[yellow]no code for {cid} ({name}):[/] " + "; ".join(reasons), highlight=False)
        if res.seat_cards:
            console.print(f"seat cards: {rel(res.seat_cards, course.root)} (staff only; print, then delete)")
        console.print(f"{len(res.opened)} sitting(s) opened, {len(res.refused)} candidate(s) without a code.")

    @sitting.command("void")
    @click.argument("sitting_id", metavar="SITTING", type=int)
    @click.option("--reason", required=True, help="Why (kept in the audit trail).")
    @click.option("--by", "actor", default=None, help="Who voids it.")
    @pass_course
    def void(course, sitting_id, reason, actor) -> None:
        """Void a sitting (it no longer counts as an attempt)."""
        from ..delivery.sittings import void as do_void

        do_void(course, sitting_id, current_actor(actor), reason)
        console.print(f"sitting {sitting_id} voided")

    @sitting.command("add-time")
    @click.argument("sitting_id", metavar="SITTING", type=int)
    @click.argument("minutes", type=int)
    @click.option("--reason", required=True, help="Why (kept in the audit trail).")
    @click.option("--by", "actor", default=None, help="Who adds the time.")
    @pass_course
    def add_time(course, sitting_id, minutes, reason, actor) -> None:
        """Give one candidate more minutes; their countdown follows."""
        from ..delivery.sittings import add_time as do_add

        sit = do_add(course, sitting_id, minutes, current_actor(actor), reason)
        console.print(f"sitting {sitting_id}: +{minutes} min (added in total: {sit.extra_minutes} min)")

    @sitting.command("scribe")
    @click.argument("sitting_id", metavar="SITTING", type=int)
    @click.argument("scribe")
    @click.option("--reason", default="approved scribe accommodation", show_default=True, help="Why.")
    @click.option("--by", "actor", default=None, help="Who records it.")
    @pass_course
    def scribe(course, sitting_id, scribe, reason, actor) -> None:
        """Record that SCRIBE writes for the candidate (responses record the scribe's name)."""
        from ..delivery.sittings import record_scribe

        record_scribe(course, sitting_id, scribe, current_actor(actor), reason)
        console.print(f"sitting {sitting_id}: scribe {scribe} recorded")

    @cli.command()
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8866, show_default=True, type=int, help="Port to listen on.")
    @pass_course
    def serve(course, host, port) -> None:
        """Start the candidates' exam app (Voila, one notebook only)."""
        from ..delivery.server import serve as run

        console.print(f"exam app for {course.root} on http://{host}:{port}/ (Ctrl-C to stop)")
        run(course, host, port)

    @cli.command()
    @click.argument("exam")
    @click.option("--port", default=8867, show_default=True, type=int, help="Port (always on 127.0.0.1).")
    @pass_course
    def proctor(course, exam, port) -> None:
        """Start the proctor's dashboard: a separate server on 127.0.0.1 with a token."""
        from ..delivery.server import serve_proctor

        serve_proctor(course, exam, port, echo=lambda text: console.print(text, soft_wrap=True, highlight=False))

    @cli.command()
    @click.argument("exam")
    @pass_course
    def collect(course, exam) -> None:
        """Turn every submitted sitting into an nbgrader submission in submitted/."""
        from ..delivery.collect import collect as do_collect

        course.db.require_current()
        res = do_collect(course, exam, console=console)
        console.print(f"{len(res.written)} submission(s) written, {len(res.unchanged)} already up to date"
                      + (f", {len(res.superseded)} superseded by a later sitting on the same form" if res.superseded else ""))
