"""The ``exam-builder`` command.

Each domain defines its commands at module level in its own module under ``exam_builder.cli``
(bank, records, assembly, delivery, grading, ...), each a thin call into the domain, and lists
them in its ``COMMANDS``; ``COMMAND_MODULES`` below adds them to the root group. A command
that touches the database takes its course with ``common.pass_course_db`` (the revision check);
those named in ``CHANGES_COURSE`` run under the course lock. Errors the user can fix are printed
without a traceback and exit non-zero.

Every argument is checked before any command runs (``common.check_arguments``: the one text rule)
and every parameter gets its rule once for the whole tree (``common.check_parameters``: number
options by the one number rule, ``--by`` and ``--reason`` by the audit trail's).
"""
from __future__ import annotations

import functools
import importlib
import sys

import click
from rich.markup import escape

from ..course import Course
from ..errors import ExamBuilderError
from ..lock import course_lock
from .common import check_arguments, check_parameters, console, err_console, pass_course, pass_course_db  # noqa: F401  (the modules' shared API)

COMMAND_MODULES = ["bank", "records", "assembly", "delivery", "grading", "analysis", "demo", "rehearse", "qti",
                   "practice", "hub", "paper", "standard", "recourse"]

#: Commands that change a course: they run one at a time (``exam_builder.lock``). The servers
#: (serve, proctor, grader) change it a transaction at a time and are not serialized.
CHANGES_COURSE = frozenset({
    "bank sync", "bank review", "db upgrade", "roster import", "accommodation request", "accommodation approve",
    "accommodation revoke", "accommodation import", "attendance import", "homework import", "homework sync",
    "tutoring", "build", "sitting open", "sitting window", "sitting reissue", "sitting unlock", "sitting void",
    "sitting add-time", "sitting scribe", "collect", "grade", "reapply-rubric", "results", "feedback",
    "import qti", "practice build", "print", "scan read", "scan verify", "scan key",
    "standard create", "standard panelist", "standard round-open", "standard round-close", "standard ratings",
    "standard decide", "standard report", "standard recut",
    "keys decide", "keys apply", "keys close", "appeal record", "appeal assign", "appeal rerate", "appeal decide",
})


class ExamBuilderGroup(click.Group):
    """A click group that refuses a hostile command line and turns ``ExamBuilderError`` into a message
    and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        check_arguments(args)  # the root group sees every argument of every command
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ExamBuilderError as exc:
            # escape: messages hold literal brackets ("[core-07]", "- [x]") that are not rich markup
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
            sys.exit(exc.exit_code)


@click.group(cls=ExamBuilderGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--course",
    "course_root",
    type=click.Path(file_okay=False, path_type=str),
    envvar="EXAM_BUILDER_COURSE",
    default=".",
    show_default=True,
    help="The nbgrader course directory (holds nbgrader_config.py).",
)
@click.option("--db-url", envvar="EXAM_BUILDER_DB_URL", default=None, help="Override the database URL.")
@click.pass_context
def cli(ctx: click.Context, course_root: str, db_url: str | None) -> None:
    """Author, deliver and grade certification exams on nbgrader."""
    ctx.obj = Course(course_root, db_url=db_url)


def _locked(callback, name: str):
    """Run a command's body under the course lock (waiting, or naming the holder)."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        course = click.get_current_context().find_object(Course)
        if course is None or not course.root.is_dir():  # the command says what is wrong with the path
            return callback(*args, **kwargs)
        what = " ".join(["exam-builder", name, *[str(kwargs[k]) for k in ("exam",) if kwargs.get(k)]])
        with course_lock(course, what, say=lambda t: err_console.print(t, highlight=False, markup=False)):
            return callback(*args, **kwargs)
    return run


def _serialize(group: click.Group, path: tuple[str, ...] = ()) -> None:
    """Put every command named in ``CHANGES_COURSE`` under the course lock."""
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            _serialize(cmd, (*path, name))
        elif " ".join((*path, name)) in CHANGES_COURSE:
            cmd.callback = _locked(cmd.callback, " ".join((*path, name)))


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"{__name__}.{_name}").COMMANDS:
        cli.add_command(_command)
_serialize(cli)
check_parameters(cli)


def main() -> None:
    cli(prog_name="exam-builder")
