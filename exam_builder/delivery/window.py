"""A sitting's date and sign-in window, in the exam room's time zone.

The contract: a sitting is for one date (``Sitting.scheduled_on``, the room's calendar) and
may be started only inside its window (``Sitting.opens_at`` to ``closes_at``, naive UTC like
every time in the database). By default the window is the whole of that date in the room's
time zone (``DeliverySettings.timezone``); the proctor moves it (``exam-builder sitting
window``, the dashboard's open now / close now). A sitting already started is not bound by the
window: its clock decides, so a candidate whose computer failed can continue. The messages a
candidate reads here are plain sentences with the room's wall-clock time.
"""
from __future__ import annotations

import datetime as dt
import re
from datetime import timezone

from .. import clock
from ..errors import ExamBuilderError

_HHMM = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")


def room_zone(name: str, strict: bool = False) -> dt.tzinfo:
    """The room's time zone; a typo falls back to UTC for display, and is an error when ``strict`` (``clock.zone``)."""
    return clock.zone(name, strict)


def local(t: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A naive UTC time as the room's wall clock (``clock.wall``)."""
    return clock.wall(t, zone)


def local_today(now: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The room's date at the naive UTC time ``now`` (``clock.today``)."""
    return clock.today(zone, now)


def to_utc(day: dt.date, hour: int, minute: int, zone: dt.tzinfo) -> dt.datetime:
    """The room's wall-clock ``day hour:minute`` as naive UTC (24:00 is the end of the day)."""
    if hour == 24 and minute == 0:
        day, hour = day + dt.timedelta(days=1), 0
    wall = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
    return wall.astimezone(timezone.utc).replace(tzinfo=None)


def parse_hhmm(text: str, what: str = "time") -> tuple[int, int]:
    """``"9:00"``, ``"09:30"``, ``"24:00"`` -> (hour, minute); anything else is a plain error."""
    m = _HHMM.match(text or "")
    if m:
        h, mi = int(m.group(1)), int(m.group(2))
        if (0 <= h <= 23 and 0 <= mi <= 59) or (h, mi) == (24, 0):
            return h, mi
    raise ExamBuilderError(f"the {what} {text!r} is not a time of day; write it as HH:MM, e.g. 09:00 or 17:30")


def default_window(day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The whole of ``day`` in the room's time zone, as naive UTC."""
    return to_utc(day, 0, 0, zone), to_utc(day, 24, 0, zone)


def clock_12h(t: dt.datetime) -> str:
    """``9:00 AM EST``, ``12:30 PM EST`` of a wall-clock time (``local``): ``clock.clock_12h``, saying which zone."""
    return clock.clock_12h(t)


def day_text(d: dt.date) -> str:
    """``Tuesday 15 December`` (``clock.day_text``)."""
    return clock.day_text(d)


def when_text(t: dt.datetime, zone: dt.tzinfo) -> str:
    """A naive UTC time as ``9:00 AM on Tuesday 15 December`` in the room's zone."""
    lt = local(t, zone)
    return f"{clock_12h(lt)} on {day_text(lt.date())}"


def window_text(opens: dt.datetime | None, closes: dt.datetime | None, zone: dt.tzinfo) -> str:
    """The window for staff: ``9:00 AM to 5:00 PM on Tuesday 15 December`` (or both ends in full)."""
    if opens is None or closes is None:
        return "no window"
    lo, lc = local(opens, zone), local(closes, zone)
    if lo.date() == lc.date():
        both = lo.utcoffset() == lc.utcoffset()  # one zone name for both, unless the clocks change between
        return f"{clock.clock_12h(lo, named=not both)} to {clock_12h(lc)} on {day_text(lo.date())}"
    if lo.time() == dt.time(0) and lc.time() == dt.time(0) and lc.date() - lo.date() == dt.timedelta(days=1):
        return f"all day on {day_text(lo.date())} ({clock.zone_name(lo)})"
    return f"{when_text(opens, zone)} to {when_text(closes, zone)}"


def refusal(opens: dt.datetime | None, closes: dt.datetime | None, now: dt.datetime,
            zone: dt.tzinfo) -> tuple[str, str] | None:
    """Why a sitting may not be started at ``now``: (tag, sentence for the candidate), or None."""
    if opens is None or closes is None:
        return "no window", "This access code is not ready to use yet. Please ask the proctor."
    if now < opens:
        lo = local(opens, zone)
        when = f"on {day_text(lo.date())}" if lo.time() == dt.time(0) else when_text(opens, zone)
        return "before the window", f"This exam opens {'at ' if lo.time() != dt.time(0) else ''}{when}. " \
                                    "Please wait for the proctor."
    if now >= closes:
        lc = local(closes, zone)
        if lc.time() == dt.time(0):
            return "after the window", (f"This exam was for {day_text(lc.date() - dt.timedelta(days=1))}; it can "
                                        "no longer be started. Please ask the proctor.")
        return "after the window", f"This exam closed at {when_text(closes, zone)}. Please ask the proctor."
    return None
