"""Business-hours SLA clocks."""
import datetime as dt
from zoneinfo import ZoneInfoNotFoundError

import pytest

from services.conflict.domain.sla import BusinessCalendar

UTC = dt.UTC


@pytest.mark.parametrize("start, hours, due", [
    (dt.datetime(2030, 1, 7, 10, 0, tzinfo=UTC), 16, dt.datetime(2030, 1, 9, 10, 0, tzinfo=UTC)),   # Mon -> Wed
    (dt.datetime(2030, 1, 10, 15, 0, tzinfo=UTC), 16, dt.datetime(2030, 1, 14, 15, 0, tzinfo=UTC)),  # Thu -> Mon
    (dt.datetime(2030, 1, 11, 18, 0, tzinfo=UTC), 8, dt.datetime(2030, 1, 14, 17, 0, tzinfo=UTC)),   # Fri night
    (dt.datetime(2030, 1, 12, 12, 0, tzinfo=UTC), 1, dt.datetime(2030, 1, 14, 10, 0, tzinfo=UTC)),   # Saturday
    (dt.datetime(2030, 1, 7, 6, 0, tzinfo=UTC), 0.5, dt.datetime(2030, 1, 7, 9, 30, tzinfo=UTC)),    # before opening
    (dt.datetime(2030, 1, 7, 16, 0, tzinfo=UTC), 2, dt.datetime(2030, 1, 8, 10, 0, tzinfo=UTC)),     # over the night
])
def test_business_hours_count_only_working_time(start, hours, due):
    assert BusinessCalendar().add_business_hours(start, hours) == due


def test_business_hours_follow_the_configured_timezone():
    berlin = BusinessCalendar(timezone="Europe/Berlin")
    # 07:30 UTC is 08:30 in Berlin in winter: the clock starts at 09:00 Berlin = 08:00 UTC.
    due = berlin.add_business_hours(dt.datetime(2030, 1, 7, 7, 30, tzinfo=UTC), 1)
    assert due == dt.datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def test_a_calendar_needs_sane_hours_and_a_known_zone():
    with pytest.raises(ValueError):
        BusinessCalendar(opens=dt.time(17), closes=dt.time(9))
    with pytest.raises(ValueError):
        BusinessCalendar(workdays=frozenset())
    with pytest.raises(ZoneInfoNotFoundError):
        BusinessCalendar(timezone="Mars/Olympus")
