"""The course: an nbgrader course directory with exam-builder's settings and database.

Every command works on one ``Course``; it reads ``nbgrader_config.py`` once (traitlets, as
nbgrader does) and opens the one database. Its folders come from nbgrader's own
``CourseDirectory`` (``c.CourseDirectory.submitted_directory``, ``directory_structure``, ...),
so exam-builder and nbgrader's apps always agree on where things are. Every settings object
(``ProgramPolicy``, ``GradingSettings``, ``DeliverySettings``, ``ProctorSettings``,
``ServerSettings``, ``BankSettings``: ``exam_builder.settings``) is read once from the same config
and hung on the course. Layer 2 (docs/architecture.md): it imports the settings and the records'
database, nothing of assembly, delivery or grading.
"""
from __future__ import annotations

import datetime as dt
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .errors import ExamBuilderError
from .settings import (
    BankSettings,
    DeliverySettings,
    GradingSettings,
    ProctorSettings,
    ProgramPolicy,
    RecourseSettings,
    ReportSettings,
    ServerSettings,
)

if TYPE_CHECKING:
    from nbgrader.coursedir import CourseDirectory

    from .records.db import Database

DEFAULT_DB_URL = "sqlite:///gradebook.db"
#: The file that makes a folder of ``source/`` an exam (its blueprint, read by ``assembly.blueprint``).
BLUEPRINT_FILE = "blueprint.yaml"


#: nbgrader_config.py holds a few settings (the sample course's is 2 KB).
MAX_CONFIG_BYTES = 1024 * 1024


def load_config(root: Path) -> Config:
    """Read ``nbgrader_config.py`` from the course root (an empty config if there is none)."""
    path = root / "nbgrader_config.py"
    if not os.path.lexists(path):
        return Config()
    from .safeload import LoadError, linked_out, read_bytes

    why = linked_out(path, [(root, "the course")])  # the link rule of every course file, before anything is read
    if why is not None:
        raise ExamBuilderError(f"{path}: {why}")
    try:  # a regular file of sane size: traitlets would wait on a pipe or read /dev/zero without end
        read_bytes(path, str(path), max_bytes=MAX_CONFIG_BYTES, hint="it holds a few settings")
    except LoadError as exc:
        raise ExamBuilderError(f"{exc}. Fix the file and run again.") from None
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

    @cached_property
    def grading_settings(self) -> GradingSettings:
        return GradingSettings(config=self.config)

    @cached_property
    def delivery_settings(self) -> DeliverySettings:
        return DeliverySettings(config=self.config)

    @cached_property
    def proctor_settings(self) -> ProctorSettings:
        return ProctorSettings(config=self.config)

    @cached_property
    def server_settings(self) -> ServerSettings:
        return ServerSettings(config=self.config)

    @cached_property
    def bank_settings(self) -> BankSettings:
        return BankSettings(config=self.config)

    @cached_property
    def report_settings(self) -> ReportSettings:
        return ReportSettings(config=self.config)

    @cached_property
    def recourse_settings(self) -> RecourseSettings:
        return RecourseSettings(config=self.config)

    @cached_property
    def zone(self) -> "dt.tzinfo":
        """The room's time zone (``c.DeliverySettings.timezone``): every time shown to a person is in it (``clock``)."""
        from . import clock

        return clock.zone(self.delivery_settings.timezone)

    @cached_property
    def coursedir(self) -> "CourseDirectory":
        """nbgrader's ``CourseDirectory`` of this course: the folder names and layout nbgrader uses."""
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.nbgrader_config())

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

        from .files import check_owned, create_private_file, make_private
        from .safeload import LoadError, read_bytes

        path = self.secret_path
        try:  # the course's own file: no link anywhere on its path (files), a regular file of a few bytes (safeload)
            if not check_owned(path, self.root):
                create_private_file(path, secrets.token_bytes(32), self.root)
            data = read_bytes(path, str(path), max_bytes=4096, hint="restore it from a backup")
        except LoadError as exc:
            raise ExamBuilderError(f"cannot read the course's secret: {exc}.") from None
        except OSError as exc:
            raise ExamBuilderError(
                f"cannot create the course's secret {path} ({exc.strerror}). Open the sittings from a staff "
                "account that can write to the course folder first.") from exc
        if len(data) < 32:
            raise ExamBuilderError(f"the course's secret {path} is damaged (too short). Restore it from a backup, "
                                   "or delete it and reissue every access code (exam-builder sitting reissue).")
        make_private(path)
        return data

    # -- the link rule ----------------------------------------------------------------
    def folders(self) -> list[tuple[Path, str]]:
        """The course's folders for the link rule (``safeload.linked_out``), most specific first."""
        return [(self.source_dir, "source/"), (self.rubrics_dir, "rubrics/"), (self.practice_dir, "practice/"),
                (self.root, "the course")]

    def require_inside(self, path: Path, where: str | None = None) -> Path:
        """``path`` if a command may read it as a course file: not through a link out of its folder or
        out of the course (``safeload.require_inside``; ``LoadError`` naming the path otherwise)."""
        from .files import shown
        from .safeload import require_inside

        require_inside(Path(path), self.folders(), where or shown(path, self.root))
        return Path(path)

    # -- nbgrader layout (asked of nbgrader's CourseDirectory) ---------------------------
    def format_path(self, step: str, student_id: str, assignment_id: str) -> Path:
        """nbgrader's path of one step's folder (``CourseDirectory.format_path``), normalized.

        ``step`` is a folder name setting's value (``self.coursedir.submitted_directory``...);
        ``"."`` as the student id gives the steps without students (source, release).
        """
        return Path(os.path.normpath(self.coursedir.format_path(step, student_id, assignment_id)))

    @property
    def source_dir(self) -> Path:
        return self.format_path(self.coursedir.source_directory, ".", "")

    @property
    def release_dir(self) -> Path:
        return self.format_path(self.coursedir.release_directory, ".", "")

    @property
    def submitted_dir(self) -> Path:
        """Every candidate's submissions (nbgrader's ``submitted_directory``)."""
        return self.format_path(self.coursedir.submitted_directory, ".", "")

    @property
    def autograded_dir(self) -> Path:
        return self.format_path(self.coursedir.autograded_directory, ".", "")

    @property
    def feedback_dir(self) -> Path:
        return self.format_path(self.coursedir.feedback_directory, ".", "")

    def submission_dir(self, candidate: str, assignment: str) -> Path:
        """Where nbgrader keeps one candidate's submission of one form."""
        return self.format_path(self.coursedir.submitted_directory, candidate, assignment)

    def feedback_path(self, candidate: str, assignment: str) -> Path:
        """Where one candidate's score report of one form goes (nbgrader's feedback folder)."""
        return self.format_path(self.coursedir.feedback_directory, candidate, assignment)

    @property
    def rubrics_dir(self) -> Path:
        return self.root / "rubrics"

    @property
    def reports_dir(self) -> Path:
        """Staff-side outputs: keys, form comparisons, seat cards, results (never in git)."""
        return self.root / "exports"

    def exports_dir(self, exam: str) -> Path:
        """One exam's staff-side outputs: ``exports/<exam>/`` (keys, form comparisons, results, score reports)."""
        return self.reports_dir / exam

    def report_dir(self, exam: str) -> Path:
        """Where the program's report of an exam is written: ``reports/out/<exam>/`` (``exam-builder report``,
        the coordinator's desk, the demo)."""
        return self.root / "reports" / "out" / exam

    def blueprint_path(self, exam: str) -> Path:
        """An exam's blueprint: ``source/<exam>/blueprint.yaml``."""
        return self.exam_dir(exam) / BLUEPRINT_FILE

    @property
    def practice_dir(self) -> Path:
        """Practice sets (``practice/<name>.json``): practice items with their keys, for the practice app."""
        return self.root / "practice"

    def exam_dir(self, exam: str) -> Path:
        """Where an exam's items and blueprint live: ``source/<exam>/``."""
        return self.format_path(self.coursedir.source_directory, ".", exam)

    # -- exams ------------------------------------------------------------------------
    def exams(self) -> list[str]:
        """The exams of the course: the folders of ``source/`` that hold a blueprint."""
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir() if (p / BLUEPRINT_FILE).is_file())

    def exam_name(self, exam: str | None = None) -> str:
        """The exam named, or the course's only exam when none is; a clear error otherwise."""
        if exam:
            return exam
        exams = self.exams()
        if len(exams) == 1:
            return exams[0]
        if not exams:
            raise ExamBuilderError(f"no exam in {self.source_dir} (a folder with a blueprint.yaml); "
                                   "name the exam, or author one first")
        raise ExamBuilderError(f"the course has {len(exams)} exams ({', '.join(exams)}); name the one you mean")

    def nbgrader_config(self) -> Config:
        """Config for nbgrader's own apps and API, pointing at this course and database."""
        cfg = Config(self.config)
        cfg.CourseDirectory.root = str(self.root)
        cfg.CourseDirectory.db_url = self.db_url
        return cfg
