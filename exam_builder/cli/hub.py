"""Commands of the hub: a staff app as a JupyterHub service, and the hub's configuration file.

Thin calls into ``exam_builder.hub`` (JupyterHub is imported only when a command needs it).
"""
from __future__ import annotations

from pathlib import Path

import click

from .common import console, pass_course_db, say


@click.command("hub-service")
@click.argument("app", type=click.Choice(["grader", "proctor", "coordinator", "panelist"]))
@click.option("--exam", default=None, help="The exam the app works on (default: $EXAM_BUILDER_EXAM, else the "
                                           "course's one exam).")
@pass_course_db
def hub_service(course, app, exam) -> None:
    """Run a staff app (grader, proctor, coordinator or panelist) as a JupyterHub service: JupyterHub starts this
    command (see `exam-builder hub-config`); people sign in through the hub and act under their hub name."""
    import os

    from ..hub.service import run

    run(course, app, course.exam_name(exam or os.environ.get("EXAM_BUILDER_EXAM")), echo=say)


@click.command("hub-config")
@click.option("--write", "target", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the file here instead of printing it.")
def hub_config(target) -> None:
    """Print (or write) a jupyterhub_config.py whose settings come from EXAM_HUB_* variables (deploy/README.md)."""
    from ..files import replace_file
    from ..hub.config import CONFIG_TEMPLATE

    if target is None:
        click.echo(CONFIG_TEMPLATE, nl=False)
        return
    replace_file(target, CONFIG_TEMPLATE, None, public=True)  # never through a link or into a pipe
    console.print(f"wrote {target}; start the hub with: jupyterhub -f {target}", highlight=False)


COMMANDS = [hub_service, hub_config]
