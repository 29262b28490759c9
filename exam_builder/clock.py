"""Times as people read them: the room's wall clock, always saying which zone.

The contract: every time the program stores is naive UTC, taken from the one clock here,
``utcnow`` (``records.models.utcnow`` is the same function; a ``DeliverySession`` takes it as its
injectable ``clock``, and ``records.events.record_event`` stamps events with it); every
time it shows a person (candidate screens, the proctor's view, ``attempts``, ``audit log``,
the reports, seat cards) goes through ``shown`` or ``wall`` here, in the room's time zone
(``c.DeliverySettings.timezone``, an IANA name, ``Course.zone``) and with the zone's name
beside it (``10:04 EST``), so a coordinator in another zone never misreads one. On the screens
of a room (the candidate's and the proctor's) a time is ``said``: one form, 12-hour with AM/PM as
the program's documents write it (``1:58 AM EST``), with its day when that is not today.
A date is the room's too: the day of a stored time is ``date_of`` (a sitting started at 22:30
in Boston was taken that evening, not on the next UTC day), and the date now is ``today``; no
other code takes ``.date()`` of a stored time or asks ``date.today()`` (the server's zone),
so a waiting period, a day count or an approval date is counted on the calendar the room uses.
A name that is not a time zone falls back to UTC for display (a typo must not stop an exam
day) and is an error only where the setting is checked (``zone(name, strict=True)``).

The lowest layer: nothing here imports the rest of the program but ``errors``.
"""
from __future__ import annotations

import datetime as dt
import re
from datetime import timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ExamBuilderError

#: The default room zone (``DeliverySettings.timezone``'s default).
DEFAULT_ZONE = "America/New_York"


def utcnow() -> dt.datetime:
    """Now, as naive UTC: the one time source every table, event and app reads."""
    return dt.datetime.now(timezone.utc).replace(tzinfo=None)


def zone(name: str | dt.tzinfo | None, strict: bool = False) -> dt.tzinfo:
    """The time zone named ``name`` (an IANA name); UTC for a name that is none, an error when ``strict``."""
    if isinstance(name, dt.tzinfo):
        return name
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        if strict:
            raise ExamBuilderError(
                f"c.DeliverySettings.timezone = {name!r} is not a time zone; use a name such as "
                "'America/New_York' in nbgrader_config.py") from None
        return timezone.utc


def wall(t: dt.datetime, tz: dt.tzinfo | str | None) -> dt.datetime:
    """A stored time (naive UTC, or aware) as the room's wall clock (aware, in ``tz``)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(zone(tz))


def date_of(t: dt.datetime, tz: dt.tzinfo | str | None) -> dt.date:
    """The room's date of a stored time (naive UTC, or aware): the day a person in the room calls it."""
    return wall(t, tz).date()


def today(tz: dt.tzinfo | str | None, now: dt.datetime | None = None) -> dt.date:
    """The room's date now (or at ``now``, naive UTC): not the server's, not UTC's."""
    return date_of(now or utcnow(), tz)


def shown(t: dt.datetime | None, tz: dt.tzinfo | str | None, *, date: bool = True, seconds: bool = False,
          empty: str = "-") -> str:
    """``2026-12-06 10:04 EST`` (``date=False``: ``10:04 EST``; ``seconds``: ``10:04:09 EST``); ``empty`` for None."""
    if t is None:
        return empty
    lt = wall(t, tz)
    fmt = ("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    return f"{lt.strftime(fmt)} {zone_name(lt)}"


#: A stored time as a value in a record's details: ``2026-12-06 11:59:36.615525`` or ``2026-12-07T05:00:00``.
_STORED = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


def shown_value(value: object, tz: dt.tzinfo | str | None) -> object:
    """A detail of a record as a person reads it: a stored time (naive UTC text) ``shown`` in the
    room's zone with seconds; anything else unchanged (the record itself is never rewritten)."""
    if isinstance(value, str) and _STORED.fullmatch(value.strip()):
        try:
            t = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
        return shown(t, tz, seconds=True)
    return value


def stamp(t: dt.datetime, tz: dt.tzinfo | str | None) -> str:
    """A file name's stamp in the room's wall clock (``20261206T065911``), so a file made at 06:59
    in the room is not named 11:59."""
    return wall(t, tz).strftime("%Y%m%dT%H%M%S")


def zone_name(lt: dt.datetime) -> str:
    """The zone's short name at that moment (``EST``/``EDT``; ``UTC``); a numeric offset when it has none."""
    name = lt.tzname() or ""
    return name if name else lt.strftime("UTC%z")


def now_shown(tz: dt.tzinfo | str | None, **kw) -> str:
    """The time now, ``shown`` (for 'made at' lines)."""
    return shown(utcnow(), tz, **kw)


def clock_12h(t: dt.datetime, tz: dt.tzinfo | str | None = None, *, seconds: bool = False,
              named: bool = True) -> str:
    """``9:00 AM EST``, as people say it (no leading zero), for candidates' and proctors' screens.

    ``t`` naive UTC with ``tz`` the room's zone, or an aware wall-clock time (``tz`` None).
    ``named=False`` leaves the zone out, for the first of two times said together
    (``8:00 AM to 10:30 AM EST``)."""
    lt = wall(t, tz) if tz is not None or t.tzinfo is None else t
    text = lt.strftime("%I:%M:%S %p" if seconds else "%I:%M %p").lstrip("0")
    return f"{text} {zone_name(lt)}" if named else text


def day_text(d: dt.date) -> str:
    """``Tuesday 15 December``."""
    return f"{d:%A} {d.day} {d:%B}"


def said(t: dt.datetime | None, tz: dt.tzinfo | str | None, *, now: dt.datetime | None = None,
         seconds: bool = False, empty: str = "") -> str:
    """A time on a room's screens (the candidate's and the proctor's alike): ``1:58 AM EST``, and
    ``1:58 AM EST on Tuesday 8 December`` when that is not the room's date ``now`` (naive UTC; None:
    the time alone). ``t`` naive UTC; ``empty`` for None."""
    if t is None:
        return empty
    text = clock_12h(t, tz, seconds=seconds)
    if now is not None and date_of(t, tz) != date_of(now, tz):
        text += f" on {day_text(date_of(t, tz))}"
    return text
