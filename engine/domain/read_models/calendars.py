"""Read models: calendars."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class ClosedDay(TypedDict):
    day: str
    reason: str | None
    estimated: bool


class OverrideDay(TypedDict):
    day: str
    kind: str
    reason: str


class DayHours(TypedDict):
    weekday: int  # 0 = Monday
    opens: str
    closes: str


class CalendarWarning(TypedDict):
    """Something a deadline on this calendar may not yet account for."""

    code: str  # "cuti-bersama-unknown"
    year: int
    message: dict[str, str]  # {"id", "en"}


class CalendarView(TypedDict):
    region: str
    year: int
    timezone: str
    working_days: list[int]
    opens: str
    closes: str
    day_hours: list[DayHours]
    warnings: list[CalendarWarning]
    closed_days: list[ClosedDay]
    overrides: list[OverrideDay]


DueTime = TypedDict(
    "DueTime",
    {
        "region": str,
        "from": datetime,
        "sla": str,
        "clock_start": datetime,
        "due_at": datetime,
        "due_local": str,
        "working_minutes": int,
        "warnings": list[CalendarWarning],
    },
)
