"""`exam-builder demo`: the whole exam cycle on a made-up sample cohort (its own course and database)."""
from __future__ import annotations

from pathlib import Path

import click

from .common import console


@click.command()
@click.option("--dir", "target", default="demo-course", show_default=True, type=click.Path(path_type=Path),
              help="Folder for the demo course (deleted and rebuilt).")
@click.option("--stage", "only", multiple=True, help="Run only these stages (bank, records, assembly, delivery, grading).")
@click.pass_obj
def demo(course, target: Path, only: tuple[str, ...]) -> None:
    """Run the whole exam cycle on a made-up sample cohort."""
    from ..demo import run

    run(target.resolve(), course.root, console, list(only) or None)


COMMANDS = [demo]
