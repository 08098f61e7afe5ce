"""Business-hours clocks: "16 business hours" counts only working hours on working days. Conflict times case SLAs
with it, deals the time a partner has to accept a lead."""
from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclasses.dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "UTC"
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(17, 0)
    workdays: frozenset[int] = frozenset(range(5))  # Monday..Friday as date.weekday()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # fails early on an unknown zone
        if self.closes <= self.opens:
            raise ValueError("business hours must close after they open")
        if not self.workdays:
            raise ValueError("at least one working day is needed")

    @property
    def hours_per_day(self) -> float:
        return (dt.datetime.combine(dt.date.min, self.closes) - dt.datetime.combine(dt.date.min, self.opens)
                ).total_seconds() / 3600

    def add_business_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment `hours` of working time after `start` (a case opened at night starts at opening time)."""
        zone = ZoneInfo(self.timezone)
        local = start.astimezone(zone)
        remaining = dt.timedelta(hours=hours)
        day = local.date()
        cursor = local
        # Each loop consumes the working window of one day; a year of days bounds any sane SLA.
        for _ in range(366 * 2):
            if day.weekday() in self.workdays:
                window_start = dt.datetime.combine(day, self.opens, tzinfo=zone)
                window_end = dt.datetime.combine(day, self.closes, tzinfo=zone)
                begin = max(cursor, window_start)
                if begin < window_end:
                    available = window_end - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(dt.UTC)
                    remaining -= available
            day += dt.timedelta(days=1)
            cursor = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        raise ValueError(f"an SLA of {hours} business hours does not fit in two years")
