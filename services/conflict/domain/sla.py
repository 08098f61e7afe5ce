"""Business-hours clocks for case SLAs: one calendar for both services, in shared/business_hours.py."""
from shared.business_hours import WEEKDAYS, BusinessCalendar

__all__ = ["WEEKDAYS", "BusinessCalendar"]
