"""Program rules as traitlets settings.

Every rule of the CPS program is a default here, and every one can be changed in
``nbgrader_config.py`` (``c.ProgramPolicy.time_limit_minutes = 120``), because other
certification programs differ.
"""
from __future__ import annotations

from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode
from traitlets.config import Configurable

CPS_COMPETENCIES = {
    "peer-support": "Peer Support",
    "in-but-not-of": "In But Not Of the System",
    "change-agent": "Change Agent",
}

CPS_MODULES = {
    1: "Recovery and hope",
    2: "Sharing one's story",
    3: "Mutuality and boundaries",
    4: "Trauma-informed support",
    5: "WRAP and wellness tools",
    6: "Recovery language",
    7: "Advocacy and systems change",
    8: "Ethics and confidentiality",
    9: "Self-care",
}


class ProgramPolicy(Configurable):
    """The certification program's rules; the CPS program's by default."""

    program_name = Unicode("Massachusetts Certified Peer Specialist (CPS)").tag(config=True)
    contact = Unicode(
        "the CPS program office (cps-exams@example.org)",
        help="Whom a candidate contacts about their result or an appeal, as their score report and appeal letter "
             "name it: an office and how to reach it.",
    ).tag(config=True)

    # vocabulary of the item bank
    competencies = Dict(
        default_value=CPS_COMPETENCIES,
        help="Competency slug -> display name. Items must use one of these slugs.",
    ).tag(config=True)
    modules = Dict(
        default_value=CPS_MODULES,
        help="Training module number -> title. Items name a module by its number.",
    ).tag(config=True)
    difficulty_levels = Dict(
        default_value={"easy": 0.85, "medium": 0.70, "hard": 0.55},
        help="Author difficulty estimate -> expected proportion of candidates answering correctly.",
    ).tag(config=True)

    # the exam
    time_limit_minutes = Int(180, help="Time limit of the written exam.").tag(config=True)
    extended_time_multiplier = Float(
        1.5, help="Default multiplier of an approved extended-time accommodation (ADA)."
    ).tag(config=True)
    exam_offset_days = Int(14, help="The exam is given about this many days after the last class.").tag(
        config=True
    )
    time_warnings_minutes = List(
        Int(), default_value=[30, 5], help="Warnings shown to the candidate this many minutes before the end."
    ).tag(config=True)

    # attempts
    max_attempts = Int(3, help="Attempts at the same exam (voided sittings do not count).").tag(config=True)
    tutoring_after_failure = Enum(
        ["offered", "required"],
        default_value="offered",
        help="After a failed attempt tutoring is offered, or required before the next attempt.",
    ).tag(config=True)
    absent_counts_as_attempt = Bool(
        False, help="A no-show (a sitting whose sign-in window closed unstarted, or that a proctor marked absent) "
                    "uses up an attempt. CPS: it does not.",
    ).tag(config=True)
    waiting_period_days = Int(14, help="Days between a failed attempt and the next one.").tag(config=True)

    # attendance
    modules_per_class = Int(3, help="Modules in each class.").tag(config=True)
    disqualify_late_or_absent = Int(
        4, help="Late for or missing this many modules disqualifies a candidate from the exam."
    ).tag(config=True)
    homework_counts_toward = Unicode("participation", help="What homework counts toward.").tag(config=True)

    # rating of open responses
    double_rating_share = Float(
        1.0, help="Share of open responses that get a second, independent rating (1.0 = all)."
    ).tag(config=True)
    rating_tolerance = Float(
        1.0, help="Two ratings at most this many points apart resolve without adjudication."
    ).tag(config=True)
    rating_resolution = Enum(
        ["mean", "lower", "higher"], default_value="mean", help="How two ratings within tolerance resolve."
    ).tag(config=True)
    blind_rating = Bool(True, help="Graders see anonymous ids, never candidate names.").tag(config=True)

    def personal_time_limit(self, multiplier: float | None) -> int:
        """Minutes a candidate gets: the limit times their approved multiplier, if any."""
        return round(self.time_limit_minutes * (multiplier or 1.0))
