"""Commands of the delivery domain: sittings, the exam app, the proctor's dashboard, collection.

Every command takes a database at the current revision (``pass_course_db``); the work is in
``exam_builder.delivery``.
"""
from __future__ import annotations

import datetime as dt

import click
from rich.table import Table

from ..errors import rel
from ..records.audit import current_actor
from .common import DAY, by_option, console, pass_course_db, reason_option, room_options, say, tls_options


@click.group()
def sitting() -> None:
    """Open sittings with access codes; windows, time, scribe, pause, absent, void, new codes, unlock (audited)."""


def _print_codes(course, exam: str, room: str, res, verb: str) -> None:
    from ..delivery import window
    from ..delivery.session import format_minutes
    from ..delivery.sittings import room_zone

    zone = room_zone(course, strict=False)
    if res.opened:
        t = Table(title=f"{exam}: access codes for room {room} (shown once; only a keyed hash is kept)")
        for col in ("sitting", "candidate", "name", "attempt", "time", "sign-in", "access code"):
            t.add_column(col)
        for o in res.opened:
            t.add_row(str(o.sitting_id), o.candidate_id, o.name, str(o.attempt_no or ""),
                      format_minutes(o.time_limit_minutes), window.window_text(o.opens_at, o.closes_at, zone), o.code)
        console.print(t)
    for cid, name, reasons in res.refused:
        console.print(f"[yellow]no code for {cid} ({name}):[/] " + "; ".join(reasons), highlight=False)
    if res.seat_cards:
        console.print(f"seat cards: {rel(res.seat_cards, course.root)} (staff only; print, then delete)")
    console.print(f"{len(res.opened)} sitting(s) {verb}"
                  + (f", {len(res.refused)} candidate(s) without a code." if verb == "opened" else "."))


#: ``--date`` of pause-room and resume-room.
ROOM_DAY_HELP = "The sittings of this date (default: today in the room's time zone)."


def _day(value) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else None


@sitting.command("open")
@click.argument("exam")
@click.option("--room", required=True, help="Room of the sitting (printed on the seat cards).")
@click.option("--candidate", "candidates", multiple=True, help="Only these candidates (default: the roster).")
@click.option("--date", "today", type=DAY, default=None,
              help="The date the sittings are for: attempt rules are checked for it and codes work only on it "
                   "(default: today in the room's time zone).")
@click.option("--opens", default=None, help="Sign-in opens at HH:MM on that date (default 00:00).")
@click.option("--closes", default=None, help="Sign-in closes at HH:MM on that date (default 24:00).")
@by_option("Who opens the sitting (default: $EXAM_BUILDER_USER or login).")
@pass_course_db
def open_(course, exam, room, candidates, today, opens, closes, actor) -> None:
    """Open a sitting for each eligible candidate and print one-time access codes."""
    from ..delivery.sittings import open_sittings

    res = open_sittings(course, exam, room, current_actor(actor), list(candidates) or None,
                        today=_day(today), opens=opens, closes=closes)
    _print_codes(course, exam, room, res, "opened")


@sitting.command("window")
@click.argument("exam")
@room_options("The room whose sittings change.", "The sittings' date (default: today in the room's time zone).")
@click.option("--opens", default=None, help="Sign-in opens at HH:MM (the room's time).")
@click.option("--closes", default=None, help="Sign-in closes at HH:MM (24:00: the end of the day).")
@reason_option()
@by_option("Who changes it.")
@pass_course_db
def window_(course, exam, room, on, opens, closes, reason, actor) -> None:
    """Move the sign-in window of a room's sittings for one date (sittings started carry on)."""
    from ..delivery import window
    from ..delivery.sittings import room_zone, set_window_at

    day, changed = set_window_at(course, exam, room, current_actor(actor), reason, _day(on), opens, closes)
    zone = room_zone(course)
    first = changed[0]
    console.print(f"room {room}, {day.isoformat()}: sign-in "
                  f"{window.window_text(first.opens_at, first.closes_at, zone)} "
                  f"for {len(changed)} sitting(s)", highlight=False)


@sitting.command("reissue")
@click.argument("exam")
@room_options("The room whose sittings get new codes.",
              "Only the sittings of this date (and those opened before sittings had a date).")
@reason_option()
@by_option("Who reissues them.")
@pass_course_db
def reissue(course, exam, room, on, reason, actor) -> None:
    """New access codes and seat cards for a room's sittings not yet started; the old codes stop working."""
    from ..delivery.sittings import reissue_codes

    res = reissue_codes(course, exam, room, current_actor(actor), reason, _day(on))
    _print_codes(course, exam, room, res, "given new codes")


@sitting.command("unlock")
@click.argument("source")
@reason_option()
@by_option("Who unlocks it.")
@pass_course_db
def unlock(course, source, reason, actor) -> None:
    """Let a computer (SOURCE, its address) sign in again after too many wrong access codes."""
    from ..delivery.sittings import unlock_source

    unlock_source(course, source, current_actor(actor), reason)
    console.print(f"{source} unlocked", highlight=False)


@sitting.command("lockouts")
@pass_course_db
def lockouts(course) -> None:
    """Computers locked out now after too many wrong access codes."""
    from ..delivery import window
    from ..delivery.sittings import lockouts as current, room_zone

    zone = room_zone(course, strict=False)
    locks = current(course)
    if not locks:
        console.print("no computer is locked out")
        return
    t = Table(title="locked out after wrong access codes")
    for col in ("computer", "wrong codes", "locked at", "unlocks by itself at"):
        t.add_column(col)
    for lk in locks:
        t.add_row(lk.source, str(lk.wrong_codes), window.when_text(lk.locked_at, zone),
                  window.when_text(lk.until, zone))
    console.print(t)


@sitting.command("void")
@click.argument("sitting_id", metavar="SITTING", type=int)
@reason_option()
@by_option("Who voids it.")
@pass_course_db
def void(course, sitting_id, reason, actor) -> None:
    """Void a sitting (it no longer counts as an attempt)."""
    from ..delivery.sittings import void as do_void

    do_void(course, sitting_id, current_actor(actor), reason)
    console.print(f"sitting {sitting_id} voided")


@sitting.command("absent")
@click.argument("sitting_id", metavar="SITTING", type=int)
@reason_option("Why (kept in the audit trail), e.g. 'called in sick'.")
@by_option("Who marks the candidate absent (kept in the audit trail).", required=True)
@pass_course_db
def absent(course, sitting_id, reason, actor) -> None:
    """Mark a candidate who is not coming absent before the sign-in closes (their code stops working).

    SITTING is the sitting's number: the "sitting" column of `exam-builder attempts CANDIDATE`,
    or the proctor's view ("Actions for NAME (CANDIDATE, sitting N)" under the candidate's card).

    A sitting still not started when its sign-in window closes becomes absent by itself. Whether
    an absent sitting uses an attempt is c.ProgramPolicy.absent_counts_as_attempt (CPS: it does not).
    """
    from ..delivery.sittings import mark_absent

    sit = mark_absent(course, sitting_id, current_actor(actor), reason)
    counts = "counts as an attempt" if course.policy.absent_counts_as_attempt else "does not count as an attempt"
    console.print(f"sitting {sitting_id} ({sit.candidate_id}) marked absent; it {counts}")


@sitting.command("add-time")
@click.argument("sitting_id", metavar="SITTING", type=int)
@click.argument("minutes", type=int)
@reason_option()
@by_option("Who adds the time.")
@pass_course_db
def add_time(course, sitting_id, minutes, reason, actor) -> None:
    """Give one candidate more minutes; their countdown follows."""
    from ..delivery.sittings import add_time as do_add

    sit = do_add(course, sitting_id, minutes, current_actor(actor), reason)
    console.print(f"sitting {sitting_id}: +{minutes} min (added in total: {sit.extra_minutes} min)")


@sitting.command("pause")
@click.argument("sitting_id", metavar="SITTING", type=int)
@reason_option("Why (kept in the audit trail and shown on the candidate's screen).")
@by_option("Who pauses it.")
@pass_course_db
def pause(course, sitting_id, reason, actor) -> None:
    """Pause one candidate: their clock stops and their screen accepts no answers until resumed."""
    from ..delivery.sittings import pause as do_pause

    sit = do_pause(course, sitting_id, current_actor(actor), reason)
    console.print(f"sitting {sitting_id} ({sit.candidate_id}) paused: the clock has stopped; "
                  f"resume it with `exam-builder sitting resume {sitting_id} --by NAME --reason \"...\"`")


@sitting.command("resume")
@click.argument("sitting_id", metavar="SITTING", type=int)
@reason_option()
@by_option("Who resumes it.")
@pass_course_db
def resume(course, sitting_id, reason, actor) -> None:
    """Resume a paused candidate (their own pause or their room's): the time it stood still is added back."""
    from ..delivery.session import format_seconds
    from ..delivery.sittings import resume as do_resume

    sit, stood = do_resume(course, sitting_id, current_actor(actor), reason)
    console.print(f"sitting {sitting_id} ({sit.candidate_id}) resumed; {format_seconds(stood)} added to its time")


@sitting.command("pause-room")
@click.argument("exam")
@room_options("The room to pause.", ROOM_DAY_HELP)
@reason_option("Why, e.g. 'fire alarm' (audit trail; shown on every screen).")
@by_option("Who pauses the room.")
@pass_course_db
def pause_room(course, exam, room, on, reason, actor) -> None:
    """Pause a whole room (a fire alarm): every open sitting's clock stops until `sitting resume-room`."""
    from ..delivery.sittings import pause_room as do_pause, room_pause_said

    paused = do_pause(course, exam, room, current_actor(actor), reason, _day(on))
    console.print(room_pause_said(room, paused))


@sitting.command("resume-room")
@click.argument("exam")
@room_options("The room to resume.", ROOM_DAY_HELP)
@reason_option()
@by_option("Who resumes the room.")
@pass_course_db
def resume_room(course, exam, room, on, reason, actor) -> None:
    """Resume a paused room (a candidate paused on their own stays paused): each gets back the time it stood."""
    from ..delivery.sittings import resume_room as do_resume, room_pause_said

    resumed = do_resume(course, exam, room, current_actor(actor), reason, _day(on))
    console.print(room_pause_said(room, resumed, resumed=True))


@sitting.command("scribe")
@click.argument("sitting_id", metavar="SITTING", type=int)
@click.argument("scribe")
@reason_option("Why.", required=False, default="approved scribe accommodation", show_default=True)
@by_option("Who records it.")
@pass_course_db
def scribe(course, sitting_id, scribe, reason, actor) -> None:
    """Record that SCRIBE writes for the candidate (responses record the scribe's name)."""
    from ..delivery.sittings import record_scribe

    record_scribe(course, sitting_id, scribe, current_actor(actor), reason)
    console.print(f"sitting {sitting_id}: scribe {scribe} recorded")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8866, show_default=True, type=int, help="Port to listen on.")
@click.option("--seats", type=click.IntRange(0, 2000), default=None,
              help="Warm kernels to keep for candidates (default: the sittings open now, "
                   "or c.ServerSettings.seats).")
@tls_options
@pass_course_db
def serve(course, host, port, seats, certfile, keyfile) -> None:
    """Start the candidates' exam app (Voila, one notebook only, a warm kernel for every seat)."""
    from ..delivery.server import ServeOptions, serve as run

    run(course, host, port, ServeOptions(seats=seats, certfile=certfile, keyfile=keyfile),
        echo=say)


@click.command()
@click.argument("exam")
@click.option("--port", default=8867, show_default=True, type=int, help="Port (always on 127.0.0.1).")
@pass_course_db
def proctor(course, exam, port) -> None:
    """Start the proctor's dashboard: a separate server on 127.0.0.1 with a token."""
    from ..delivery.server import serve_proctor

    serve_proctor(course, exam, port, echo=say)


@click.command()
@click.argument("exam")
@pass_course_db
def collect(course, exam) -> None:
    """Turn every submitted sitting into an nbgrader submission in submitted/."""
    from ..delivery.collect import collect as do_collect

    res = do_collect(course, exam, console=console)
    console.print(f"{len(res.written)} submission(s) written, {len(res.unchanged)} already up to date"
                  + (f", {len(res.superseded)} superseded by a later sitting on the same form" if res.superseded
                     else ""))


COMMANDS = [sitting, serve, proctor, collect]
