"""A step's lock read builds its records from a plain row (engine/persistence/step_queries.py)
and they are the records the ORM's own loading gives: the same values, persistent and clean
in the session, the deferred column read when first read, changes written at commit."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.domain.views import ApplicationView
from engine.persistence import step_queries
from engine.persistence.step_queries import LockedStep
from engine.services import applications, tasks
from engine.unit_of_work import UnitOfWork
from tests.factories import make_region, make_user, tiny_bpmn, upload


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


def test_the_locked_records_are_those_the_orm_loads(
    ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = started(ctx, fee="5000")
    task_id = app.tasks[0].id
    with ctx.uow() as uow:
        calls: list[object] = []
        original = Session.execute
        monkeypatch.setattr(Session, "execute", lambda self, *a, **k: (
            calls.append(a[0]), original(self, *a, **k))[1])
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
