"""Delivery settings (traitlets), set in ``nbgrader_config.py`` like ``c.DeliverySettings.save_delay_seconds = 1``.

Limits on access codes and on a sitting's journal are here too, so a test, a rehearsal or a
program with other needs changes them the same way.
"""
from __future__ import annotations

from traitlets import Float, Int, Unicode
from traitlets.config import Configurable


class DeliverySettings(Configurable):
    """How the exam app talks to the server; defaults suit a room of 50 candidates."""

    tick_seconds = Float(1.0, help="How often the countdown is redrawn from the server's clock.").tag(config=True)
    refresh_seconds = Float(
        5.0, help="How often the app re-reads the sitting (time a proctor added, a void, a submit elsewhere, "
                  "the exam opened on another screen)."
    ).tag(config=True)
    save_delay_seconds = Float(
        1.0, help="An open response is saved this long after typing pauses (and at once on leaving the question)."
    ).tag(config=True)
    max_answer_chars = Int(20_000, help="Longest open response accepted.").tag(config=True)
    timezone = Unicode(
        "America/New_York",
        help="IANA time zone of the exam room: every time shown (candidate screens, the proctor's view, attempts, the "
             "audit log, reports, seat cards) is in it, with its name (10:04 EST), and a "
             "sitting's date and sign-in window are the room's.",
    ).tag(config=True)
    exam_address = Unicode(
        "",
        help="The exam's address as candidates type it in the room (e.g. 'http://10.0.0.5:8866/' or "
             "'https://exam.example.org/'): printed on every seat card, and by serve. Empty: seat cards say "
             "'the exam page the proctor shows you'.",
    ).tag(config=True)
    sign_in_delay_seconds = Float(1.0,
                                  help="Pause after a refused access code, to slow down guessing.").tag(config=True)
    practice_minute_seconds = Float(
        60.0, min=1.0,
        help="How long a minute of a practice clock lasts, in seconds (the practice app; never an exam's clock). "
             "Always 60 for candidates; shorter, a practice clock runs out sooner, for a walkthrough or a "
             "test of the time-up screen.").tag(config=True)

    # -- wrong access codes (recorded in the database, so every server process shares them) ----------
    max_wrong_codes_per_source = Int(
        5, help="Wrong access codes from one computer (source address), within wrong_code_window_minutes, "
                "before that computer is locked out.").tag(config=True)
    wrong_code_window_minutes = Float(15.0,
                                      help="The window in which wrong codes of one source add up.").tag(config=True)
    lockout_minutes = Float(
        30.0, help="How long a locked-out source stays locked, unless a proctor lifts it sooner "
                   "(exam-builder sitting unlock, or the dashboard).").tag(config=True)
    max_wrong_codes_per_minute = Int(
        30, help="Wrong codes from all sources together in the last minute; above it every sign-in is refused "
                 "until the minute has passed.").tag(config=True)

    # -- a sitting's journal ---------------------------------------------------------------------
    max_journal_rows = Int(5000, help="Most saved changes (answers and flags) one sitting may have.").tag(config=True)
    max_saves_per_minute = Int(120, help="Most saved changes of one sitting in any minute.").tag(config=True)
