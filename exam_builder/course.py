"""The course: an nbgrader course directory with exam-builder's settings and database.

Every command works on one ``Course``; it reads ``nbgrader_config.py`` once (traitlets, as
nbgrader does), knows the nbgrader directory layout, and opens the one database.
"""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .errors import ExamBuilderError
from .policy import ProgramPolicy

if TYPE_CHECKING:
    from .records.db import Database

DEFAULT_DB_URL = "sqlite:///gradebook.db"


def load_config(root: Path) -> Config:
    """Read ``nbgrader_config.py`` from the course root (an empty config if there is none)."""
    path = root / "nbgrader_config.py"
    if not path.exists():
        return Config()
    try:
        return PyFileConfigLoader(path.name, path=str(root)).load_config()
    except Exception as exc:  # a syntax error in the user's config file
        raise ExamBuilderError(
            f"{path}: cannot read the configuration ({exc}). Fix the file and run again."
        ) from exc


class Course:
    """An nbgrader course root with exam-builder's policy and database."""

    def __init__(self, root: Path | str | None = None, db_url: str | None = None):
        self.root = Path(root or os.environ.get("EXAM_BUILDER_COURSE", ".")).resolve()
        self.config = load_config(self.root)
        self._db_url = db_url or os.environ.get("EXAM_BUILDER_DB_URL")

    # -- settings ---------------------------------------------------------------------
    @cached_property
    def policy(self) -> ProgramPolicy:
        return ProgramPolicy(config=self.config)

    @property
    def course_id(self) -> str:
        return str(self.config.get("CourseDirectory", {}).get("course_id", "") or "course")

    @property
    def db_url(self) -> str:
        """The database URL; relative SQLite paths are resolved against the course root."""
        url = self._db_url or str(self.config.get("CourseDirectory", {}).get("db_url", "") or DEFAULT_DB_URL)
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            url = prefix + str(self.root / url[len(prefix):])
        return url

    @cached_property
    def db(self) -> "Database":
        from .records.db import Database

        return Database(self.db_url)

    # -- the course's secret ----------------------------------------------------------
    @property
    def private_dir(self) -> Path:
        """``<course>/.exam-builder/``: the course's own secrets (``0700``, git-ignored)."""
        return self.root / ".exam-builder"

    @property
    def secret_path(self) -> Path:
        return self.private_dir / "secret"

    @cached_property
    def secret(self) -> bytes:
        """The course's key for access codes (HMAC), created ``0600`` on first need.

        It lives with the course, never in the database: a copy of the database alone (a
        backup, a PostgreSQL dump) cannot check a guessed code. Lose it and every code not yet
        used stops working: reissue them (``exam-builder sitting reissue``).
        """
        import secrets

        from .files import create_private_file, make_private

        path = self.secret_path
        if not path.exists():
            try:
                create_private_file(path, secrets.token_bytes(32))
            except OSError as exc:
                raise ExamBuilderError(
                    f"cannot create the course's secret {path} ({exc.strerror}). Open the sittings from a staff "
                    "account that can write to the course folder first.") from exc
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ExamBuilderError(f"cannot read the course's secret {path} ({exc.strerror}).") from exc
        if len(data) < 32:
            raise ExamBuilderError(f"the course's secret {path} is damaged (too short). Restore it from a backup, "
                                   "or delete it and reissue every access code (exam-builder sitting reissue).")
        make_private(path)
        return data

    # -- nbgrader layout --------------------------------------------------------------
    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def submitted_dir(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded_dir(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback_dir(self) -> Path:
        return self.root / "feedback"

    @property
    def rubrics_dir(self) -> Path:
        return self.root / "rubrics"

    @property
    def reports_dir(self) -> Path:
        """Staff-side outputs: keys, form comparisons, seat cards, results (never in git)."""
        return self.root / "exports"

    def exam_dir(self, exam: str) -> Path:
        """Where an exam's items and blueprint live: ``source/<exam>/``."""
        return self.source_dir / exam

    def nbgrader_config(self) -> Config:
        """Config for nbgrader's own apps and API, pointing at this course and database."""
        cfg = Config(self.config)
        cfg.CourseDirectory.root = str(self.root)
        cfg.CourseDirectory.db_url = self.db_url
        return cfg
