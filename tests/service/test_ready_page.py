"""A step's ready page (engine/persistence/step_queries.py `ready_page`) says exactly what
the application's task rows say: its first rows in the inbox's order, how many are ready,
whether one is an applicant's, whether one is overdue (`sla.step_overdue`), whether the
application has fee items; also when what decides a flag lies past the page. And it reads
the page through its index, in order, up to its LIMIT: not every ready row (issue #16)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from engine.context import EngineContext
from engine.domain import sla
from engine.domain.definitions import APPLICANT_ROLES
from engine.persistence.tables import FeeItemRecord, TaskRecord
from engine.services.step_rows import every_ready
from engine.unit_of_work import UnitOfWork
from tests.service.test_step_lock_read import fanned_out, session_of

LIMIT = 3
Change = Callable[[list[TaskRecord], datetime], None]


def _last(rows: list[TaskRecord]) -> TaskRecord:
    """The ready row the page lists last of all (past the page when more than LIMIT)."""
    return max((t for t in rows if t.state == "ready"),
               key=lambda t: (t.ready_at, t.element_id, t.id))


def _applicant_past_page(rows: list[TaskRecord], now: datetime) -> None:
    _last(rows).role = sorted(APPLICANT_ROLES)[0]


def _breached_past_page(rows: list[TaskRecord], now: datetime) -> None:
    last = _last(rows)
    last.breached_at, last.due_at = now - timedelta(hours=1), now + timedelta(days=3)


def _past_due_past_page(rows: list[TaskRecord], now: datetime) -> None:
    _last(rows).due_at = now - timedelta(seconds=1)


def _due_now(rows: list[TaskRecord], now: datetime) -> None:
    for t in rows:
        t.due_at = now  # due at `now` is on time: not past due


def _no_due_time(rows: list[TaskRecord], now: datetime) -> None:
    for t in rows:
        t.due_at = None


def _late_but_done(rows: list[TaskRecord], now: datetime) -> None:
    done = _last(rows)
    done.state, done.completed_at = "completed", now
    done.breached_at, done.due_at = now - timedelta(hours=1), now - timedelta(hours=2)
    done.role = sorted(APPLICANT_ROLES)[-1]


def _ties_and_order(rows: list[TaskRecord], now: datetime) -> None:
    # Same ready time and step for some (the id decides), earlier times for others.
    for i, t in enumerate(rows):
        t.ready_at = now - timedelta(minutes=i % 3)
        t.element_id = "b" if i % 2 else "a"


def _none_ready(rows: list[TaskRecord], now: datetime) -> None:
    for t in rows:
        t.state, t.completed_at = "cancelled", now


CHANGES: dict[str, Change] = {
    "as started": lambda rows, now: None,
    "applicant past the page": _applicant_past_page,
    "breach recorded past the page": _breached_past_page,
    "past due past the page": _past_due_past_page,
    "due now": _due_now,
    "no due time": _no_due_time,
    "late but completed": _late_but_done,
    "ties and order": _ties_and_order,
    "none ready": _none_ready,
}


def _said_by_rows(uow: UnitOfWork, app_id: uuid.UUID, now: datetime,
                  limit: int) -> tuple[object, ...]:
    rows = list(uow.repos.tasks.for_application(app_id))
    whole = every_ready(rows)  # all ready rows, in the page's order
    overdue = any(sla.step_overdue(t.state, t.due_at, t.breached_at, now) for t in rows)
    return ([t.id for t in whole.ready[:limit]], whole.count, whole.waits_on_applicant,
            overdue)


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("fee_items", [False, True])
def test_the_ready_page_says_what_the_rows_say(
    ctx: EngineContext, change: str, fee_items: bool
) -> None:
    app = fanned_out(ctx, documents=7)
    now = ctx.clock()
    with ctx.uow() as uow:
        rows = list(uow.repos.tasks.for_application(app.id))
        assert len(rows) == 7
        CHANGES[change](rows, now)
        if fee_items:
            session_of(uow).add(FeeItemRecord(
                id=uuid.uuid4(), application_id=app.id, task_id=rows[0].id, region_code="3273",
                element_id=rows[0].element_id, name="Fee", amount=1000, status="due",
                created_at=now))
        uow.commit()
    with ctx.uow() as uow:
        expected = _said_by_rows(uow, app.id, now, LIMIT)
    for limit in (LIMIT, 50):
        with ctx.uow() as uow:
            page = uow.repos.steps.ready_page(app.id, now, limit)
            said = ([t.id for t in page.rows], page.count, page.waits_on_applicant,
                    page.overdue)
            whole = _said_by_rows(uow, app.id, now, limit)
        assert said == whole and said[1:] == expected[1:]
        assert page.fee_items is fee_items


def test_the_ready_page_reads_its_rows_in_index_order_up_to_its_limit(
    ctx: EngineContext,
) -> None:
    """SQLite's plan: the page through `ix_tasks_ready_page`, no sort of every ready row;
    the count and flags from `ix_tasks_ready_flags` (PostgreSQL's plan depends on its
    statistics)."""
    app = fanned_out(ctx, documents=5)
    plans: list[str] = []
    engine = ctx.session_factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the plan asserted is SQLite's")

    def explain(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        if " AS total" in statement and not plans:
            found = engine.raw_connection()
            try:
                plans.extend(str(r[3]) for r in found.cursor().execute(
                    "EXPLAIN QUERY PLAN " + statement, params).fetchall())
            finally:
                found.close()

    event.listen(engine, "before_cursor_execute", explain)
    try:
        with ctx.uow() as uow:
            page = uow.repos.steps.ready_page(app.id, ctx.clock(), 2)
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    assert page.count == 5 and len(page.rows) == 2
    assert plans[0] == "SEARCH tasks USING INDEX ix_tasks_ready_page (application_id=?)"
    assert not any("TEMP B-TREE" in p for p in plans)
    assert not any("ix_tasks_application_id" in p for p in plans)
    assert sum("ix_tasks_ready_flags" in p for p in plans) == 4


def test_the_page_cannot_read_through_the_flags_index(ctx: EngineContext) -> None:
    """`ix_tasks_ready_flags` has a WHERE of its own: the page's rows never come through it
    (a planner that guesses few ready rows would, then sort every one). SQLite told to use
    it finds no plan; PostgreSQL, left only it and full scans, takes a full scan."""
    app = fanned_out(ctx, documents=3)
    engine = ctx.session_factory.kw["bind"]
    captured: list[tuple[str, Any]] = []

    def grab(conn: object, cursor: object, statement: str, params: Any, *_: object) -> None:
        if " AS total" in statement:
            captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        with ctx.uow() as uow:
            uow.repos.steps.ready_page(app.id, ctx.clock(), 2)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    statement, params = captured[0]
    outer = "\nFROM tasks \nWHERE"
    assert statement.count(outer) == 1
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            forced = statement.replace(outer, "\nFROM tasks INDEXED BY ix_tasks_ready_flags \nWHERE")
            with pytest.raises(sqlite3.OperationalError, match="no query solution"):
                cursor.execute(forced, params)
            cursor.execute(statement.replace(
                outer, "\nFROM tasks INDEXED BY ix_tasks_ready_page \nWHERE"), params)
            return
        cursor.execute("DROP INDEX ix_tasks_ready_page")  # rolled back below
        cursor.execute("DROP INDEX ix_tasks_application_id")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
        assert "ix_tasks_ready_flags on tasks ready_tasks" in plan  # the flags read it
        assert "ix_tasks_ready_flags on tasks " not in plan.replace(
            "ix_tasks_ready_flags on tasks ready_tasks", "")
    finally:
        raw.rollback()
        raw.close()
