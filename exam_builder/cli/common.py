"""What every command module shares: the consoles, and how a command gets its course.

A command that reads or writes the course database takes it with ``pass_course_db``: that one
decorator refuses a database that is missing tables or is at an older revision (``exam-builder
db upgrade`` first), so every such command says the same thing. A command that does not touch
the database (or creates it: ``db upgrade``) takes ``pass_course``.

What reaches the terminal is safe whatever it holds: both consoles are ``SafeConsole``, which
shows every character the one text rule refuses (``exam_builder.text``: escape sequences, bidi
overrides, lone surrogates) as an escape, so a stored value (an old audit entry, an item's stem)
cannot drive the terminal, reorder a line or fail to encode. What comes in is checked by the root
group (``cli.ExamBuilderGroup``): every argument by the text rule, every number option by the
number rule (``strict_number``), ``--by``, ``--reason`` and ``--room`` by the rules of what stores them
(``TEXT_OPTIONS``).
"""
from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.segment import Segment

from .. import numbers
from ..course import Course
from ..records.audit import MAX_ACTOR, MAX_REASON
from ..text import shown, text_problem, visible

F = TypeVar("F", bound=Callable[..., Any])


def _width(stream) -> int | None:
    """Piped output (logs, CI, `make demo | tee`) gets wide tables instead of rich's 80
    columns; a terminal, or $COLUMNS, decides otherwise."""
    return None if stream.isatty() or os.environ.get("COLUMNS") else 150


class SafeConsole(Console):
    """A rich console that never writes a character the text rule refuses: each is shown as an
    escape (``\\x1b``, ``\\u202e``), whatever printed it (a message, a table cell, markup).

    Rich removes only a few control codes itself (BEL, BS, VT, FF, CR): ESC, C1 controls, bidi
    overrides and lone surrogates would otherwise reach the terminal raw. The escaping is done on
    the rendered text segments, so rich's own styling (its control segments) is untouched.
    """

    def render(self, renderable, options=None):
        for segment in super().render(renderable, options):
            if segment.control is None and segment.text:
                text = visible(segment.text, multiline=True)
                if text is not segment.text:
                    segment = Segment(text, segment.style)
            yield segment


console = SafeConsole(width=_width(sys.stdout))
err_console = SafeConsole(stderr=True, width=_width(sys.stderr))


class Refused(click.ClickException):
    """A command line refused before any command ran: said as an error, exit 1 (as a command refuses a value)."""

    exit_code = 1

    def show(self, file=None) -> None:
        err_console.print(f"[bold red]error:[/] {escape(self.format_message())}", highlight=False, soft_wrap=True)


def check_arguments(args: list[str]) -> None:
    """Refuse a command line with a character the text rule refuses in any argument (an escape sequence
    or a bidi override in ``--reason``, a lone surrogate from a file name that is not UTF-8).

    Tabs and line breaks are left to each option's own type (``TextOption``): a comment may span lines.
    """
    for n, arg in enumerate(args):
        why = text_problem(arg, None, multiline=True, fix="delete it and try again")
        if why is None:
            continue
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            why = text_problem(value, None, multiline=True, fix="delete it and try again")
            raise Refused(f"the value given with {visible(name)} {why}")
        if n and args[n - 1].startswith("-") and "=" not in args[n - 1]:
            raise Refused(f"the value given with {visible(args[n - 1])} {why}")
        raise Refused(f"the command line's argument {visible(shown(arg))} {why}")


class TextOption(click.ParamType):
    """A free text given on the command line and stored (a reason, a name): the text rule, one line, a length."""

    name = "text"

    def __init__(self, what: str, max_chars: int, multiline: bool = False) -> None:
        self.what, self.max_chars, self.multiline = what, max_chars, multiline

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            why = text_problem(value.strip(), self.max_chars, self.multiline)
            if why is not None:
                self.fail(f"{self.what} {why}", param, ctx)
        return value


#: The options every command declares alike, and the rule of each: what the audit trail stores.
TEXT_OPTIONS = {
    "--by": TextOption("the name", MAX_ACTOR),
    "--reason": TextOption("the reason", MAX_REASON),
    "--room": TextOption("the room", 64),  # a sitting's room column; printed on seat cards
}


class StrictNumber:
    """Mixed into click's number types (``strict_number``): the one number rule (``exam_builder.numbers``)
    reads the option before click's own type (its range) does; click's ``int()``/``float()`` would read
    ``6_5`` as 65, ``٣`` as 3 and ``nan`` as a number."""

    def convert(self, value, param, ctx):
        whole = isinstance(self, click.types.IntParamType)
        if isinstance(value, str) and not (numbers.is_whole(value) if whole else numbers.is_decimal(value)):
            kind = "a whole number" if whole else "a number"
            self.fail(f"{shown(value)} is not {kind} (ASCII digits{'' if whole else ', a decimal point'} and "
                      "an optional sign; no '_')", param, ctx)
        return super().convert(value, param, ctx)  # type: ignore[misc]


_STRICT: dict[type, type] = {}


def strict_number(kind: click.ParamType) -> click.ParamType:
    """A copy of click's number type ``kind`` (INT, FLOAT, an IntRange...) that reads by the one number
    rule first; still an instance of its class, so help texts show its range as before."""
    if isinstance(kind, StrictNumber):
        return kind
    cls = type(kind)
    strict = _STRICT.setdefault(cls, type(f"Strict{cls.__name__}", (StrictNumber, cls), {}))
    copy = object.__new__(strict)
    copy.__dict__.update(kind.__dict__)
    return copy


def check_parameters(group: click.Group) -> None:
    """Give every parameter of every command its rule: numbers by ``strict_number``, the stored texts of
    ``TEXT_OPTIONS`` by theirs. Done once for the whole tree, so a new command cannot miss it."""
    for cmd in group.commands.values():
        if isinstance(cmd, click.Group):
            check_parameters(cmd)
            continue
        for param in cmd.params:
            if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType)):
                param.type = strict_number(param.type)
            elif isinstance(param, click.Option) and isinstance(param.type, click.types.StringParamType):
                rule = next((TEXT_OPTIONS[o] for o in param.opts if o in TEXT_OPTIONS), None)
                if rule is not None:
                    param.type = rule


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


#: ``--by``'s help where a command says nothing more particular of who acts.
BY_HELP = "Who is acting (default: $EXAM_BUILDER_USER or the login name)."
#: ``--reason``'s help where the reason only goes to the audit trail.
REASON_HELP = "Why (kept in the audit trail)."
#: ``--date`` of a command on a room's sittings (click reads it as a datetime).
DAY = click.DateTime(["%Y-%m-%d"])


def by_option(help: str = BY_HELP, *, dest: str = "actor", required: bool = False) -> Callable[[F], F]:
    """``--by``: who acts, kept in the audit trail. Optional unless ``required`` (else ``current_actor``
    fills it from $EXAM_BUILDER_USER or the login name); its text rule is ``TEXT_OPTIONS``'s."""
    if required:  # no default at all: click 8.3 takes an explicit None as a value given
        return click.option("--by", dest, required=True, help=help)
    return click.option("--by", dest, default=None, help=help)


def reason_option(help: str = REASON_HELP, *, required: bool = True, default: str | None = None,
                  show_default: bool = False) -> Callable[[F], F]:
    """``--reason``: why, kept in the audit trail; required unless the command has a ``default``."""
    if required:  # no default at all: click 8.3 takes an explicit None as a value given
        return click.option("--reason", required=True, help=help)
    if show_default:
        return click.option("--reason", default=default, show_default=True, help=help)
    return click.option("--reason", default=default, help=help)


def room_options(room_help: str, date_help: str) -> Callable[[F], F]:
    """``--room`` (required) and ``--date`` (into ``on``): a command on one room's sittings of one date."""
    def add(f: F) -> F:
        f = click.option("--date", "on", type=DAY, default=None, help=date_help)(f)
        return click.option("--room", required=True, help=room_help)(f)

    return add


def say(text: str) -> None:
    """Print a server's plain message (no markup, no highlighting, never cut)."""
    console.print(text, soft_wrap=True, highlight=False)
