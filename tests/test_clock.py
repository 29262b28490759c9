"""Times shown to people: the room's zone, named (``exam_builder.clock``), and one place that formats them."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from exam_builder import clock
from exam_builder.errors import ExamBuilderError

PACKAGE = Path(__file__).resolve().parents[1] / "exam_builder"
WINTER = dt.datetime(2026, 12, 15, 15, 4, 9)  # naive UTC, as stored
SUMMER = dt.datetime(2026, 7, 1, 15, 4, 9)


def test_times_are_the_rooms_wall_clock_and_say_which_zone():
    assert clock.shown(WINTER, "America/New_York") == "2026-12-15 10:04 EST"
    assert clock.shown(SUMMER, "America/New_York") == "2026-07-01 11:04 EDT"
    assert clock.shown(WINTER, "America/Los_Angeles", date=False, seconds=True) == "07:04:09 PST"
    assert clock.shown(WINTER, "Asia/Kolkata") == "2026-12-15 20:34 IST"
    assert clock.shown(None, "America/New_York") == "-"
    assert clock.clock_12h(WINTER, "America/New_York") == "10:04 AM EST"
    assert clock.clock_12h(WINTER, "America/New_York", seconds=True) == "10:04:09 AM EST"
    assert clock.clock_12h(WINTER, "America/New_York", named=False) == "10:04 AM"


def test_a_room_screen_says_a_time_one_way_with_its_day_when_not_today():
    """``said``: the candidate's and the proctor's screens' one form (12-hour, AM/PM, the zone), and the
    day when the time is not on the room's date now (an end time past midnight)."""
    assert clock.said(WINTER, "America/New_York") == "10:04 AM EST"
    assert clock.said(WINTER, "America/New_York", seconds=True) == "10:04:09 AM EST"
    assert clock.said(WINTER, "America/New_York", now=WINTER + dt.timedelta(hours=8)) == "10:04 AM EST"
    after_midnight = dt.datetime(2026, 12, 16, 6, 58)  # 1:58 AM EST on the 16th; still the 15th in the room at 11 PM
    assert clock.said(after_midnight, "America/New_York", now=dt.datetime(2026, 12, 16, 4, 0)) == (
        "1:58 AM EST on Wednesday 16 December")
    assert clock.said(None, "America/New_York") == ""


def test_a_zone_that_is_none_reads_as_utc_and_is_an_error_where_the_setting_is_checked():
    assert clock.shown(WINTER, "Not/AZone") == "2026-12-15 15:04 UTC"  # a typo never stops an exam day
    with pytest.raises(ExamBuilderError, match="c.DeliverySettings.timezone = 'Not/AZone' is not a time zone"):
        clock.zone("Not/AZone", strict=True)


FORMATTING = re.compile(r"strftime\([^)]*%[HIMSpZ]|\.tzname\(\)|%Z")
#: Formats that are not shown to a person as a time: a file name's stamp, nbgrader's exchange format.
NOT_SHOWN = ("%Y%m%dT%H%M%S", "TIMESTAMP_FORMAT")


def test_every_time_of_day_is_formatted_in_clock_only():
    """A time formatted anywhere else would be shown without the room's zone (or in the server's)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "clock.py" and path.parent == PACKAGE:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FORMATTING.search(line) and not any(ok in line for ok in NOT_SHOWN):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
    assert not offenders, "format times with exam_builder.clock:\n" + "\n".join(offenders)


#: A date taken from a stored time or from "now" anywhere but ``clock``: the server's calendar or UTC's, so an
#: evening in Boston would be dated tomorrow (a retake day one day late, a day count one too many).
UTC_DATES = re.compile(r"date\.today\(\)|datetime\.now\(\)|_at\)?\.date\(\)|utcnow\(\)\)?\.date\(\)|_at:%Y"
                       r"|\.wall\([^)]*\)\.date\(\)")


def test_every_date_of_a_stored_time_is_the_rooms_and_taken_in_clock_only():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "clock.py" and path.parent == PACKAGE:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if UTC_DATES.search(line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
    assert not offenders, "take dates with clock.date_of / clock.today (the room's calendar):\n" + "\n".join(offenders)


def test_the_rooms_date_in_the_evening_in_boston_and_ahead_of_utc():
    evening = dt.datetime(2026, 12, 7, 3, 30)  # naive UTC: 22:30 EST on Sunday 6 December
    assert clock.date_of(evening, "America/New_York") == dt.date(2026, 12, 6)
    assert clock.today("America/New_York", evening) == dt.date(2026, 12, 6)
    assert clock.date_of(evening, "UTC") == dt.date(2026, 12, 7)
    assert clock.date_of(dt.datetime(2026, 12, 6, 20, 0), "Asia/Kolkata") == dt.date(2026, 12, 7)  # 01:30 IST
    assert clock.date_of(evening.replace(tzinfo=dt.timezone.utc), "America/New_York") == dt.date(2026, 12, 6)


def test_stored_times_inside_a_records_details_are_shown_in_the_rooms_zone():
    """``audit log`` prints each entry's details: a stored time there (naive UTC text, as JSON keeps
    it) reads in the room's zone, named, like the entry's own time; other values are left alone."""
    assert clock.shown_value("2026-12-15 15:04:09.615525", "America/New_York") == "2026-12-15 10:04:09 EST"
    assert clock.shown_value("2026-12-16T05:00:00", "America/New_York") == "2026-12-16 00:00:00 EST"
    for other in ("fire alarm", "2026-12-15", 42, None, "2026-12-15 15:04 and later"):
        assert clock.shown_value(other, "America/New_York") == other


def test_a_file_names_stamp_is_the_rooms_wall_clock():
    assert clock.stamp(WINTER, "America/New_York") == "20261215T100409"


def test_an_all_day_window_names_its_zone():
    from exam_builder.delivery import window

    zone = clock.zone("America/New_York")
    opens = dt.datetime(2026, 12, 15, 5, 0)  # midnight EST, stored as naive UTC
    assert window.window_text(opens, opens + dt.timedelta(days=1), zone) == "all day on Tuesday 15 December (EST)"
