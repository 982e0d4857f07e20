"""The calendar as an office runs it (issue #15 item 6): a region's working week and office
hours per weekday, used by every due time; a warning where a deadline falls in a year whose
cuti bersama are not yet known."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.persistence.tables import EventRecord
from engine.services import applications, calendars, catalog, office_week
from tests.citizen.helpers import WIB
from tests.factories import Clock, make_user

THURSDAY_10 = datetime(2026, 3, 5, 10, 0, tzinfo=WIB)
PERPRES_WEEK = {  # Perpres 21/2023: Friday's longer break, so Friday closes later
    "working_days": [0, 1, 2, 3, 4], "opens": "07:30", "closes": "16:00",
    "day_hours": [{"weekday": 4, "opens": "07:30", "closes": "16:30"}],
}


def test_friday_hours_move_the_due_times_shown_and_to_come(ctx: EngineContext) -> None:
    ctx.clock = Clock(THURSDAY_10)
    started = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    (check,) = started.tasks
    assert check.due_at == datetime(2026, 3, 6, 16, 0, tzinfo=WIB)  # P1D: Friday 16:00

    view = office_week.set_week(ctx, SYSTEM, "3273", PERPRES_WEEK)
    assert view["day_hours"] == PERPRES_WEEK["day_hours"] and view["closes"] == "16:00"

    (check,) = applications.get_application(ctx, SYSTEM, started.id).tasks
    assert check.due_at == datetime(2026, 3, 6, 16, 30, tzinfo=WIB)  # laid out again
    answer = calendars.due_time(ctx, "3273", datetime(2026, 3, 6, 9, 0, tzinfo=WIB), "P0D")
    assert answer["due_at"] == datetime(2026, 3, 6, 16, 30, tzinfo=WIB)
    assert answer["working_minutes"] == 450 and answer["warnings"] == []
    again = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    assert again.tasks[0].due_at == datetime(2026, 3, 6, 16, 30, tzinfo=WIB)

    with ctx.uow() as uow:
        (data,) = uow._session.scalars(
            select(EventRecord.data).where(EventRecord.action == "calendar.week_changed")).all()
    assert data["before"]["day_hours"] == [] and data["after"] == PERPRES_WEEK
    with ctx.uow() as uow:  # the catalogue's working day is the week's mean: (4*510+540)/5
        assert catalog.working_minutes_per_day(uow.repos.regions.get("3273")) == 516
    office_week.set_week(ctx, SYSTEM, "3273", PERPRES_WEEK)  # the same week: no event
    with ctx.uow() as uow:
        assert len(uow._session.scalars(
            select(EventRecord).where(EventRecord.action == "calendar.week_changed")).all()) == 1


def test_a_region_working_saturday_mornings(ctx: EngineContext) -> None:
    week = {"working_days": [0, 1, 2, 3, 4, 5], "opens": "07:30", "closes": "16:00",
            "day_hours": [{"weekday": 5, "opens": "08:00", "closes": "12:00"}]}
    office_week.set_week(ctx, SYSTEM, "3273", week)
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=WIB)
    assert calendars.due_time(ctx, "3273", friday, "P1D")["due_at"] == datetime(
        2026, 3, 7, 12, 0, tzinfo=WIB)
    assert calendars.get_calendar(ctx, SYSTEM, "3273", 2026)["working_days"] == [0, 1, 2, 3, 4, 5]


def test_a_bad_week_is_refused_field_by_field(ctx: EngineContext) -> None:
    with pytest.raises(errors.InvalidInputError) as refused:
        office_week.set_week(ctx, SYSTEM, "3273", {
            "working_days": [0, 7], "opens": "7:30", "closes": "16:00",
            "day_hours": [{"weekday": 4, "opens": "16:30", "closes": "07:30"},
                          {"weekday": 4, "opens": "07:30", "closes": "16:30"}]})
    assert sorted(p.field for p in refused.value.problems) == [
        "/day_hours/0/closes", "/day_hours/1/weekday", "/opens", "/working_days"]
    officer, _ = make_user(ctx, "front-office")
    with pytest.raises(errors.PermissionDeniedError):
        office_week.set_week(ctx, officer, "3273", PERPRES_WEEK)
    assert calendars.get_calendar(ctx, SYSTEM, "3273", 2026)["day_hours"] == []


def test_a_deadline_in_a_year_without_its_cuti_bersama_is_flagged(ctx: EngineContext) -> None:
    """permit-domain §3.2: past the latest SKB the package lists no cuti bersama, so a due
    time counted into that year may still move by days."""
    late = calendars.due_time(ctx, "3273", datetime(2027, 12, 20, 10, 0, tzinfo=WIB), "P10D")
    assert late["due_at"].year == 2028
    (warning,) = late["warnings"]
    assert (warning["code"], warning["year"]) == ("cuti-bersama-unknown", 2028)
    assert "2028" in warning["message"]["id"] and "cuti bersama" in warning["message"]["en"]
    assert calendars.due_time(ctx, "3273", datetime(2027, 3, 1, 10, 0, tzinfo=WIB),
                              "P10D")["warnings"] == []
    assert [w["year"] for w in calendars.get_calendar(ctx, SYSTEM, "3273", 2028)["warnings"]] == [
        2028]
    assert calendars.get_calendar(ctx, SYSTEM, "3273", 2026)["warnings"] == []


def test_the_week_and_the_warning_over_http(app: Flask, ctx: EngineContext) -> None:
    client = app.test_client()
    _, token = make_user(ctx, "supervisor")
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/regions/3273/calendar"
    answer = client.put(f"{url}/week", json=PERPRES_WEEK, headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["day_hours"] == PERPRES_WEEK["day_hours"]
    bad = client.put(f"{url}/week", json={**PERPRES_WEEK, "closes": "25:00"}, headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert [e["field"] for e in bad.json["errors"]] == ["/closes"]
    assert client.put(f"{url}/week", json=PERPRES_WEEK).status_code == 401

    due = client.get(f"{url}/due", query_string={"from": "2026-03-06T09:00:00+07:00",
                                                  "sla": "P0D"})  # public
    assert due.status_code == 200 and due.json["due_local"] == "2026-03-06T16:30:00+07:00"
    assert due.json["warnings"] == []
    late = client.get(f"{url}/due", query_string={"from": "2027-12-20T10:00:00+07:00",
                                                   "sla": "P10D"})
    assert [w["year"] for w in late.json["warnings"]] == [2028]
    year = client.get(url, query_string={"year": 2028}, headers=headers)
    assert year.status_code == 200 and year.json["warnings"][0]["code"] == "cuti-bersama-unknown"
