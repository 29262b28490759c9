"""Delivery settings (traitlets), set in ``nbgrader_config.py`` like ``c.DeliverySettings.save_delay_seconds = 1``."""
from __future__ import annotations

from traitlets import Float, Int, Unicode
from traitlets.config import Configurable


class DeliverySettings(Configurable):
    """How the exam app talks to the server; defaults suit a room of 50 candidates."""

    tick_seconds = Float(1.0, help="How often the countdown is redrawn from the server's clock.").tag(config=True)
    refresh_seconds = Float(
        5.0, help="How often the app re-reads the sitting (time a proctor added, a void, a submit elsewhere)."
    ).tag(config=True)
    save_delay_seconds = Float(
        1.0, help="An open response is saved this long after typing pauses (and at once on leaving the question)."
    ).tag(config=True)
    max_answer_chars = Int(20_000, help="Longest open response accepted.").tag(config=True)
    timezone = Unicode(
        "America/New_York",
        help="IANA time zone of the exam room: times shown to candidates (saved at, receipt) are in it.",
    ).tag(config=True)
    sign_in_delay_seconds = Float(1.0, help="Pause after a wrong access code, to slow down guessing.").tag(config=True)
