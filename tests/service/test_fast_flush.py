"""A step's own rows are written without the ORM's flush (engine/persistence/fast_flush.py),
and exactly as the ORM would write them: the same rows, the same version check, the same
rollback; anything else pending leaves the flush to the ORM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Integer, String, event, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from engine.context import EngineContext
from engine.domain.actors import Actor
from engine.domain.errors import ConcurrentUpdateError
from engine.persistence import fast_flush, step_writes
from engine.services import applications, payments, tasks
from engine.services.audit import record_event
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload
from tests.service.test_step_rows import fan_out_then_sign_off

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Bandung


@contextmanager
def orm_flushes() -> Iterator[list[int]]:
    """How many flushes reached the ORM's own flush with something to write."""
    calls: list[int] = []
    original = Session.flush

    def spy(self: Session, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            calls.append(1)
        original(self, objects)

    Session.flush = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        Session.flush = original  # type: ignore[method-assign]


def walk(ctx: EngineContext, actor: Actor, key: str, data: dict[str, Any]) -> str:
    """Start an application of `key` and complete every ready step until it ends."""
    app = applications.start_application(ctx, actor, "3273", key, {"name": "Siti"}, data)
    while app.status == "running":
        ready = [t for t in app.tasks if t.state == "ready"]
        app = tasks.complete_task(ctx, actor, ready[0].id, {"ok": True})
    assert app.status == "completed", app.error
    return str(app.id)


def cancelled(ctx: EngineContext, actor: Actor, data: dict[str, Any]) -> str:
    """An application whose three parallel instances are cancelled in one flush."""
    supervisor, _ = make_user(ctx, "supervisor")
    app = applications.start_application(ctx, actor, "3273", "berkas", {"name": "Siti"}, data)
    assert sum(t.state == "ready" for t in app.tasks) == 3
    return str(applications.cancel_application(ctx, supervisor, app.id, "ditarik").id)


def stored_rows(ctx: EngineContext, application_id: str) -> list[tuple[Any, ...]]:
    """The application's row and its task rows as stored, without what differs between
    two applications (ids, the tracking code, the state's own ids, the audit hash); a JSON
    column's SQL NULL is told apart from a JSON null."""
    engine = ctx.session_factory.kw["bind"]
    key = application_id if engine.dialect.name == "postgresql" else application_id.replace(
        "-", "")
    with engine.connect() as conn:
        app = conn.execute(text(
            "SELECT region_code, process_key, version, title, status, applicant, error, "
            "error IS NULL, created_by, created_at, updated_at, completed_at, "
            "cancelled_reason, process_sla, sla_backstop, sla_budget_minutes, "
            "sla_used_minutes, sla_running_since, due_at, breached_at, cycle_minutes, "
            "outcome, outcome IS NULL, deemed_approval, called_versions IS NULL, row_version, "
            "audit_seq, audit_rooted_seq, audit_pending FROM applications WHERE id = :id"
        ), {"id": key}).all()
        task_rows = conn.execute(text(
            "SELECT element_id, name, role, state, claimed_by, ready_at, completed_at, "
            "completed_by, form, sla, fee, data, data IS NULL, input, input IS NULL, "
            "clock_started_at, due_at, breached_at, work_minutes, process_key, region_code "
            "FROM tasks WHERE application_id = :id ORDER BY ready_at, element_id, input"
        ), {"id": key}).all()
        events = conn.execute(text(
            "SELECT seq, action, at, region_code, reason FROM events "
            "WHERE application_id = :id ORDER BY seq"
        ), {"id": key}).all()
    return [tuple(r) for r in app + task_rows + events]


def test_the_rows_a_step_writes_are_the_rows_the_orm_writes(
    ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(START)
    ctx.clock = clock
    make_region(ctx)
    upload(ctx, "3273", fan_out_then_sign_off())  # several inserts and updates in one step
    upload(ctx, "3273", tiny_bpmn(key="lurus", steps=3))
    actor, _ = make_user(ctx, "front-office")
    data = {"documents": ["ktp", "npwp", "akta"]}
    fast = [walk(ctx, actor, "berkas", data), walk(ctx, actor, "lurus", {}),
            cancelled(ctx, actor, data)]
    clock.now = START
    monkeypatch.setattr(fast_flush, "write_pending", lambda _session, _tail=None, _commit=False: False)
    with orm_flushes() as flushes:
        orm = [walk(ctx, actor, "berkas", data), walk(ctx, actor, "lurus", {}),
               cancelled(ctx, actor, data)]
    assert flushes  # the second walk really went through the ORM's flush
    for ours, theirs in zip(fast, orm, strict=True):
        assert stored_rows(ctx, ours) == stored_rows(ctx, theirs)
    app_and_tasks = stored_rows(ctx, fast[0])[: 1 + 3 + 1]  # the application, 3 instances, sign-off
    assert [r[3] for r in app_and_tasks[1:]] == ["completed"] * 4
    assert [r[3] for r in stored_rows(ctx, fast[2])[1:4]] == ["cancelled"] * 3


def test_a_start_and_a_plain_step_do_not_reach_the_orm_flush(ctx: EngineContext) -> None:
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(key="lurus", steps=3))
    actor, _ = make_user(ctx, "front-office")
    with orm_flushes() as flushes:
        app = applications.start_application(ctx, actor, "3273", "lurus", {"name": "Siti"}, {})
        app = tasks.complete_task(ctx, actor, app.tasks[0].id, {"ok": True})
    assert flushes == []
    assert [t.element_id for t in app.tasks if t.state == "ready"] == ["step_2"]


def test_a_stale_application_row_is_refused_and_nothing_is_written(
    ctx: EngineContext,
) -> None:
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(key="lurus", steps=2))
    actor, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, actor, "3273", "lurus", {"name": "Siti"}, {})
    with pytest.raises(ConcurrentUpdateError), ctx.uow() as uow:
        record = uow.repos.applications.get(app.id)
        assert record is not None
        version = record.row_version
        # Another writer moved the row on since it was read (here: behind the record's back).
        uow._session.execute(  # type: ignore[union-attr]
            text("UPDATE applications SET row_version = row_version + 1 WHERE id = :id"),
            {"id": app.id.hex if ctx_is_sqlite(ctx) else app.id},
        )
        record.title = "changed"
        uow.commit()
    with ctx.uow() as uow:
        record = uow.repos.applications.get(app.id)
        assert record is not None
        assert (record.title, record.row_version) == (app.title, version)


def test_a_stale_row_is_refused_when_the_writes_and_events_go_as_one_statement(
    ctx: EngineContext,
) -> None:
    """On PostgreSQL the row's UPDATE and the step's audit events are one statement (its
    CTEs all run): a stale version must still refuse the whole of it, events included."""
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(key="lurus", steps=2))
    actor, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, actor, "3273", "lurus", {"name": "Siti"}, {})
    events_before = event_count(ctx)
    statements: list[str] = []
    with pytest.raises(ConcurrentUpdateError), ctx.uow() as uow:
        record = uow.repos.applications.get(app.id)
        assert record is not None
        uow._session.execute(  # type: ignore[union-attr]
            text("UPDATE applications SET row_version = row_version + 1 WHERE id = :id"),
            {"id": app.id.hex if ctx_is_sqlite(ctx) else app.id},
        )
        record.title = "changed"
        record_event(uow, actor=actor, action="application.renamed", subject="x", at=START,
                     region_code="3273", application_id=app.id)
        with counting(ctx, statements):
            uow.commit()
    if not ctx_is_sqlite(ctx):
        assert [s.split()[0] for s in statements] == ["WITH"]  # one statement: both in it
    assert event_count(ctx) == events_before
    with ctx.uow() as uow:
        record = uow.repos.applications.get(app.id)
        assert record is not None and record.title == app.title


def test_writes_beyond_the_fold_limit_go_apart_with_the_same_rows(
    ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(START)
    ctx.clock = clock
    make_region(ctx)
    upload(ctx, "3273", fan_out_then_sign_off())
    actor, _ = make_user(ctx, "front-office")
    data = {"documents": ["ktp", "npwp", "akta"]}
    folded = walk(ctx, actor, "berkas", data)
    clock.now = START
    monkeypatch.setattr(step_writes, "FOLD_MAX", 1)
    statements: list[str] = []
    with counting(ctx, statements):
        apart = walk(ctx, actor, "berkas", data)
    assert not any(s.startswith("WITH") for s in statements)
    assert stored_rows(ctx, folded) == stored_rows(ctx, apart)


@contextmanager
def counting(ctx: EngineContext, statements: list[str]) -> Iterator[None]:
    engine = ctx.session_factory.kw["bind"]

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", count)


def event_count(ctx: EngineContext) -> int:
    with ctx.session_factory.kw["bind"].connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def test_a_rollback_undoes_rows_written_at_an_autoflush(ctx: EngineContext) -> None:
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(key="lurus", steps=2))
    actor, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, actor, "3273", "lurus", {"name": "Siti"}, {})
    task_id = app.tasks[0].id
    with pytest.raises(RuntimeError, match="after the write"), ctx.uow() as uow:
        row = uow.repos.tasks.get(task_id)
        assert row is not None
        row.name = "renamed"
        with orm_flushes() as flushes:
            uow.repos.steps.rows([task_id])  # a query: the change is flushed first
        assert flushes == []  # ... by the fast path
        raise RuntimeError("a failure after the write")
    with ctx.uow() as uow:
        row = uow.repos.tasks.get(task_id)
        assert row is not None and row.name == app.tasks[0].name


def test_a_flush_with_other_records_is_left_to_the_orm(ctx: EngineContext) -> None:
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(key="bayar", steps=2, fee="50000"))
    actor, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, actor, "3273", "bayar", {"name": "Siti"}, {})
    (item,) = payments.fee_items(ctx, actor, app.id)
    payments.record_payment(ctx, actor, app.id, item["fee_item"], item["amount"], "FF-0001")
    with orm_flushes() as flushes:  # the next step's fee item opens with it: the ORM writes
        app = tasks.complete_task(ctx, actor, app.tasks[0].id, {"ok": True})
    assert flushes
    assert [t.element_id for t in app.tasks if t.state == "ready"] == ["step_2"]


def ctx_is_sqlite(ctx: EngineContext) -> bool:
    return bool(ctx.session_factory.kw["bind"].dialect.name == "sqlite")


def test_a_mapping_the_orm_writes_with_more_than_its_values_stays_with_the_orm() -> None:
    """A column with an `onupdate` (or a computed one) is written by the ORM with a value
    nobody set: the fast path must not take such a mapping, whatever its table."""
    class _Base(DeclarativeBase):
        pass

    class Stamped(_Base):
        __tablename__ = "stamped"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        name: Mapped[str] = mapped_column(String(10))
        touched: Mapped[str] = mapped_column(String(10), onupdate="now")

    class Plain(_Base):
        __tablename__ = "plain"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        name: Mapped[str] = mapped_column(String(10))

    with pytest.raises(fast_flush._OrmMustFlushError):
        fast_flush._columns(Stamped.__mapper__)
    assert set(fast_flush._columns(Plain.__mapper__)) == {"id", "name"}


def fan_out_at_a_step() -> bytes:
    """A plain step, then a step over a collection run in parallel (one ready task per
    element), then one: the fan-out is a step's own write (a start's writes are the ORM's
    flush, a new application among them)."""
    marker = b"</camunda:properties></bpmn:extensionElements></bpmn:userTask>"
    parallel = marker.replace(
        b"</bpmn:userTask>",
        b'<bpmn:multiInstanceLoopCharacteristics camunda:collection="${documents}"'
        b' camunda:elementVariable="document"/></bpmn:userTask>',
    )
    first, second, rest = tiny_bpmn(key="berkas", steps=3).split(marker, 2)
    return first + marker + second + parallel + rest


def test_psycopg_converts_a_folded_step_once_not_at_every_step(
    ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg caches its placeholder conversion only for texts of at most 50 parameters
    unless told otherwise (`let_psycopg_cache_folded_texts`); a fan-out step's folded text
    has more, and was converted afresh (0.3 ms) at every such step."""
    if ctx_is_sqlite(ctx):
        pytest.skip("PostgreSQL only: psycopg's placeholder conversion")
    from psycopg import _queries

    uncached: list[bytes] = []
    original = _queries._query2pg_nocache

    def spy(query: bytes, encoding: str) -> Any:
        uncached.append(query)
        return original(query, encoding)

    monkeypatch.setattr(_queries, "_query2pg_nocache", spy)
    make_region(ctx)
    upload(ctx, "3273", fan_out_at_a_step())
    actor, _ = make_user(ctx, "front-office")
    data = {"documents": ["ktp", "npwp", "akta"]}
    walk(ctx, actor, "berkas", data)
    assert not [q for q in uncached if q.startswith(b"WITH")]
    # psycopg's own limits: the same walk converts its folded texts afresh.
    monkeypatch.setattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", 50)
    monkeypatch.setattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", 4096)
    walk(ctx, actor, "berkas", data)
    assert [q for q in uncached if q.startswith(b"WITH")]
