"""The region working-day calendar (DESIGN §3).

Every expected value is written out by hand from the 2026/2027 calendars (SKB 3 Menteri as the
`holidays` package 0.109 lists them), never computed by the code under test. Local times are in
the region's zone; UTC values follow from WIB = UTC+7, WITA = UTC+8, WIT = UTC+9.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.domain.calendar import (
    CalendarOverride,
    CalendarSettings,
    DayInfo,
    WorkingCalendar,
)
from engine.domain.durations import SlaDuration

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def calendar(**settings) -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings(**settings))


JAKARTA = calendar()


# -- DESIGN §3 examples (week of Mon 6 Jul 2026 has no holiday) --------------------------------


def test_design_example_p1d_ready_monday_morning_due_tuesday_closing():
    due = JAKARTA.due(wib(2026, 7, 6, 10), "P1D")
    assert due == utc(2026, 7, 7, 9)  # Tue 16:00 WIB
    assert due.tzinfo is UTC


def test_design_example_pt4h_ready_monday_afternoon_due_tuesday_1030():
    # 1 h on Monday (15:00-16:00), 3 h on Tuesday from 07:30.
    assert JAKARTA.due(wib(2026, 7, 6, 15), "PT4H") == utc(2026, 7, 7, 3, 30)  # 10:30 WIB


def test_p0d_is_due_at_closing_of_the_start_day():
    assert JAKARTA.due(wib(2026, 7, 6, 10), "P0D") == utc(2026, 7, 6, 9)


def test_parsed_duration_accepted_like_text():
    assert JAKARTA.due(wib(2026, 7, 6, 10), SlaDuration(days=1)) == utc(2026, 7, 7, 9)
    assert JAKARTA.due(wib(2026, 7, 6, 15), SlaDuration(minutes=240)) == utc(2026, 7, 7, 3, 30)


def test_malformed_sla_refused():
    with pytest.raises(ValueError, match="not a working-time duration"):
        JAKARTA.due(wib(2026, 7, 6, 10), "P1M")


# -- boundaries --------------------------------------------------------------------------------


def test_ready_exactly_at_opening_starts_then():
    assert JAKARTA.clock_start(wib(2026, 7, 6, 7, 30)) == utc(2026, 7, 6, 0, 30)
    assert JAKARTA.clock_start(wib(2026, 7, 6, 6)) == utc(2026, 7, 6, 0, 30)  # early: opening
    assert JAKARTA.due(wib(2026, 7, 6, 7, 30), "PT1H") == utc(2026, 7, 6, 1, 30)


def test_ready_exactly_at_closing_starts_next_opening():
    assert JAKARTA.clock_start(wib(2026, 7, 6, 16)) == utc(2026, 7, 7, 0, 30)  # Tue 07:30
    assert JAKARTA.due(wib(2026, 7, 6, 16), "P0D") == utc(2026, 7, 7, 9)
    assert JAKARTA.due(wib(2026, 7, 6, 16), "P1D") == utc(2026, 7, 8, 9)


def test_ready_a_second_before_closing_is_inside_office_hours():
    moment = datetime(2026, 7, 6, 15, 59, 59, tzinfo=WIB)
    assert JAKARTA.clock_start(moment) == datetime(2026, 7, 6, 8, 59, 59, tzinfo=UTC)
    assert JAKARTA.due(moment, "P1D") == utc(2026, 7, 7, 9)


def test_hour_sla_ending_exactly_at_closing_is_due_at_closing():
    assert JAKARTA.due(wib(2026, 7, 6, 12), "PT4H") == utc(2026, 7, 6, 9)  # Mon 16:00
    assert JAKARTA.due(wib(2026, 7, 6, 7, 30), "PT8H30M") == utc(2026, 7, 6, 9)


def test_start_after_closing_time():
    # Mon 17:00 -> clock starts Tue 07:30, d0 = Tue, due Wed 16:00.
    assert JAKARTA.clock_start(wib(2026, 7, 6, 17)) == utc(2026, 7, 7, 0, 30)
    assert JAKARTA.due(wib(2026, 7, 6, 17), "P1D") == utc(2026, 7, 8, 9)
    assert JAKARTA.due(wib(2026, 7, 6, 17), "PT2H") == utc(2026, 7, 7, 2, 30)  # Tue 09:30


def test_start_on_a_sunday():
    # Sun 5 Jul 2026 11:00 -> clock starts Mon 6 Jul 07:30, due Tue 16:00.
    assert JAKARTA.clock_start(wib(2026, 7, 5, 11)) == utc(2026, 7, 6, 0, 30)
    assert JAKARTA.due(wib(2026, 7, 5, 11), "P1D") == utc(2026, 7, 7, 9)


def test_hour_sla_crossing_days():
    # Mon 08:00 + 10 h: 8 h to Monday 16:00, 2 h from Tuesday 07:30.
    assert JAKARTA.due(wib(2026, 7, 6, 8), "PT10H") == utc(2026, 7, 7, 2, 30)  # Tue 09:30
    assert JAKARTA.due(wib(2026, 7, 6, 15, 50), "PT30M") == utc(2026, 7, 7, 0, 50)  # Tue 07:50


def test_hour_sla_crossing_a_weekend():
    # Fri 10 Jul 14:00 + 4 h: 2 h on Friday, 2 h on Mon 13 Jul from 07:30.
    assert JAKARTA.due(wib(2026, 7, 10, 14), "PT4H") == utc(2026, 7, 13, 2, 30)  # Mon 09:30


# -- 2026 holidays and cuti bersama --------------------------------------------------------------


def test_eid_al_fitr_2026_block_is_jumped_over():
    # Closed: Wed 18 (cuti Nyepi), Thu 19 (Nyepi), Fri 20 (cuti), Sat 21 + Sun 22 (Idul Fitri),
    # Mon 23 + Tue 24 (cuti). Next working day after Tue 17 Mar is Wed 25 Mar.
    assert JAKARTA.due(wib(2026, 3, 17, 10), "P1D") == utc(2026, 3, 25, 9)
    assert JAKARTA.due(wib(2026, 3, 17, 10), "P3D") == utc(2026, 3, 27, 9)  # Fri 27 Mar


def test_eid_al_fitr_2026_ready_inside_the_block():
    assert JAKARTA.clock_start(wib(2026, 3, 20, 9)) == utc(2026, 3, 25, 0, 30)
    assert JAKARTA.due(wib(2026, 3, 20, 9), "P0D") == utc(2026, 3, 25, 9)


def test_eid_al_fitr_2026_hour_sla():
    # Tue 17 Mar 15:00 + 2 h: 1 h on Tuesday, 1 h from Wed 25 Mar 07:30.
    assert JAKARTA.due(wib(2026, 3, 17, 15), "PT2H") == utc(2026, 3, 25, 1, 30)  # 08:30


def test_fourteen_working_days_from_16_march_2026():
    # permit-domain §3.2: 17 Mar, 25-27 Mar, 30 Mar-2 Apr, (Good Friday 3 Apr), 6-10 Apr, 13 Apr.
    assert JAKARTA.due(wib(2026, 3, 16, 9), "P14D") == utc(2026, 4, 13, 9)


def test_eid_al_fitr_2026_day_infos():
    assert JAKARTA.day_info(date(2026, 3, 21)) == DayInfo(
        date(2026, 3, 21), False, "Hari Raya Idul Fitri"
    )
    assert JAKARTA.day_info(date(2026, 3, 23)) == DayInfo(
        date(2026, 3, 23), False, "Cuti Bersama Hari Raya Idul Fitri"
    )
    assert JAKARTA.day_info(date(2026, 3, 25)) == DayInfo(date(2026, 3, 25), True, None)


def test_christmas_2026_with_cuti_bersama():
    # Thu 24 Dec cuti bersama, Fri 25 Dec Natal, weekend -> Mon 28 Dec.
    assert JAKARTA.due(wib(2026, 12, 23, 14), "P1D") == utc(2026, 12, 28, 9)
    assert JAKARTA.day_info(date(2026, 12, 24)).reason == "Cuti Bersama Hari Raya Natal"
    assert JAKARTA.day_info(date(2026, 12, 25)).reason == "Hari Raya Natal"


def test_nyepi_2026_in_bali():
    bali = calendar(timezone="Asia/Makassar")
    assert bali.day_info(date(2026, 3, 19)) == DayInfo(date(2026, 3, 19), False, "Hari Suci Nyepi")
    assert bali.day_info(date(2026, 3, 18)).reason == "Cuti Bersama Hari Suci Nyepi"
    # Tue 17 Mar 10:00 WITA, P1D -> Wed 25 Mar 16:00 WITA = 08:00 UTC.
    ready = datetime(2026, 3, 17, 10, tzinfo=WITA)
    assert bali.due(ready, "P1D") == utc(2026, 3, 25, 8)


def test_year_boundary():
    # Thu 31 Dec 2026 afternoon, d0 = 31 Dec. Fri 1 Jan 2027 Tahun Baru, weekend,
    # Mon 4 Jan (1), Tue 5 Jan Isra Mikraj, Wed 6 Jan (2).
    assert JAKARTA.due(wib(2026, 12, 31, 14), "P2D") == utc(2027, 1, 6, 9)


def test_weekend_reasons():
    assert JAKARTA.day_info(date(2026, 7, 11)) == DayInfo(date(2026, 7, 11), False, "Sabtu")
    assert JAKARTA.day_info(date(2026, 7, 12)) == DayInfo(date(2026, 7, 12), False, "Minggu")
    assert JAKARTA.is_working_day(date(2026, 7, 10)) is True
    assert JAKARTA.is_working_day(date(2026, 7, 11)) is False


def test_closed_days_2026():
    assert [(info.day, info.reason) for info in JAKARTA.closed_days(2026)] == [
        (date(2026, 1, 1), "Tahun Baru Masehi"),
        (date(2026, 1, 16), "Isra Mikraj Nabi Muhammad"),
        (date(2026, 2, 16), "Cuti Bersama Tahun Baru Imlek"),
        (date(2026, 2, 17), "Tahun Baru Imlek"),
        (date(2026, 3, 18), "Cuti Bersama Hari Suci Nyepi"),
        (date(2026, 3, 19), "Hari Suci Nyepi"),
        (date(2026, 3, 20), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 3, 21), "Hari Raya Idul Fitri"),
        (date(2026, 3, 22), "Hari kedua dari Hari Raya Idul Fitri"),
        (date(2026, 3, 23), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 3, 24), "Cuti Bersama Hari Raya Idul Fitri"),
        (date(2026, 4, 3), "Wafat Yesus Kristus"),
        (date(2026, 4, 5), "Kebangkitan Yesus Kristus"),
        (date(2026, 5, 1), "Hari Buruh Internasional"),
        (date(2026, 5, 14), "Kenaikan Yesus Kristus"),
        (date(2026, 5, 15), "Cuti Bersama Kenaikan Yesus Kristus"),
        (date(2026, 5, 27), "Hari Raya Idul Adha"),
        (date(2026, 5, 28), "Cuti Bersama Hari Raya Idul Adha"),
        (date(2026, 5, 31), "Hari Raya Waisak"),
        (date(2026, 6, 1), "Hari Lahir Pancasila"),
        (date(2026, 6, 16), "Tahun Baru Islam"),
        (date(2026, 8, 17), "Hari Kemerdekaan Republik Indonesia"),
        (date(2026, 8, 25), "Maulid Nabi Muhammad"),
        (date(2026, 12, 24), "Cuti Bersama Hari Raya Natal"),
        (date(2026, 12, 25), "Hari Raya Natal"),
    ]
    assert not any(info.estimated for info in JAKARTA.closed_days(2026))


def test_estimated_islamic_dates_are_flagged():
    # No decree exists for 2090: the package computes the date and says so.
    info = JAKARTA.day_info(date(2090, 4, 2))
    assert info == DayInfo(date(2090, 4, 2), False, "Hari Raya Idul Fitri (perkiraan)", True)


# -- time zones --------------------------------------------------------------------------------


def test_same_wall_time_in_three_zones_gives_three_utc_due_times():
    for zone, closing_utc_hour in (("Asia/Jakarta", 9), ("Asia/Makassar", 8), ("Asia/Jayapura", 7)):
        ready = datetime(2026, 7, 6, 10, tzinfo=ZoneInfo(zone))
        assert calendar(timezone=zone).due(ready, "P1D") == utc(2026, 7, 7, closing_utc_hour)


def test_jayapura_opening_is_previous_day_in_utc():
    papua = calendar(timezone="Asia/Jayapura")
    # Mon 6 Jul 05:00 WIT (Sun 20:00 UTC) -> clock starts Mon 07:30 WIT = Sun 22:30 UTC.
    assert papua.clock_start(utc(2026, 7, 5, 20)) == utc(2026, 7, 5, 22, 30)
    assert papua.clock_start(datetime(2026, 7, 6, 7, 30, tzinfo=WIT)) == utc(2026, 7, 5, 22, 30)


def test_one_instant_is_inside_hours_in_wib_only():
    # Mon 6 Jul 08:30 UTC = 15:30 WIB, 16:30 WITA, 17:30 WIT.
    moment = utc(2026, 7, 6, 8, 30)
    assert calendar(timezone="Asia/Jakarta").clock_start(moment) == utc(2026, 7, 6, 8, 30)
    assert calendar(timezone="Asia/Makassar").clock_start(moment) == utc(2026, 7, 6, 23, 30)
    assert calendar(timezone="Asia/Jayapura").clock_start(moment) == utc(2026, 7, 6, 22, 30)


# -- region overrides --------------------------------------------------------------------------

ANNIVERSARY = CalendarOverride(date(2026, 7, 7), "closed", "Hari Jadi Kabupaten")


def test_closed_override_added_then_removed():
    with_closure = calendar(overrides=(ANNIVERSARY,))
    without_closure = calendar()
    assert with_closure.due(wib(2026, 7, 6, 10), "P1D") == utc(2026, 7, 8, 9)  # Wed 16:00
    assert without_closure.due(wib(2026, 7, 6, 10), "P1D") == utc(2026, 7, 7, 9)  # Tue 16:00
    assert with_closure.day_info(date(2026, 7, 7)) == DayInfo(
        date(2026, 7, 7), False, "Hari Jadi Kabupaten"
    )


def test_open_override_on_a_public_holiday():
    open_may_day = CalendarOverride(date(2026, 5, 1), "open", "Loket MPP tetap buka")
    # Thu 30 Apr 10:00, P1D: Fri 1 May Hari Buruh closed -> Mon 4 May; opened -> Fri 1 May.
    assert JAKARTA.due(wib(2026, 4, 30, 10), "P1D") == utc(2026, 5, 4, 9)
    opened = calendar(overrides=(open_may_day,))
    assert opened.due(wib(2026, 4, 30, 10), "P1D") == utc(2026, 5, 1, 9)
    assert opened.day_info(date(2026, 5, 1)) == DayInfo(
        date(2026, 5, 1), True, "Loket MPP tetap buka"
    )


def test_open_override_on_cuti_bersama():
    opened = calendar(overrides=(CalendarOverride(date(2026, 3, 18), "open", "Layanan langsung"),))
    assert opened.due(wib(2026, 3, 17, 10), "P1D") == utc(2026, 3, 18, 9)  # Wed 18 Mar
    assert opened.due(wib(2026, 3, 17, 10), "P2D") == utc(2026, 3, 25, 9)  # then Wed 25 Mar


def test_open_override_on_a_saturday_hari_kerja_pengganti():
    opened = calendar(
        overrides=(CalendarOverride(date(2026, 7, 11), "open", "Hari kerja pengganti"),)
    )
    assert opened.due(wib(2026, 7, 10, 10), "P1D") == utc(2026, 7, 11, 9)  # Sat 16:00


def test_closed_days_follow_overrides():
    days = calendar(
        overrides=(ANNIVERSARY, CalendarOverride(date(2026, 5, 1), "open", "Loket MPP buka"))
    ).closed_days(2026)
    listed = [info.day for info in days]
    assert DayInfo(date(2026, 7, 7), False, "Hari Jadi Kabupaten") in days
    assert date(2026, 5, 1) not in listed
    assert len(days) == 25


# -- working time ------------------------------------------------------------------------------


def test_working_minutes_within_a_day():
    assert JAKARTA.working_minutes_between(wib(2026, 7, 6, 8), wib(2026, 7, 6, 10, 15)) == 135


def test_working_minutes_across_a_night():
    # Mon 15:00-16:00 and Tue 07:30-08:30; the same instants written in UTC count the same.
    assert JAKARTA.working_minutes_between(wib(2026, 7, 6, 15), wib(2026, 7, 7, 8, 30)) == 120
    assert JAKARTA.working_minutes_between(utc(2026, 7, 6, 8), utc(2026, 7, 7, 1, 30)) == 120


def test_working_minutes_across_a_weekend():
    # Fri 15:00-16:00 and Mon 07:30-08:00.
    assert JAKARTA.working_minutes_between(wib(2026, 7, 10, 15), wib(2026, 7, 13, 8)) == 90


def test_working_minutes_across_the_eid_block():
    # Tue 17 Mar 15:00-16:00 and Wed 25 Mar 07:30-08:00.
    assert JAKARTA.working_minutes_between(wib(2026, 3, 17, 15), wib(2026, 3, 25, 8)) == 90


def test_working_minutes_of_a_full_week():
    assert JAKARTA.working_minutes_between(wib(2026, 7, 5, 0), wib(2026, 7, 12, 0)) == 2550


def test_working_minutes_outside_hours_and_reversed():
    assert JAKARTA.working_minutes_between(wib(2026, 7, 6, 17), wib(2026, 7, 7, 7)) == 0
    assert JAKARTA.working_minutes_between(wib(2026, 7, 7, 8, 30), wib(2026, 7, 6, 15)) == -120


def test_working_minutes_truncate_seconds():
    start = wib(2026, 7, 6, 8)
    assert JAKARTA.working_minutes_between(start, start.replace(second=59)) == 0


def test_add_working_minutes():
    assert JAKARTA.add_working_minutes(wib(2026, 7, 10, 15), 90) == utc(2026, 7, 13, 1)  # 08:00
    assert JAKARTA.add_working_minutes(wib(2026, 7, 11, 9), 0) == utc(2026, 7, 13, 0, 30)
    with pytest.raises(ValueError, match="negative"):
        JAKARTA.add_working_minutes(wib(2026, 7, 10, 15), -1)


# -- custom office hours and working weeks -------------------------------------------------------


def test_custom_office_hours():
    short = calendar(opens=time(8), closes=time(15))
    assert short.clock_start(wib(2026, 7, 6, 7, 45)) == utc(2026, 7, 6, 1)  # 08:00
    assert short.due(wib(2026, 7, 6, 10), "P1D") == utc(2026, 7, 7, 8)  # Tue 15:00
    # Mon 14:00 + 2 h: 1 h to 15:00, 1 h from Tue 08:00.
    assert short.due(wib(2026, 7, 6, 14), "PT2H") == utc(2026, 7, 7, 2)  # Tue 09:00
    assert short.clock_start(wib(2026, 7, 6, 15)) == utc(2026, 7, 7, 1)
    assert short.working_minutes_between(wib(2026, 7, 6, 0), wib(2026, 7, 7, 0)) == 420


def test_six_day_week():
    six_days = calendar(working_days=frozenset({0, 1, 2, 3, 4, 5}))
    assert six_days.due(wib(2026, 7, 10, 10), "P1D") == utc(2026, 7, 11, 9)  # Sat 16:00
    # Fri 15:00 + 4 h: 1 h on Friday, 3 h on Saturday from 07:30.
    assert six_days.due(wib(2026, 7, 10, 15), "PT4H") == utc(2026, 7, 11, 3, 30)  # Sat 10:30
    assert six_days.due(wib(2026, 7, 11, 10), "P1D") == utc(2026, 7, 13, 9)  # Sun off -> Mon
    # A holiday on a Saturday stays closed.
    assert six_days.day_info(date(2026, 3, 21)).reason == "Hari Raya Idul Fitri"
    assert six_days.is_working_day(date(2026, 3, 21)) is False


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: JAKARTA.clock_start(datetime(2026, 7, 6, 10)),
        lambda: JAKARTA.due(datetime(2026, 7, 6, 10), "P1D"),
        lambda: JAKARTA.add_working_minutes(datetime(2026, 7, 6, 10), 60),
        lambda: JAKARTA.working_minutes_between(datetime(2026, 7, 6, 10), wib(2026, 7, 7, 10)),
        lambda: JAKARTA.working_minutes_between(wib(2026, 7, 6, 10), datetime(2026, 7, 7, 10)),
    ],
)
def test_naive_datetime_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timezone": "Asia/Atlantis"}, "unknown time zone"),
        ({"working_days": frozenset()}, "working days"),
        ({"working_days": frozenset({7})}, "working days"),
        ({"opens": time(16), "closes": time(7, 30)}, "office hours"),
        ({"opens": time(8), "closes": time(8)}, "office hours"),
        ({"overrides": (ANNIVERSARY, ANNIVERSARY)}, "more than one calendar override"),
    ],
)
def test_invalid_settings_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        CalendarSettings(**settings)


def test_invalid_override_refused():
    with pytest.raises(ValueError, match="kind"):
        CalendarOverride(date(2026, 7, 7), "half-day", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a date"):
        CalendarOverride(datetime(2026, 7, 7), "closed", "x")


def test_working_minutes_match_a_day_by_day_count_on_random_spans() -> None:
    """The prefix-sum path against the plain definition, across years, overrides and zones."""
    import random

    calendar = WorkingCalendar(CalendarSettings(timezone="Asia/Makassar", overrides=(
        CalendarOverride(date(2026, 3, 21), "open", "hari kerja pengganti"),
        CalendarOverride(date(2026, 6, 2), "closed", "banjir"),
    )))

    def by_day(start: datetime, end: datetime) -> int:
        local_start, local_end = start.astimezone(calendar.tz), end.astimezone(calendar.tz)
        if local_end < local_start:
            return -by_day(end, start)
        worked, day = timedelta(), local_start.date()
        while day <= local_end.date():
            if calendar.is_working_day(day):
                opens = datetime.combine(day, calendar.settings.opens, tzinfo=calendar.tz)
                closes = datetime.combine(day, calendar.settings.closes, tzinfo=calendar.tz)
                worked += max(min(local_end, closes) - max(local_start, opens), timedelta())
            day += timedelta(days=1)
        return worked // timedelta(minutes=1)

    rng = random.Random(20261128)
    base = datetime(2025, 6, 1, tzinfo=UTC)
    for _ in range(500):
        start = base + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        end = start + timedelta(minutes=rng.randrange(-800 * 24 * 60, 800 * 24 * 60))
        assert calendar.working_minutes_between(start, end) == by_day(start, end), (start, end)
