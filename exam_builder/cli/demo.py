"""`exam-builder demo`: the whole exam cycle on a made-up sample cohort (its own course and database)."""
from __future__ import annotations

from pathlib import Path

import click

from ..demo import STAGE_NAMES
from .common import console


@click.command()
@click.option("--dir", "target", default="demo-course", show_default=True, type=click.Path(path_type=Path),
              help="Folder for the demo course (deleted and rebuilt).")
@click.option("--stage", "only", multiple=True, type=click.Choice(STAGE_NAMES),
              help=f"Run only these stages (default: all, in this order: {', '.join(STAGE_NAMES)}).")
@click.pass_obj
def demo(course, target: Path, only: tuple[str, ...]) -> None:
    """Run the whole exam cycle on a made-up sample cohort.

    Exits 1, running nothing, when a stage is missing from the demo (a listed stage without its
    module, or a module not listed)."""
    from ..demo import run

    run(target.resolve(), course.root, console, list(only) or None)


COMMANDS = [demo]
