"""Commands of practice: `practice build` (a set, with the proof that it holds no certification
item), `practice list` (the sets and their links) and `practice serve` (the practice app).

Thin calls into ``exam_builder.practice`` and ``delivery.server.serve_practice``. `practice build`
writes into the course (practice/ and the audit trail), so it runs under the course lock.
"""
from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from .. import clock
from ..errors import rel
from .common import by_option, console, pass_course, pass_course_db, say, tls_options


@click.group("practice")
def practice_group() -> None:
    """Practice sets for study groups: never an attempt, never in results, never a certification key."""


@practice_group.command("build")
@click.argument("name")
@click.option("--exam", default=None, help="The exam whose bank to draw from (default: the course's only exam).")
@click.option("--competency", "competencies", multiple=True,
              help="Draw practice items of this competency (slug); repeat for several.")
@click.option("--module", "modules", multiple=True, type=int,
              help="Draw practice items of this training module; repeat for several.")
@click.option("--items", "count", type=click.IntRange(1, 500), default=None,
              help="At most this many questions (a scenario's items stay together).")
@click.option("--minutes", type=click.IntRange(1, 600), default=None,
              help="A suggested time; candidates may still choose no clock.")
@click.option("--title", default="", help="The title candidates see (default: from the competencies and modules).")
@click.option("--seed", type=int, default=0, show_default=True, help="Which items --items picks.")
@by_option("Who builds it (recorded in the audit trail).")
@pass_course_db
def build(course, name, exam, competencies, modules, count, minutes, title, seed, actor) -> None:
    """Build practice set NAME from live, approved items marked 'pool: practice'.

    The build proves that no item of the set is a certification item: none shares an id with, or
    repeats the question of, a certification item of the bank or an item of any stored form.
    """
    from ..practice.sets import build_practice

    pset, path = build_practice(course, name, exam, competencies, modules, count, minutes, title, seed, actor)
    p = pset.proof
    say(f"practice set {name}: {len(pset.items)} questions ({pset.title}) written to {rel(path, course.root)}")
    say(f"  proof: compared with {p.certification_items} certification items of the bank and {p.form_items} "
        f"items on {len(p.forms)} stored form(s): {p.rule}; overlap: none")
    say(f"  link: http://HOST:PORT/?set={name} (exam-builder practice serve)")


@practice_group.command("list")
@pass_course
def list_cmd(course) -> None:
    """The practice sets of the course, with their questions and links (exit 1 if a set file is broken)."""
    from ..errors import ValidationFailed
    from ..practice.sets import scan_sets

    sets, problems = scan_sets(course)
    if not sets:
        say("no practice sets yet (exam-builder practice build NAME --module N)" if not problems
            else "no readable practice set")
    else:
        table = Table(title="Practice sets")
        for col in ("name", "title", "questions", "minutes", "built", "link"):
            table.add_column(col)
        for s in sets:  # plain text: a title's brackets are not markup
            built = f"{clock.date_of(s.built_at, course.zone)} by {s.built_by}"  # the room's date, not UTC's
            table.add_row(*(escape(v) for v in (s.name, s.title, str(len(s.items)), str(s.minutes or "no clock"),
                                                built, f"/?set={s.name}")))
        console.print(table)
    if problems:  # named, never skipped: candidates are not offered these sets
        raise ValidationFailed(problems)


@practice_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8868, show_default=True, type=int, help="Port to listen on.")
@click.option("--seats", type=click.IntRange(0, 500), default=None,
              help="Warm kernels to keep (default: 4, a study group opening its link together).")
@tls_options
@pass_course
def serve(course, host, port, seats, certfile, keyfile) -> None:
    """Start the practice app: one link per set, no access code, nothing recorded about the candidate."""
    from ..delivery.server import ServeOptions, serve_practice

    serve_practice(course, host, port, ServeOptions(seats=seats, certfile=certfile, keyfile=keyfile), echo=say)


COMMANDS = [practice_group]
