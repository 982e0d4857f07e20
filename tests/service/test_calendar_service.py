"""Region calendars at the service layer (DESIGN §3): overrides move the due times of what
is running (and move them back when removed), an `open` override on a holiday, due times in
the three Indonesian time zones, and the named closed days of a year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from api.wiring import build_context
from engine.context import EngineContext
from engine.domain import errors
from engine.persistence.tables import EventRecord
from engine.services import applications, calendars, tasks
from tests.factories import APPLICANT_LOOP_BPMN, Clock, make_region, make_user, tiny_bpmn, upload

WIB, WITA, WIT = (timezone(timedelta(hours=h)) for h in (7, 8, 9))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
FLOOD = [{"day": "2026-03-04", "kind": "closed", "reason": "Banjir Citarum"}]


@pytest.fixture
def region(ctx: EngineContext) -> str:
    ctx.clock = Clock(MONDAY_10)
    return make_region(ctx, "3273")


def due_times(ctx: EngineContext, actor, app_id) -> tuple[dict[str, datetime], datetime | None]:
    app = applications.get_application(ctx, actor, app_id)
    return {t.element_id: t.due_at for t in app.tasks if t.state == "ready"}, app.due_at


def test_a_closed_day_moves_running_due_times_and_removing_it_moves_them_back(
    ctx: EngineContext, region: str
) -> None:
    upload(ctx, region, tiny_bpmn(key="days", steps=1, sla="P3D"))
    upload(ctx, region, tiny_bpmn(key="hours", steps=1, sla="PT4H"))
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    days = applications.start_application(ctx, officer, region, "days", {}, {}).id
    hours = applications.start_application(ctx, officer, region, "hours", {}, {}).id
    before = {
        days: ({"step_1": datetime(2026, 3, 5, 16, 0, tzinfo=WIB)}, datetime(2026, 3, 9, 16, 0, tzinfo=WIB)),
        hours: ({"step_1": datetime(2026, 3, 2, 14, 0, tzinfo=WIB)}, datetime(2026, 3, 9, 16, 0, tzinfo=WIB)),
    }
    assert {a: due_times(ctx, officer, a) for a in (days, hours)} == before

    answer = calendars.set_overrides(ctx, supervisor, region, 2026, FLOOD)
    assert answer["overrides"] == [{"day": "2026-03-04", "kind": "closed", "reason": "Banjir Citarum"}]
    # Wed 4 March is closed now: P3D from Mon lands on Fri; the 5-day backstop on Tue 10th.
    # The PT4H step was due on Monday, before the closed day: it does not move.
    assert due_times(ctx, officer, days)[0] == {"step_1": datetime(2026, 3, 6, 16, 0, tzinfo=WIB)}
    assert due_times(ctx, officer, hours)[0] == before[hours][0]

    calendars.set_overrides(ctx, supervisor, region, 2026, [])
    assert {a: due_times(ctx, officer, a) for a in (days, hours)} == before
    with ctx.uow() as uow:
        trail = uow._session.execute(select(EventRecord.action, EventRecord.reason).where(
            EventRecord.subject == "calendar:3273").order_by(EventRecord.seq)).all()
    assert [tuple(t) for t in trail] == [("calendar.override_added", "Banjir Citarum"),
                                        ("calendar.override_removed", "Banjir Citarum")]


def test_a_calendar_change_reaches_another_process_at_its_next_step(
    ctx: EngineContext, region: str, db_url: str
) -> None:
    # Processes cache a region's calendar under its revision: a change made through one
    # process must reach the due times another process computes next, with no restart.
    upload(ctx, region, tiny_bpmn(key="days", steps=2, sla="P3D"))
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    other = build_context(db_url)
    other.clock = ctx.clock
    try:
        first = applications.start_application(other, officer, region, "days", {}, {})
        assert first.tasks[0].due_at == datetime(2026, 3, 5, 16, 0, tzinfo=WIB)  # cached there
        calendars.set_overrides(ctx, supervisor, region, 2026, FLOOD)  # through this one
        second = tasks.complete_task(other, officer, first.tasks[0].id, {})
        step_2 = next(t for t in second.tasks if t.element_id == "step_2")
        assert step_2.due_at == datetime(2026, 3, 6, 16, 0, tzinfo=WIB)  # Wed 4th is closed
        page = tasks.inbox(other, officer)
        assert [t.due_at for t in page.items] == [step_2.due_at]
    finally:
        other.session_factory.kw["bind"].dispose()


def test_a_closed_day_moves_the_process_deadline_too(ctx: EngineContext, region: str) -> None:
    # DESIGN §3: the process SLA counts on the same calendar as the steps.
    upload(ctx, region, tiny_bpmn(key="days", steps=1, sla="P3D"))
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    app = applications.start_application(ctx, officer, region, "days", {}, {}).id
    assert due_times(ctx, officer, app)[1] == datetime(2026, 3, 9, 16, 0, tzinfo=WIB)
    calendars.set_overrides(ctx, supervisor, region, 2026, FLOOD)
    assert due_times(ctx, officer, app)[1] == datetime(2026, 3, 10, 16, 0, tzinfo=WIB)
    calendars.set_overrides(ctx, supervisor, region, 2026, [])
    assert due_times(ctx, officer, app)[1] == datetime(2026, 3, 9, 16, 0, tzinfo=WIB)


def test_a_closed_day_moves_a_resumed_process_deadline_and_leaves_a_paused_one(
    ctx: EngineContext, region: str
) -> None:
    upload(ctx, region, APPLICANT_LOOP_BPMN)
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    resumed = applications.start_application(ctx, officer, region, "loop", {}, {})
    paused = applications.start_application(ctx, officer, region, "loop", {}, {})
    ctx.clock.advance(hours=2)  # Mon 12:00: both go back to the applicant
    for app in (resumed, paused):
        tasks.complete_task(ctx, officer, app.tasks[0].id, {"complete": False})
    ctx.clock.now = datetime(2026, 3, 4, 9, 0, tzinfo=WIB)  # Wed 09:00: one answers
    fix = next(t for t in applications.get_application(ctx, officer, resumed.id).tasks
               if t.state == "ready")
    tasks.complete_task(ctx, officer, fix.id, {})
    # 1770 working minutes were left from Wed 09:00 (see test_sla): Mon 9 March 13:00.
    assert due_times(ctx, officer, resumed.id)[1] == datetime(2026, 3, 9, 13, 0, tzinfo=WIB)
    calendars.set_overrides(ctx, supervisor, region, 2026, [
        {"day": "2026-03-06", "kind": "closed", "reason": "Rapat kerja"}])
    assert due_times(ctx, officer, resumed.id)[1] == datetime(2026, 3, 10, 13, 0, tzinfo=WIB)
    assert due_times(ctx, officer, paused.id)[1] is None  # paused: no deadline to move


def test_setting_the_same_overrides_again_changes_nothing(ctx: EngineContext, region: str) -> None:
    supervisor, _ = make_user(ctx, "supervisor")
    first = calendars.set_overrides(ctx, supervisor, region, 2026, FLOOD)
    assert calendars.set_overrides(ctx, supervisor, region, 2026, FLOOD) == first
    with ctx.uow() as uow:
        actions = uow._session.scalars(select(EventRecord.action).where(
            EventRecord.subject == "calendar:3273")).all()
    assert actions == ["calendar.override_added"]
    changed = [{**FLOOD[0], "reason": "Banjir besar"}]
    assert calendars.set_overrides(ctx, supervisor, region, 2026, changed)["overrides"][0]["reason"] == "Banjir besar"
    # Overrides of another year are left alone by a year's replacement.
    calendars.set_overrides(ctx, supervisor, region, 2027, [
        {"day": "2027-01-04", "kind": "closed", "reason": "Kerja bakti"}])
    assert calendars.get_calendar(ctx, supervisor, region, 2026)["overrides"][0]["reason"] == "Banjir besar"


def test_an_open_override_on_a_holiday_makes_it_a_working_day(ctx: EngineContext, region: str) -> None:
    supervisor, _ = make_user(ctx, "supervisor")
    start = datetime(2026, 3, 17, 10, 0, tzinfo=WIB)  # Tue; Wed cuti bersama, Thu Nyepi, ...
    assert calendars.due_time(ctx, region, start, "P1D")["due_at"] == datetime(2026, 3, 25, 16, 0, tzinfo=WIB)
    calendars.set_overrides(ctx, supervisor, region, 2026, [
        {"day": "2026-03-19", "kind": "open", "reason": "Pelayanan tetap buka saat Nyepi"}])
    answer = calendars.due_time(ctx, region, start, "P1D")
    assert answer["due_at"] == datetime(2026, 3, 19, 16, 0, tzinfo=WIB)
    assert answer["due_local"] == "2026-03-19T16:00:00+07:00"
    closed = {d["day"] for d in calendars.get_calendar(ctx, supervisor, region, 2026)["closed_days"]}
    assert "2026-03-19" not in closed and "2026-03-18" in closed
    # An open Saturday (hari kerja pengganti) counts as well.
    calendars.set_overrides(ctx, supervisor, region, 2026, [
        {"day": "2026-03-07", "kind": "open", "reason": "Hari kerja pengganti"}])
    friday_3pm = datetime(2026, 3, 6, 15, 0, tzinfo=WIB)
    assert calendars.due_time(ctx, region, friday_3pm, "PT4H")["due_at"] == datetime(
        2026, 3, 7, 10, 30, tzinfo=WIB)


@pytest.mark.parametrize(("code", "zone", "start", "sla", "due"), [
    # The same instant, Mon 15:30 WIB = 16:30 WITA = 17:30 WIT: open in Jakarta only.
    ("3273", WIB, datetime(2026, 3, 2, 8, 30, tzinfo=UTC), "PT1H", datetime(2026, 3, 3, 8, 0, tzinfo=WIB)),
    ("5171", WITA, datetime(2026, 3, 2, 8, 30, tzinfo=UTC), "PT1H", datetime(2026, 3, 3, 8, 30, tzinfo=WITA)),
    ("9471", WIT, datetime(2026, 3, 2, 8, 30, tzinfo=UTC), "PT1H", datetime(2026, 3, 3, 8, 30, tzinfo=WIT)),
    # P1D from Mon 10:00 WIB (11:00 WITA, 12:00 WIT): Tue 16:00 local everywhere.
    ("3273", WIB, MONDAY_10, "P1D", datetime(2026, 3, 3, 16, 0, tzinfo=WIB)),
    ("5171", WITA, MONDAY_10, "P1D", datetime(2026, 3, 3, 16, 0, tzinfo=WITA)),
    ("9471", WIT, MONDAY_10, "P1D", datetime(2026, 3, 3, 16, 0, tzinfo=WIT)),
    # 06:00 WIB is 08:00 WIT: before opening in Jakarta, inside office hours in Jayapura.
    ("3273", WIB, datetime(2026, 3, 2, 6, 0, tzinfo=WIB), "PT2H", datetime(2026, 3, 2, 9, 30, tzinfo=WIB)),
    ("9471", WIT, datetime(2026, 3, 2, 6, 0, tzinfo=WIB), "PT2H", datetime(2026, 3, 2, 10, 0, tzinfo=WIT)),
])
def test_due_time_in_each_time_zone(ctx: EngineContext, code: str, zone: timezone, start: datetime,
                                    sla: str, due: datetime) -> None:
    make_region(ctx, code)
    answer = calendars.due_time(ctx, code, start, sla)
    assert answer["due_at"] == due
    assert answer["due_at"].utcoffset() == timedelta(0)  # returned in UTC ...
    assert answer["due_local"] == due.astimezone(zone).isoformat()  # ... and in local time
    assert datetime.fromisoformat(answer["due_local"]).utcoffset() == zone.utcoffset(None)
    assert answer["sla"] == sla and answer["region"] == code


def test_due_time_refuses_what_it_cannot_compute(ctx: EngineContext, region: str) -> None:
    for sla in ("3 hari", "P1M", "", "P1DT2H"):
        with pytest.raises(errors.InvalidInputError) as refused:
            calendars.due_time(ctx, region, MONDAY_10, sla)
        assert [p.field for p in refused.value.problems] == ["sla"]
    with pytest.raises(errors.InvalidInputError):
        calendars.due_time(ctx, region, datetime(2026, 3, 2, 10, 0), "P1D")
    with pytest.raises(errors.NotFoundError):
        calendars.due_time(ctx, "9999", MONDAY_10, "P1D")


def test_get_calendar_lists_closed_days_with_names(ctx: EngineContext, region: str) -> None:
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    calendars.set_overrides(ctx, supervisor, region, 2026, [*FLOOD, {
        "day": "2026-12-24", "kind": "open", "reason": "Pelayanan tetap buka"}])
    calendar = calendars.get_calendar(ctx, officer, region, 2026)
    assert (calendar["region"], calendar["year"], calendar["timezone"]) == ("3273", 2026, "Asia/Jakarta")
    assert (calendar["working_days"], calendar["opens"], calendar["closes"]) == ([0, 1, 2, 3, 4], "07:30", "16:00")
    closed = {d["day"]: d for d in calendar["closed_days"]}
    days = list(closed)
    assert days == sorted(days) and all(d.startswith("2026-") for d in days)
    assert closed["2026-01-01"]["reason"] == "Tahun Baru Masehi"
    assert closed["2026-03-19"]["reason"] == "Hari Suci Nyepi"
    assert closed["2026-03-21"]["reason"] == "Hari Raya Idul Fitri"  # a Saturday, still listed
    assert closed["2026-03-20"]["reason"] == "Cuti Bersama Hari Raya Idul Fitri"
    assert closed["2026-03-04"]["reason"] == "Banjir Citarum"  # the region's own closed day
    assert "2026-12-24" not in closed  # cuti bersama Natal, declared open
    assert "2026-03-07" not in closed  # a plain Saturday is not listed
    assert not any(d["estimated"] for d in calendar["closed_days"])  # 2026 dates are decreed
    assert [o["day"] for o in calendar["overrides"]] == ["2026-03-04", "2026-12-24"]
    assert calendars.get_calendar(ctx, officer, region, 2027)["overrides"] == []


def test_overrides_are_checked_and_only_for_supervisors_of_the_region(ctx: EngineContext, region: str) -> None:
    make_region(ctx, "3510")
    officer, _ = make_user(ctx, "front-office")
    elsewhere, _ = make_user(ctx, "supervisor", region="3510")
    supervisor, _ = make_user(ctx, "supervisor")
    with pytest.raises(errors.PermissionDeniedError):
        calendars.set_overrides(ctx, officer, region, 2026, FLOOD)
    with pytest.raises(errors.NotFoundError):
        calendars.set_overrides(ctx, elsewhere, region, 2026, FLOOD)
    with pytest.raises(errors.NotFoundError):
        calendars.get_calendar(ctx, elsewhere, region, 2026)
    bad = [
        {"day": "2027-03-04", "kind": "closed", "reason": "tahun lain"},
        {"day": "2026-03-05", "kind": "maybe", "reason": "?"},
        {"day": "2026-03-06", "kind": "closed", "reason": "  "},
        {"day": "2026-02-30", "kind": "closed", "reason": "tidak ada"},
        {"day": "2026-03-09", "kind": "closed", "reason": "sekali"},
        {"day": "2026-03-09", "kind": "closed", "reason": "dua kali"},
    ]
    with pytest.raises(errors.InvalidInputError) as refused:
        calendars.set_overrides(ctx, supervisor, region, 2026, bad)
    assert [p.field for p in refused.value.problems] == [f"/overrides/{i}" for i in (0, 1, 2, 3, 5)]
    assert calendars.get_calendar(ctx, supervisor, region, 2026)["overrides"] == []
