"""``exam-builder rehearse``: a room of made-up candidates against the real exam server, on a scratch copy.

It works on its own scratch database (``loadtest.rehearse``), never the course's: ``pass_course``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import console, pass_course


@click.command()
@click.argument("exam")
@click.option("--candidates", default=60, show_default=True, type=click.IntRange(1, 2000),
              help="Made-up candidates in the room (each gets a seat, a sitting and a code).")
@click.option("--window", default=60.0, show_default=True, type=click.FloatRange(0),
              help="Seconds over which the candidates arrive and open the page.")
@click.option("--first-wave", default="0.5:10", show_default=True, metavar="SHARE:SECONDS",
              help="That share of the candidates opens the page within the first SECONDS "
                   "(0.5:10: half of the room in the first 10 s); the rest arrive evenly over the window.")
@click.option("--browsers", default=0, show_default=True, type=click.IntRange(0),
              help="How many of the candidates use a real chromium instead of the page client.")
@click.option("--pace", default=10.0, show_default=True, type=click.FloatRange(min=1e-3),
              help="Candidates act this many times faster than a person (reading, choosing, typing).")
@click.option("--alone", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Times one candidate alone opens the page first (the baseline, median).")
@click.option("--seed", default=1, show_default=True, type=int, help="Arrivals, answers and pauses follow it.")
@click.option("--postgres", "postgres", default=None, metavar="URL",
              help="A PostgreSQL server to rehearse on: a throw-away database is created there and dropped "
                   "afterwards (default: SQLite in the scratch folder).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the figures to this JSON file.")
@click.option("--keep", is_flag=True, help="Keep the scratch course (and the server's log) afterwards.")
@pass_course
def rehearse(course, exam, candidates, window, first_wave, browsers, pace, alone, seed, postgres, json_path,
             keep) -> None:
    """Rehearse exam day on a scratch copy of the course: CANDIDATES made-up candidates arrive, sign in,
    answer every question, reload once and submit, against the real exam server.

    Prints how long the sign-in screen takes (beside one candidate alone), how long an answer takes to
    be saved, the server's memory per seat, the kernels left over and the answers lost. The course's own
    records are never touched. Exits 1 when an answer was lost or a candidate could not finish.
    """
    from ..loadtest.rehearse import RehearsalOptions, parse_first_wave, rehearse as run

    opts = RehearsalOptions(exam=exam, candidates=candidates, window=window, first_wave=parse_first_wave(first_wave),
                            browsers=browsers, pace=pace, seed=seed, alone=alone, postgres=postgres, keep=keep,
                            json_path=json_path)
    figures = run(course, opts, console)
    if figures.answers_lost or figures.failed or figures.submitted < figures.candidates:
        console.print(f"[bold red]{figures.answers_lost} answer(s) lost, "
                      f"{figures.candidates - figures.submitted} candidate(s) could not submit[/]")
        sys.exit(1)
    console.print("[bold green]no answer lost; every candidate submitted[/]")


COMMANDS = [rehearse]
