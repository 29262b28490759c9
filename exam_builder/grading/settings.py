"""Grading settings (traitlets), set in ``nbgrader_config.py`` as ``c.GradingSettings.<name>``.

The program's rating rules (double-rating share, tolerance, resolution) are ``ProgramPolicy``
settings; these are how the grading machinery runs on this server.
"""
from __future__ import annotations

from traitlets import Bool, Int
from traitlets.config import Configurable


class GradingSettings(Configurable):
    """How grading runs: parallel readers, batch size, how long a grader's claim holds."""

    workers = Int(0, help="Processes that read submissions (0 = one per CPU).").tag(config=True)
    batch_size = Int(
        2000, help="Submissions written to the gradebook per database transaction."
    ).tag(config=True)
    formgrader_copies = Bool(
        True,
        help="Write key-free copies of the submissions to autograded/<candidate>/<form>/ (staff-only, never "
        "released), so nbgrader's formgrader lists every submission and opens it with its scores and comments. "
        "Without them the formgrader shows each submission as '(file missing)' and leaves it out of its lists. "
        "A copy is the submitted file itself (rewritten from the gradebook's cells only when it was tampered "
        "with); it holds no key. Turn off only when nobody uses the formgrader.",
    ).tag(config=True)
    claim_timeout_minutes = Int(
        30, help="A response a grader claimed but did not score within this many minutes returns to the queue."
    ).tag(config=True)


def grading_settings(course) -> GradingSettings:
    return course.grading_settings
