"""Grading settings (traitlets), set in ``nbgrader_config.py`` as ``c.GradingSettings.<name>``.

The program's rating rules (double-rating share, tolerance, resolution) are ``ProgramPolicy``
settings; these are how the grading machinery runs on this server, and who may adjudicate
(``adjudicator``, with the names it needs: ``grading.adjudication`` applies them).
"""
from __future__ import annotations

from traitlets import Bool, Int, List, Unicode, validate
from traitlets.config import Configurable

from ..errors import ExamBuilderError

#: Who may adjudicate a response whose two ratings are further apart than the tolerance.
ADJUDICATORS = ("third_grader", "coordinator", "senior")


class GradingSettings(Configurable):
    """How grading runs: parallel readers, batch size, how long a grader's claim holds, who adjudicates."""

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
    adjudicator = Unicode(
        "third_grader",
        help="Who adjudicates a response whose two ratings are further apart than ProgramPolicy.rating_tolerance: "
        "'third_grader' (any grader who gave neither rating; needs three graders), 'coordinator' (a name in "
        "coordinators, or under JupyterHub a member of the hub's coordinators group; they may have rated it) or "
        "'senior' (the one of the two raters named in senior_graders, shown the other's rating; any senior "
        "grader when neither rater is senior).",
    ).tag(config=True)
    coordinators = List(
        Unicode(), help="Who adjudicates when adjudicator = 'coordinator': the names they sign in to the grader's "
        "desk with (typed in the standalone app; the hub user's name under JupyterHub, where the hub's "
        "coordinators group also counts)."
    ).tag(config=True)
    senior_graders = List(
        Unicode(), help="Who adjudicates when adjudicator = 'senior': the senior graders' names, as they sign in "
        "to the grader's desk."
    ).tag(config=True)

    @validate("adjudicator")
    def _valid_adjudicator(self, proposal):
        value = str(proposal["value"]).strip()
        if value not in ADJUDICATORS:
            raise ExamBuilderError(f"c.GradingSettings.adjudicator = {proposal['value']!r} in nbgrader_config.py: "
                                   f"choose one of {', '.join(repr(a) for a in ADJUDICATORS)}")
        return value

    @validate("coordinators", "senior_graders")
    def _valid_names(self, proposal):
        names = []
        for name in proposal["value"]:
            name = " ".join(str(name).split())
            if len(name) < 2:
                raise ExamBuilderError(f"c.GradingSettings.{proposal['trait'].name} in nbgrader_config.py: "
                                       f"{name!r} is not a name (graders sign in with at least 2 characters)")
            names.append(name)
        return names
