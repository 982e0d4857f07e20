"""Office hours per weekday and a working Saturday (issue #15 item 6), on plain values."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from engine.domain.calendar import CalendarSettings, WorkingCalendar
from engine.domain.calendar_holidays import cuti_bersama_known

WIB = timezone(timedelta(hours=7))
FRIDAY = 4
# Perpres 21/2023: 07:30 start, a 90-minute Friday break instead of 60, so Friday closes later.
PERPRES = CalendarSettings(day_hours=((FRIDAY, time(7, 30), time(16, 30)),))
PLAIN = CalendarSettings()


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB)  # 2 March 2026 is a Monday


def test_friday_keeps_its_own_closing_time() -> None:
    perpres, plain = WorkingCalendar(PERPRES), WorkingCalendar(PLAIN)
    assert perpres.due(wib(6, 10), "P0D") == wib(6, 16, 30)
    assert plain.due(wib(6, 10), "P0D") == wib(6, 16)
    assert perpres.due(wib(5, 10), "P1D") == wib(6, 16, 30)  # Thu + 1 day = Friday's closing
    assert perpres.due(wib(6, 10), "P1D") == wib(9, 16)  # Fri + 1 day = Monday's closing
    # Thu 15:00 + 10 office hours: 1 h on Thursday, 9 h on Friday (07:30-16:30): due at its
    # closing; with 16:00 on Friday the last half hour runs into Monday.
    assert perpres.due(wib(5, 15), "PT10H") == wib(6, 16, 30)
    assert plain.due(wib(5, 15), "PT10H") == wib(9, 8)
    assert perpres.clock_start(wib(6, 16, 15)) == wib(6, 16, 15)
    assert plain.clock_start(wib(6, 16, 15)) == wib(9, 7, 30)
    assert perpres.hours(wib(6, 0).date()) == (time(7, 30), time(16, 30))
    assert perpres.hours(wib(5, 0).date()) == (time(7, 30), time(16))


def test_working_minutes_count_each_day_at_its_own_length() -> None:
    perpres = WorkingCalendar(PERPRES)
    week = perpres.working_minutes_between(wib(2, 7, 30), wib(9, 7, 30))
    assert week == 4 * 510 + 540
    # Across years too (the per-year tables): 2025-12-29 (Mon) to 2026-01-05 (Mon) holds
    # Mon, Tue, Wed (31 Dec) and Fri 2 Jan; 1 Jan is a holiday. Friday is 540 minutes.
    start = datetime(2025, 12, 29, 7, 30, tzinfo=WIB)
    end = datetime(2026, 1, 5, 7, 30, tzinfo=WIB)
    assert perpres.working_minutes_between(start, end) == 3 * 510 + 540
    assert perpres.working_minutes_between(end, start) == -(3 * 510 + 540)


@pytest.mark.parametrize("minutes", [1, 29, 509, 510, 511, 1049, 1050, 2580, 10_000])
@pytest.mark.parametrize("start", [wib(5, 15), wib(6, 16, 10), wib(7, 9), wib(2, 7, 30)])
def test_adding_and_measuring_office_minutes_agree(start: datetime, minutes: int) -> None:
    for settings in (PERPRES, SATURDAYS):
        calendar = WorkingCalendar(settings)
        end = calendar.add_working_minutes(start, minutes)
        assert calendar.working_minutes_between(calendar.clock_start(start), end) == minutes


SATURDAYS = CalendarSettings(
    working_days=frozenset({0, 1, 2, 3, 4, 5}),
    day_hours=((FRIDAY, time(7, 30), time(16, 30)), (5, time(8), time(12))),
)


def test_a_region_working_saturdays_counts_them_with_their_hours() -> None:
    calendar = WorkingCalendar(SATURDAYS)
    assert calendar.is_working_day(wib(7, 0).date())  # Saturday 7 March 2026
    assert calendar.due(wib(6, 10), "P1D") == wib(7, 12)  # Friday + 1 day = Saturday 12:00
    assert calendar.due(wib(7, 11), "PT2H") == wib(9, 8, 30)  # 1 h Saturday, 1 h Monday
    assert not WorkingCalendar(PERPRES).is_working_day(wib(7, 0).date())


@pytest.mark.parametrize(("day_hours", "needle"), [
    (((7, time(8), time(12)),), "weekday"),
    (((4, time(8), time(12)), (4, time(9), time(12))), "at most once"),
    (((4, time(12), time(8)),), "opening before closing"),
])
def test_day_hours_are_checked(day_hours, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        CalendarSettings(day_hours=day_hours)


def test_the_calendar_knows_which_years_have_their_cuti_bersama() -> None:
    """permit-domain §3.2: the package has the SKB of 2026 and 2027, none yet for 2028."""
    assert cuti_bersama_known(2026) and cuti_bersama_known(2027)
    assert not cuti_bersama_known(2028)
