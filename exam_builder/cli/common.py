"""What every command module shares: the consoles, and how a command gets its course.

A command that reads or writes the course database takes it with ``pass_course_db``: that one
decorator refuses a database that is missing tables or is at an older revision (``exam-builder
db upgrade`` first), so every such command says the same thing. A command that does not touch
the database (or creates it: ``db upgrade``) takes ``pass_course``.
"""
from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, TypeVar

import click
from rich.console import Console

from ..course import Course

F = TypeVar("F", bound=Callable[..., Any])


def _width(stream) -> int | None:
    """Piped output (logs, CI, `make demo | tee`) gets wide tables instead of rich's 80
    columns; a terminal, or $COLUMNS, decides otherwise."""
    return None if stream.isatty() or os.environ.get("COLUMNS") else 150


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))

#: Pass the ``Course`` the root group made as the command's first argument.
pass_course = click.make_pass_decorator(Course)


def pass_course_db(f: F) -> F:
    """Pass the ``Course`` once its database is at the current revision (refused otherwise).

    Runs inside the course lock of a command that changes the course, so the check and the
    change see the same database.
    """
    @functools.wraps(f)
    def run(course: Course, *args, **kwargs):
        course.db.require_current()
        return f(course, *args, **kwargs)

    return pass_course(run)  # type: ignore[return-value]


def tls_options(f: F) -> F:
    """``--certfile``/``--keyfile``: serve a candidates' app over HTTPS (``serve``, ``practice serve``)."""
    from pathlib import Path

    f = click.option("--keyfile", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="TLS private key (PEM) of --certfile.")(f)
    return click.option("--certfile", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="TLS certificate (PEM) to serve HTTPS; with --keyfile.")(f)


def say(text: str) -> None:
    """Print a server's plain message (no markup, no highlighting, never cut)."""
    console.print(text, soft_wrap=True, highlight=False)
