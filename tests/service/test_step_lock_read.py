"""A step's lock read and its ready page build their records from plain rows
(engine/persistence/step_queries.py), and they are the records the ORM's own loading gives:
the same values, persistent and clean in the session, the deferred column read when first
read, changes written at commit, the session's own record for a row it holds, what the
session changed flushed before the read; while anyone listens for loads, the ORM loads."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.domain.views import ApplicationView
from engine.persistence import step_queries
from engine.persistence.step_queries import LockedStep
from engine.persistence.tables import TaskRecord
from engine.services import applications, tasks
from engine.unit_of_work import UnitOfWork
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.service.test_step_rows import fan_out_then_sign_off


def started(ctx: EngineContext, fee: str = "0") -> ApplicationView:
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(key="lurus", steps=3, fee=fee))
    actor, _ = make_user(ctx, "front-office")
    return applications.start_application(ctx, actor, "3273", "lurus", {"name": "Siti"}, {})


def session_of(uow: UnitOfWork) -> Session:
    session = uow._session  # the records' session, inspected
    assert session is not None
    return session


def orm_locked(uow: UnitOfWork, task_id: uuid.UUID) -> LockedStep:
    """The same read through the ORM's loading (what `locked` did before)."""
    row = session_of(uow).execute(step_queries._LOCKED, {"task_id": task_id}).one()
    return LockedStep(row[0], int(row[1]), row[2], bool(row[3]))


def described(record: Any, session: Session) -> dict[str, Any]:
    state = inspect(record)
    return {
        "values": {k: (v, type(v)) for k, v in state.dict.items() if not k.startswith("_")},
        "key": state.key,
        "persistent": state.persistent,
        "modified": state.modified,
        "unloaded": state.unloaded,
        "held": session.identity_map.get(state.key) is record,
        "dirty": record in session.dirty,
    }


def orm_executes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The statements run through the session (the ORM's loading) from now on."""
    calls: list[object] = []
    original = Session.execute
    monkeypatch.setattr(Session, "execute", lambda self, *a, **k: (
        calls.append(a[0]), original(self, *a, **k))[1])
    return calls


def fanned_out(ctx: EngineContext, documents: int = 3) -> ApplicationView:
    make_region(ctx)
    upload(ctx, "3273", fan_out_then_sign_off())
    actor, _ = make_user(ctx, "front-office")
    data = {"documents": [{"kind": "KTP", "file": f"doc-{i}"} for i in range(documents)]}
    return applications.start_application(ctx, actor, "3273", "berkas", {}, data)


def test_the_locked_records_are_those_the_orm_loads(
    ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = started(ctx, fee="5000")
    task_id = app.tasks[0].id
    with ctx.uow() as uow:
        calls = orm_executes(monkeypatch)
        ours = uow.repos.steps.locked(task_id)
        monkeypatch.undo()
        assert calls == []  # a plain row, not the ORM's loading
        assert ours is not None
        mine = {"application": described(ours.application, session_of(uow)),
                "task": described(ours.task, session_of(uow))}
        facts = (ours.calendar_revision, ours.fee_items)
    with ctx.uow() as uow:
        theirs = orm_locked(uow, task_id)
        orm = {"application": described(theirs.application, session_of(uow)),
               "task": described(theirs.task, session_of(uow))}
        assert (theirs.calendar_revision, theirs.fee_items) == facts == (0, True)
    assert mine == orm
    assert mine["application"]["unloaded"] == {"state"}
    assert "data" in mine["task"]["unloaded"]


def test_the_deferred_columns_are_read_when_first_read(ctx: EngineContext) -> None:
    app = started(ctx)
    task_id = app.tasks[0].id
    with ctx.uow() as uow:
        step = orm_locked(uow, task_id)
        state, data = step.application.state, step.task.data
    with ctx.uow() as uow:
        step = uow.repos.steps.locked(task_id)
        assert step is not None
        assert step.application.state == state and state
        assert step.task.data == data
        assert not inspect(step.application).modified


def test_a_session_that_holds_the_records_gives_them_back(ctx: EngineContext) -> None:
    app = started(ctx)
    with ctx.uow() as uow:
        held = uow.repos.applications.get(app.id)
        step = uow.repos.steps.locked(app.tasks[0].id)
        assert step is not None and step.application is held


def test_an_unknown_task_is_none(ctx: EngineContext) -> None:
    started(ctx)
    with ctx.uow() as uow:
        assert uow.repos.steps.locked(uuid.uuid4()) is None


def test_changes_to_the_locked_records_are_written_and_versioned(ctx: EngineContext) -> None:
    app = started(ctx)
    actor, _ = make_user(ctx, "front-office", name="another")
    with ctx.uow() as uow:
        version = uow.repos.steps.locked(app.tasks[0].id).application.row_version  # type: ignore[union-attr]
    view = tasks.claim_task(ctx, actor, app.tasks[0].id)
    assert view.claimed_by == actor.id
    after = tasks.complete_task(ctx, actor, app.tasks[0].id, {"ok": True})
    assert [t.element_id for t in after.tasks if t.state == "ready"] == ["step_2"]
    with ctx.uow() as uow:
        step = uow.repos.steps.locked(after.tasks[0].id)
        assert step is not None
        assert step.application.row_version == version + 2  # the claim, then the step
        done = uow.repos.tasks.get(app.tasks[0].id)
        assert done is not None and (done.state, done.completed_by) == ("completed", actor.id)
        assert done.data == {"ok": True}


def test_the_ready_page_records_are_those_the_orm_loads(
    ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fanned_out(ctx)
    now = ctx.clock()
    with ctx.uow() as uow:
        calls = orm_executes(monkeypatch)
        page = uow.repos.steps.ready_page(app.id, now, 2)
        monkeypatch.undo()
        assert [c for c in calls if c is step_queries._READY_PAGE] == []
        mine = [described(t, session_of(uow)) for t in page.rows]
        flags = (page.count, page.waits_on_applicant, page.overdue, page.fee_items)
    with ctx.uow() as uow:
        found = session_of(uow).execute(step_queries._READY_PAGE, {
            "application_id": app.id, "now": now, "limit": 2}).all()
        assert [described(r[0], session_of(uow)) for r in found] == mine
        assert len(mine) == 2 and flags == (3, False, False, False)
        assert flags[:3] == (found[0].total, bool(found[0].applicant), bool(found[0].overdue))


def test_the_ready_page_reads_what_the_session_changed_and_gives_its_records(
    ctx: EngineContext,
) -> None:
    app = fanned_out(ctx)
    now = ctx.clock()
    with ctx.uow() as uow:
        first = uow.repos.tasks.get(app.tasks[0].id)
        assert first is not None and first.due_at is not None
        first.due_at = now - (first.due_at - now)  # overdue, not yet written
        added = TaskRecord(
            id=uuid.uuid4(), application_id=app.id, region_code="3273", process_key="berkas",
            element_id="extra", name="Extra", role="front-office", state="ready",
            ready_at=now, fee=0, clock_started_at=now,
        )
        uow.repos.tasks.add(added)
        page = uow.repos.steps.ready_page(app.id, now, 10)
        assert page.overdue and page.count == 4
        assert first in page.rows and added in page.rows  # the session's own records
        assert not session_of(uow).dirty and not session_of(uow).new  # flushed first


def test_while_loads_are_listened_for_the_orm_loads(ctx: EngineContext) -> None:
    app = fanned_out(ctx)
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(TaskRecord, "load", count)
    try:
        with ctx.uow() as uow:
            step = uow.repos.steps.locked(app.tasks[0].id)
            page = uow.repos.steps.ready_page(app.id, ctx.clock(), 10)
    finally:
        event.remove(TaskRecord, "load", count)
    assert step is not None and loaded[0] is step.task
    assert set(loaded[1:]) == set(page.rows) - {step.task} and len(page.rows) == 3
