"""Recourse settings (traitlets), set in ``nbgrader_config.py`` as ``c.RecourseSettings.<name>``.

The candidate's recourse (issue 26): comments on questions during the exam, key validation
before results, appeals. Read by ``delivery.session`` (the comment's size), ``grading.keys``
(the validation's thresholds, the drop policy, provisional results) and ``grading.appeals``
(the deadline; whether an appeal may lower a score).
"""
from __future__ import annotations

from traitlets import Bool, Float, Int, Unicode, validate
from traitlets.config import Configurable

from ..errors import ExamBuilderError

#: What dropping an item does to a form's cut (``drop_cut_rule``).
DROP_CUT_RULES = ("proportional", "unchanged")


class RecourseSettings(Configurable):
    """Comments, key validation and appeals: their limits, thresholds and policy (``c.RecourseSettings.…``)."""

    max_comment_chars = Int(
        1000, help="Longest comment a candidate may leave on one question (the box says so). Comments share the "
        "answers' journal limits (DeliverySettings.max_journal_rows, max_saves_per_minute).").tag(config=True)
    facility_below = Float(
        0.30, help="Key validation flags an objective item that fewer than this share of candidates got right."
    ).tag(config=True)
    discrimination_below = Float(
        0.10, help="Key validation flags an objective item whose corrected point-biserial is below this."
    ).tag(config=True)
    strong_group_share = Float(
        0.27, help="The share of candidates (highest totals) whose answers show 'the distractor strong candidates "
        "chose': an item is flagged when, in that group, a distractor is chosen at least as often as the key."
    ).tag(config=True)
    drop_cut_rule = Unicode(
        "proportional", help="When an item is dropped, the form's total loses its points and the cut becomes: "
        "'proportional' (cut x new total / old total, so the same share of the points passes) or 'unchanged' "
        "(the same raw points)."
    ).tag(config=True)
    provisional_until_validated = Bool(
        True, help="Results of sittings submitted after the exam's last closed key validation are provisional "
        "(the score report says so) until the coordinator closes key validation again. False waives it."
    ).tag(config=True)
    appeal_deadline_days = Int(
        30, help="An appeal must be received within this many days of the score report's date (the outcome's "
        "date); a later one is refused with the dates.").tag(config=True)

    appeal_may_lower = Bool(
        False, help="Whether a score appeal's re-rating may lower a score. False (the default; many programs never "
        "lower a score on appeal): an answer re-rated lower keeps its score, so an appeal can only raise the total "
        "or leave it. True (ISO/IEC 17024 allows it): the re-rating counts either way; a lower one is recorded "
        "with the appeal denied. Either way an appeal is upheld only when its result improves.").tag(config=True)

    @validate("drop_cut_rule")
    def _rule(self, proposal):
        if proposal["value"] not in DROP_CUT_RULES:
            raise ExamBuilderError(f"c.RecourseSettings.drop_cut_rule = {proposal['value']!r}: choose one of "
                                   + ", ".join(repr(r) for r in DROP_CUT_RULES))
        return proposal["value"]
