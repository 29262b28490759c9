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
