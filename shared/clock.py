"""UTC time as every service stores and sends it: aware datetimes inside, ISO 8601 with a Z outside.

Standard library only, so domain models may use it.
"""
from __future__ import annotations

import datetime as dt
from typing import overload


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@overload
def iso(moment: dt.datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: dt.datetime | None) -> str | None: ...
def iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


@overload
def parse_iso(text: str) -> dt.datetime: ...  # stored and validated documents never hold ""
@overload
def parse_iso(text: None) -> None: ...
@overload
def parse_iso(text: str | None) -> dt.datetime | None: ...
def parse_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
