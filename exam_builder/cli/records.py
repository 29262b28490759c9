"""Commands of the records domain: the database."""
from __future__ import annotations

import click

from . import console, pass_course


def register(cli: click.Group) -> None:
    @cli.group()
    def db() -> None:
        """The course database (nbgrader's gradebook and exam-builder's tables)."""

    @db.command("upgrade")
    @pass_course
    def upgrade(course) -> None:
        """Create or migrate every table to the current revision."""
        course.db.upgrade()
        console.print(f"database ready at {course.db.safe_url} (revision {course.db.current_revision()})")
