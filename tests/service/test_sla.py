"""Due times on steps and applications, the pausing process clock, the worker and timers."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from engine.context import EngineContext
from engine.persistence.tables import ApplicationRecord, EventRecord, TimerRecord
from engine.services import applications, tasks
from engine.services.worker import run_pass
from tests.factories import (
    APPLICANT_LOOP_BPMN,
    TIMER_BPMN,
    Clock,
    make_region,
    make_user,
    tiny_bpmn,
    upload,
)

WIB = timezone(timedelta(hours=7))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)


@pytest.fixture
def clock(ctx: EngineContext) -> Clock:
    clock = Clock(MONDAY_10)
    ctx.clock = clock
    make_region(ctx, "3273")
    return clock


def count(ctx: EngineContext, action: str) -> int:
    with ctx.uow() as uow:
        return uow._session.scalar(
            select(func.count()).select_from(EventRecord).where(EventRecord.action == action)
        )


def test_a_step_is_due_at_closing_time_of_the_nth_working_day(
    ctx: EngineContext, clock: Clock
) -> None:
    upload(ctx, "3273", tiny_bpmn(steps=1, sla="P1D"))
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    assert app.tasks[0].due_at == datetime(2026, 3, 3, 16, 0, tzinfo=WIB)
    assert app.process_sla == "P5D" and app.sla_backstop  # no process sla: UU 30/2014 art. 53
    assert app.due_at == datetime(2026, 3, 9, 16, 0, tzinfo=WIB)


def test_the_worker_records_each_breach_once_and_the_inbox_shows_it(
    ctx: EngineContext, clock: Clock
) -> None:
    upload(ctx, "3273", tiny_bpmn(steps=1, sla="PT4H"))
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    assert app.tasks[0].due_at == datetime(2026, 3, 2, 14, 0, tzinfo=WIB)
    assert run_pass(ctx, datetime(2026, 3, 2, 13, 59, tzinfo=WIB)).steps_breached == 0
    late = datetime(2026, 3, 2, 14, 1, tzinfo=WIB)
    assert run_pass(ctx, late).steps_breached == 1
    assert run_pass(ctx, late).steps_breached == 0
    assert count(ctx, "sla.breached") == 1
    clock.now = late
    overdue = tasks.inbox(ctx, officer, overdue=True)
    assert overdue.total == 1 and overdue.items[0].overdue
    listed = applications.list_applications(ctx, officer, overdue=True)
    assert listed.total == 1 and listed.items[0].overdue  # the late step makes it overdue


def test_a_boundary_timer_fires_its_escalation_path_on_our_clock(
    ctx: EngineContext, clock: Clock
) -> None:
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    head, _ = make_user(ctx, "head-of-office")
    app = applications.start_application(ctx, officer, "3273", "escalation", {}, {})
    assert run_pass(ctx, MONDAY_10 + timedelta(hours=3, minutes=59)).timers_fired == 0
    assert run_pass(ctx, MONDAY_10 + timedelta(hours=4, seconds=1)).timers_fired == 1
    assert run_pass(ctx, MONDAY_10 + timedelta(hours=5)).timers_fired == 0
    after = applications.get_application(ctx, officer, app.id)
    states = {t.element_id: t.state for t in after.tasks}
    assert states == {"review": "cancelled", "escalated": "ready"}
    assert count(ctx, "timer.fired") == 1
    escalated = next(t for t in after.tasks if t.element_id == "escalated")
    assert tasks.complete_task(ctx, head, escalated.id, {}).status == "completed"


def test_a_timer_of_an_application_in_error_waits_for_the_retry(
    ctx: EngineContext, clock: Clock
) -> None:
    # The worker cannot move an application stopped by an error: its due timer stays
    # waiting (not cancelled, not retried in a loop), and fires when a supervisor retries.
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    app = applications.start_application(ctx, officer, "3273", "escalation", {}, {})
    with ctx.uow() as uow:  # as if a parallel branch had failed
        uow._session.execute(
            update(ApplicationRecord).where(ApplicationRecord.id == app.id).values(
                status="error", error={"message": "boom", "type": "Test"}
            )
        )
        uow.commit()
    late = MONDAY_10 + timedelta(hours=5)
    assert run_pass(ctx, late).timers_fired == 0
    with ctx.uow() as uow:
        assert uow._session.scalars(select(TimerRecord.status)).all() == ["waiting"]
    clock.now = late
    retried = applications.retry_application(ctx, supervisor, app.id, {}, "dicoba lagi")
    assert {t.element_id: t.state for t in retried.tasks} == {"escalated": "ready"}
    full = applications.get_application(ctx, supervisor, app.id)
    assert {t.element_id: t.state for t in full.tasks} == {
        "review": "cancelled", "escalated": "ready"}
    with ctx.uow() as uow:
        assert uow._session.scalars(select(TimerRecord.status)).all() == ["fired"]


def test_two_workers_at_once_fire_each_timer_once(ctx: EngineContext, clock: Clock) -> None:
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    for _ in range(6):
        applications.start_application(ctx, officer, "3273", "escalation", {}, {})
    later = MONDAY_10 + timedelta(hours=5)
    barrier = threading.Barrier(2)
    fired: list[int] = []

    def work() -> None:
        barrier.wait()
        fired.append(run_pass(ctx, later).timers_fired)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(fired) == 6 and count(ctx, "timer.fired") == 6


def test_the_process_clock_pauses_while_the_applicant_fixes_documents(
    ctx: EngineContext, clock: Clock
) -> None:
    upload(ctx, "3273", APPLICANT_LOOP_BPMN)
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "loop", {}, {})
    assert app.due_at == datetime(2026, 3, 5, 16, 0, tzinfo=WIB) and not app.sla_paused
    clock.advance(hours=2)  # Mon 12:00: returned to the applicant after 2 working hours
    app = tasks.complete_task(ctx, officer, app.tasks[0].id, {"complete": False})
    assert app.sla_paused and app.due_at is None
    clock.now = datetime(2026, 3, 4, 9, 0, tzinfo=WIB)  # Wed 09:00: the applicant answers
    fix = next(t for t in app.tasks if t.state == "ready")
    app = tasks.complete_task(ctx, officer, fix.id, {})  # the front office on their behalf
    assert not app.sla_paused
    # P3D from Mon 10:00 is Thu 16:00: a budget of 360 + 3 x 510 = 1890 working minutes.
    # 120 were used before the pause, so 1770 remain from Wed 09:00:
    # Wed 420 + Thu 510 + Fri 510 = 1440, then 330 more from Mon 07:30 -> Mon 13:00.
    assert app.due_at == datetime(2026, 3, 9, 13, 0, tzinfo=WIB)


def test_an_engine_error_does_not_stop_the_process_clock(ctx: EngineContext, clock: Clock) -> None:
    # DESIGN §3 pauses the process SLA only while the applicant is awaited: an application
    # stuck on an engine error stays on the clock, is marked breached, and a retry goes on
    # from the same deadline.
    upload(ctx, "3273", tiny_bpmn(steps=1, sla="P1D", script="total = amount * 2"))
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    deadline = app.due_at
    assert deadline == datetime(2026, 3, 9, 16, 0, tzinfo=WIB)  # the 5-day backstop
    failed = tasks.complete_task(ctx, officer, app.tasks[0].id, {})
    assert failed.status == "error" and failed.due_at == deadline and not failed.sla_paused
    late = datetime(2026, 3, 10, 8, 0, tzinfo=WIB)
    assert run_pass(ctx, late).applications_breached == 1
    clock.now = late
    listed = applications.list_applications(ctx, supervisor, overdue=True)
    assert [a.id for a in listed.items] == [app.id] and listed.items[0].overdue
    done = applications.retry_application(ctx, supervisor, app.id, {"amount": 1}, "dilengkapi")
    assert done.status == "completed" and done.due_at == deadline


def test_the_inbox_merges_roles_in_due_order_across_pages(ctx: EngineContext, clock: Clock) -> None:
    upload(ctx, "3273", tiny_bpmn(key="counter", steps=1, sla="P3D", role="front-office"))
    upload(ctx, "3273", tiny_bpmn(key="fixes", steps=1, sla="P1D", role="applicant"))
    officer, _ = make_user(ctx, "front-office")
    expected = []
    for hour in range(6):  # alternate roles; due times interleave across them
        key = "counter" if hour % 2 else "fixes"
        app = applications.start_application(ctx, officer, "3273", key, {}, {})
        expected.append((app.tasks[0].due_at, app.tasks[0].ready_at, app.tasks[0].id))
        clock.advance(hours=1)
    expected.sort()
    pages = [tasks.inbox(ctx, officer, limit=2, offset=o) for o in (0, 2, 4)]
    assert [p.total for p in pages] == [6, 6, 6]
    assert [t.id for p in pages for t in p.items] == [e[2] for e in expected]
    assert [t.role for t in pages[0].items] == ["applicant", "applicant"]  # P1D comes due first
