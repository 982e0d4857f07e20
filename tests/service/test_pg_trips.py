"""A PostgreSQL step's two round trips (engine/persistence/pg_trips.py): BEGIN with the lock
read, COMMIT with the write. Still one transaction; a failure in either exchange reaches the
caller as before (a lost connection: 503 and a replaced connection; a stale row: 409, nothing
written); the statements still reach SQLAlchemy's cursor events."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text

from engine.context import EngineContext
from engine.domain.errors import ConcurrentUpdateError, StorageUnavailableError
from engine.persistence import pg_trips
from engine.persistence.database import make_engine
from engine.persistence.tables import ApplicationRecord, EventRecord
from engine.services import applications, tasks
from engine.services.audit import record_event
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.service.test_step_cost import counting_trips

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url: str, tmp_path: Any) -> Iterator[EngineContext]:
    from api.wiring import build_context
    from tests.conftest import _truncate

    _truncate(postgres_url)
    context = build_context(postgres_url, signing_key_dir=str(tmp_path / "keys"))
    context.killer = make_engine(postgres_url)  # type: ignore[attr-defined]  # another pool
    yield context
    _engine(context).dispose()
    context.killer.dispose()  # type: ignore[attr-defined]


def _engine(ctx: EngineContext) -> Engine:
    bind: Engine = ctx.session_factory.kw["bind"]
    return bind


def _started(ctx: EngineContext, steps: int = 3) -> Any:
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(key="lurus", steps=steps))
    actor, _ = make_user(ctx, "front-office")
    return actor, applications.start_application(ctx, actor, "3273", "lurus", {"name": "Siti"}, {})


def _terminate(ctx: EngineContext, pid: int) -> None:
    with ctx.killer.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text("select pg_terminate_backend(:p)"), {"p": pid}).scalar()
        conn.commit()


def _events(ctx: EngineContext) -> int:
    with ctx.reader() as uow:
        return int(uow._session.scalar(select(func.count()).select_from(EventRecord)) or 0)  # type: ignore[union-attr]


def _version(ctx: EngineContext, application_id: Any) -> int:
    with ctx.reader() as uow:
        record = uow._session.get(ApplicationRecord, application_id)  # type: ignore[union-attr]
        assert record is not None
        return int(record.row_version)


def test_a_plain_step_is_two_round_trips_of_one_transaction(pg: EngineContext) -> None:
    actor, app = _started(pg)
    statements: list[str] = []
    listen = lambda *a: statements.append(a[2].split()[0])  # noqa: E731
    event.listen(_engine(pg), "before_cursor_execute", listen)
    try:
        with counting_trips() as waits:
            app = tasks.complete_task(pg, actor, app.tasks[0].id, {"ok": True})
    finally:
        event.remove(_engine(pg), "before_cursor_execute", listen)
    assert statements == ["SELECT", "WITH"]  # the lock, the write: both seen by SQLAlchemy
    assert len(waits) == 2
    assert [t.element_id for t in app.tasks if t.state == "ready"] == ["step_2"]


def test_a_connection_lost_before_the_lock_read_is_503_and_replaced(
    pg: EngineContext,
) -> None:
    actor, app = _started(pg)
    with pg.uow() as uow:  # the connection the step will get next (a pool of one in use)
        pid = uow._session.connection().exec_driver_sql("select pg_backend_pid()").scalar()  # type: ignore[union-attr]
    _terminate(pg, int(pid))
    with pytest.raises(StorageUnavailableError):
        tasks.complete_task(pg, actor, app.tasks[0].id, {"ok": True})
    # The dead connection was invalidated, not handed out again: the retry goes through.
    view = tasks.complete_task(pg, actor, app.tasks[0].id, {"ok": True})
    assert [t.element_id for t in view.tasks if t.state == "ready"] == ["step_2"]


def test_a_connection_lost_between_the_lock_and_the_commit_writes_nothing(
    pg: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor, app = _started(pg)
    events, version = _events(pg), _version(pg, app.id)
    real = tasks.apply_outcome

    def killed_after_the_lock(uow: Any, *args: Any, **kwargs: Any) -> Any:
        pid = uow._session.connection().exec_driver_sql("select pg_backend_pid()").scalar()
        _terminate(pg, int(pid))
        return real(uow, *args, **kwargs)

    monkeypatch.setattr(tasks, "apply_outcome", killed_after_the_lock)
    with pytest.raises(StorageUnavailableError):
        tasks.complete_task(pg, actor, app.tasks[0].id, {"ok": True})
    monkeypatch.undo()
    assert (_events(pg), _version(pg, app.id)) == (events, version)
    view = tasks.complete_task(pg, actor, app.tasks[0].id, {"ok": True})
    assert [t.element_id for t in view.tasks if t.state == "ready"] == ["step_2"]


def test_a_stale_row_fails_the_write_so_its_commit_never_runs(pg: EngineContext) -> None:
    """The write and COMMIT go together: a stale version must fail the statement itself
    (a count returned to the client would come back only after the COMMIT)."""
    actor, app = _started(pg)
    events, version = _events(pg), _version(pg, app.id)
    with pytest.raises(ConcurrentUpdateError), pg.uow() as uow:
        record = uow.repos.applications.get(app.id)
        assert record is not None
        uow._session.execute(  # type: ignore[union-attr]
            text("UPDATE applications SET row_version = row_version + 1 WHERE id = :id"),
            {"id": app.id},
        )
        record.title = "changed"
        record_event(uow, actor=actor, action="application.renamed", subject="x",
                     at=app.created_at, region_code="3273", application_id=app.id)
        uow.commit()
    assert (_events(pg), _version(pg, app.id)) == (events, version)  # nor the other UPDATE


def test_without_pipelines_a_step_is_four_round_trips(
    pg: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the round-trip count above measures: the same step, psycopg's way."""
    monkeypatch.setattr(pg_trips, "ENABLED", False)
    actor, app = _started(pg)
    with counting_trips() as waits:
        tasks.complete_task(pg, actor, app.tasks[0].id, {"ok": True})
    assert len(waits) == 4  # BEGIN, the lock, the write, COMMIT


def test_a_psycopg_without_the_internals_it_drives_falls_back_to_four_trips(
    pg: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another psycopg release (its private modules not as pg_trips drives them): the module
    switches itself off at import, and a step still completes, psycopg's way."""
    monkeypatch.setitem(sys.modules, "psycopg._preparing", None)  # the import is refused
    try:
        importlib.reload(pg_trips)
        assert not pg_trips._SUPPORTED
        actor, app = _started(pg)
        with counting_trips() as waits:
            done = tasks.complete_task(pg, actor, app.tasks[0].id, {"ok": True})
        assert len(waits) == 4 and done.tasks[0].state == "ready"
    finally:
        monkeypatch.undo()
        importlib.reload(pg_trips)
    assert pg_trips._SUPPORTED
