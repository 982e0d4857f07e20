"""One meaning of "overdue" and "late" everywhere (engine.domain.sla, issue #12).

Applications and steps are put into every SLA situation by editing their rows, then every
place that shows or filters on the SLA is asked: the application view, the `?overdue=true`
listing, the inbox filter, the tracking page, the SLA report and the catalog figure. They
must agree with the domain predicates, on both databases.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import update

from engine.context import EngineContext
from engine.domain import sla
from engine.domain.actors import SYSTEM
from engine.persistence.tables import ApplicationRecord, TaskRecord
from engine.services import applications, catalog, reports, tasks, tracking
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload

WIB = timezone(timedelta(hours=7))
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=WIB)
PAST = NOW - timedelta(days=2)
FUTURE = NOW + timedelta(days=2)

# (name, application row, its one task row): every combination the rules tell apart.
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("on time", {"due_at": FUTURE}, {"due_at": FUTURE}),
    ("process past due", {"due_at": PAST}, {"due_at": FUTURE}),
    ("process due exactly now", {"due_at": NOW}, {"due_at": FUTURE}),
    ("process breached, clock paused", {"breached_at": PAST, "due_at": None}, {"due_at": FUTURE}),
    ("paused, no due time", {"due_at": None, "sla_running_since": None}, {"due_at": FUTURE}),
    ("step past due", {"due_at": FUTURE}, {"due_at": PAST}),
    ("step breached", {"due_at": FUTURE}, {"due_at": PAST, "breached_at": PAST}),
    ("in error, past due", {"status": "error", "due_at": PAST}, {"due_at": FUTURE}),
    (
        "finished late",
        {"status": "completed", "completed_at": NOW, "due_at": PAST, "breached_at": PAST},
        {"state": "completed", "completed_at": NOW, "due_at": PAST, "breached_at": PAST},
    ),
    (
        "finished on time",
        {"status": "completed", "completed_at": PAST, "due_at": FUTURE},
        {"state": "completed", "completed_at": PAST, "due_at": NOW},
    ),
    (
        "cancelled after its due time",
        {"status": "cancelled", "completed_at": NOW, "due_at": PAST},
        {"state": "cancelled", "due_at": PAST},
    ),
]


@pytest.fixture
def world(ctx: EngineContext) -> dict[str, Any]:
    clock = Clock(NOW - timedelta(days=5))
    ctx.clock = clock
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=1, sla="P1D"))
    officer, _ = make_user(ctx, "front-office")
    made = {}
    for name, app_row, task_row in CASES:
        app = applications.start_application(ctx, officer, "3273", "tiny", {"nama": name}, {})
        with ctx.uow() as uow:
            uow._session.execute(
                update(ApplicationRecord).where(ApplicationRecord.id == app.id).values(**app_row)
            )
            uow._session.execute(
                update(TaskRecord).where(TaskRecord.application_id == app.id).values(**task_row)
            )
            uow.commit()
        made[name] = app
    clock.now = NOW
    return {"apps": made, "officer": officer}


def test_every_view_filter_and_figure_agrees_with_the_domain_rules(
    ctx: EngineContext, world: dict[str, Any]
) -> None:
    officer = world["officer"]
    listed = {
        a.id for a in applications.list_applications(ctx, SYSTEM, overdue=True, limit=100).items
    }
    inbox_overdue = {t.id for t in tasks.inbox(ctx, SYSTEM, overdue=True, limit=100).items}
    expected_overdue_apps = 0
    for name, app_row, task_row in CASES:
        view = applications.get_application(ctx, SYSTEM, world["apps"][name].id)
        (task,) = view.tasks
        status = app_row.get("status", "running")
        state = task_row.get("state", "ready")
        step_overdue = sla.step_overdue(state, task_row["due_at"], task_row.get("breached_at"), NOW)
        app_overdue = sla.application_overdue(
            status,
            app_row["due_at"],
            app_row.get("breached_at"),
            NOW,
            [(task_row["due_at"], task_row.get("breached_at"))] if state == "ready" else [],
        )
        expected_overdue_apps += app_overdue
        assert view.overdue is app_overdue, name
        assert (view.id in listed) is app_overdue, name
        assert task.overdue is step_overdue, name
        assert (task.id in inbox_overdue) is step_overdue, name
        assert task.late is sla.late(
            task_row["due_at"], task_row.get("breached_at"), task_row.get("completed_at"), NOW
        ), name
        page = tracking.track(ctx, view.tracking_code)
        for step in page["current_steps"] + page["steps_done"]:
            assert step["overdue"] is task.overdue and step["late"] is task.late, name
    assert officer.region_code == "3273"

    report = reports.sla_report(ctx, SYSTEM, NOW - timedelta(days=30), NOW)
    overdue_now = sum(row["overdue_now"] for row in report["steps"])
    assert overdue_now == len(inbox_overdue) == 2  # "step past due", "step breached"

    (row,) = [r for r in catalog.catalog(ctx, region="3273")["items"] if r["key"] == "tiny"]
    assert row["overdue_running"] == expected_overdue_apps == len(listed)


def test_the_rules_on_plain_values() -> None:
    assert not sla.past_due(NOW, NOW) and sla.past_due(NOW, NOW + timedelta(seconds=1))
    assert not sla.past_due(None, NOW)
    # A finished application that breached is late, never overdue.
    assert sla.late(PAST, PAST, NOW, NOW)
    assert not sla.application_overdue("completed", PAST, PAST, NOW)
    # Finished exactly at the due time is on time.
    assert not sla.late(NOW, None, NOW, FUTURE)
    assert sla.paused("running", None) and not sla.paused("completed", None)


def test_the_process_clock_pauses_resumes_and_stops_on_plain_values() -> None:
    from engine.domain.calendar import CalendarSettings, WorkingCalendar

    calendar = WorkingCalendar(CalendarSettings(timezone="Asia/Jakarta"))
    monday_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
    clock = sla.start_clock("P1D", calendar, monday_10)
    assert clock.used_minutes == 0 and clock.running_since == monday_10
    assert clock.due_at == calendar.due(monday_10, "P1D")
    # Waiting on the applicant from 12:00: two working hours used, no due time while paused.
    paused = sla.next_clock(
        clock, finished=False, waiting_on_applicant=True, now=monday_10 + timedelta(hours=2),
        calendar=calendar,
    )
    assert paused.used_minutes == 120 and paused.running_since is None and paused.due_at is None
    assert sla.next_clock(
        paused, finished=False, waiting_on_applicant=True, now=FUTURE, calendar=calendar
    ) == paused
    # Resumed the next morning: what is left of the budget is laid out again from there.
    tuesday_8 = datetime(2026, 3, 3, 8, 0, tzinfo=WIB)
    resumed = sla.next_clock(
        paused, finished=False, waiting_on_applicant=False, now=tuesday_8, calendar=calendar
    )
    left = clock.budget_minutes - 120
    assert resumed.due_at == calendar.add_working_minutes(tuesday_8, left)
    # Finished: the clock stops and keeps the due time it had.
    done = sla.next_clock(
        resumed, finished=True, waiting_on_applicant=False, now=tuesday_8 + timedelta(hours=1),
        calendar=calendar,
    )
    assert done.running_since is None and done.due_at == resumed.due_at
    assert done.used_minutes == 180
