"""The program's report's thresholds (traitlets), set in ``nbgrader_config.py`` as ``c.ReportSettings.<name>``.

The report publishes a statistic with its interval and a plain warning from ``min_n_publish``
candidates on, and without the warning from ``min_n_stable``; below ``min_n_publish`` it says what n
is needed. The candidate's score report shows a competency subscore only when the subscore's
reliability reaches ``subscore_min_reliability``. A distractor is flagged only when at least
``distractor_min_choosers`` candidates chose it.
"""
from __future__ import annotations

from traitlets import Float, Int, validate
from traitlets.config import Configurable

from ..errors import ExamBuilderError


class ReportSettings(Configurable):
    """When the program's report publishes a figure, and how it compares forms and flags sittings."""

    min_n_publish = Int(
        10, help="The fewest fully scored candidates (or double-rated responses) from which the program's report "
        "prints a statistic that needs a sample (reliability, decision consistency, item and rater statistics, "
        "equating), with its interval and a plain warning. Below it the report says how many are needed.",
    ).tag(config=True)
    min_n_stable = Int(
        30, help="From this many candidates on the report prints those statistics without the small-sample warning.",
    ).tag(config=True)
    equivalence_margin = Float(
        0.05, help="The margin of the forms' equivalence test (TOST), as a share of the form's points: two forms "
        "are shown equivalent when the 90% interval of their mean difference lies within plus or minus this share.",
    ).tag(config=True)
    anchor_min_share = Float(
        0.20, help="Equate two forms through the items they share only when those items are at least this share "
        "of each form's points and cover every competency of the form (a content-representative anchor); "
        "otherwise the forms are compared as randomly equivalent groups.",
    ).tag(config=True)
    subscore_min_reliability = Float(
        0.70, help="The reliability (coefficient alpha of the competency's items, from past candidates of the "
        "form) a competency subscore must reach before the candidate's score report shows it; below it the "
        "report says the exam is not designed to report that competency precisely.",
    ).tag(config=True)
    deadline_blank_share = Float(
        0.5, help="A sitting submitted at its deadline with more than this share of its answers blank is flagged "
        "in the report (time ran out, or the candidate left), and the statistics are shown with and without it.",
    ).tag(config=True)

    distractor_min_choosers = Int(
        3, help="The fewest candidates who must choose a distractor (a wrong option) before the item analysis flags "
        "it as chosen more by strong candidates: one or two candidates' choice says nothing about the option.",
    ).tag(config=True)

    @validate("distractor_min_choosers")
    def _valid_choosers(self, proposal):
        value = int(proposal["value"])
        if value < 1:
            raise ExamBuilderError(f"c.ReportSettings.distractor_min_choosers = {value} in nbgrader_config.py: "
                                   "at least 1 candidate")
        return value

    @validate("min_n_publish", "min_n_stable")
    def _valid_n(self, proposal):
        value = int(proposal["value"])
        if value < 3:
            raise ExamBuilderError(f"c.ReportSettings.{proposal['trait'].name} = {value} in nbgrader_config.py: "
                                   "a statistic needs at least 3 candidates")
        return value

    @validate("equivalence_margin", "anchor_min_share", "subscore_min_reliability", "deadline_blank_share")
    def _valid_share(self, proposal):
        value = float(proposal["value"])
        if not 0 < value <= 1:
            raise ExamBuilderError(f"c.ReportSettings.{proposal['trait'].name} = {value} in nbgrader_config.py: "
                                   "a share between 0 and 1")
        return value
