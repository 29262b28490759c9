"""Bank settings (traitlets), set in ``nbgrader_config.py`` as ``c.BankSettings.<name>``."""
from __future__ import annotations

from traitlets import Bool
from traitlets.config import Configurable


class BankSettings(Configurable):
    """How the item bank's review is enforced."""

    require_recorded_review = Bool(
        True,
        help="Draw only items a reviewer other than their author approved, as recorded with `exam-builder bank "
        "review` (the newest decision on the item's current content is 'approve', and it was never retired), "
        "besides 'status: live' in the header. Off: the header's 'status: live' alone makes an item eligible, as "
        "before recorded reviews (a scratch rehearsal course turns it off; its forms reach no candidate).",
    ).tag(config=True)
