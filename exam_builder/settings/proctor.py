"""Proctor settings (traitlets), set in ``nbgrader_config.py`` as ``c.ProctorSettings.<name>``.

Read by the proctor's room view (``delivery.proctor``); here, with every other settings class, so
that reading the configuration needs nothing of the room view (ipywidgets).
"""
from __future__ import annotations

from traitlets import Float, Int
from traitlets.config import Configurable


class ProctorSettings(Configurable):
    """When the room view marks a candidate, and how often it re-reads the room (``c.ProctorSettings.…``)."""

    refresh_seconds = Float(3.0, help="How often the proctor's room view re-reads the sittings.").tag(config=True)
    late_after_minutes = Int(
        10, help="A candidate not arrived this many minutes after the room's sign-in opened (at a set time, "
                 "not a whole-day window) is marked late.").tag(config=True)
    idle_after_minutes = Int(
        15, help="A candidate writing with no answer saved for this many minutes is marked idle.").tag(config=True)
