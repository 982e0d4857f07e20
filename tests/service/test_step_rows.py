"""A step reads only the task rows it changes (engine/services/step_rows.py, issue #16):
completing one of many parallel instances does not load its siblings' rows, and a step of
a long application does not load its finished steps' rows; the answer and the rows stay
what they were. Its own row comes with the application's lock, in one statement that locks
both (engine/persistence/step_queries.py): on PostgreSQL, the application first."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from engine.context import EngineContext
from engine.domain.errors import TaskClaimedError
from engine.persistence.tables import TaskRecord
from engine.services import applications, tasks
from engine.services.messages import Message, correlate_message
from engine.services.step_rows import PROGRESS_TASKS
from tests.factories import FIXTURES, make_region, make_user, tiny_bpmn, upload

INSTANCES = PROGRESS_TASKS + 10


@contextmanager
def loaded_task_rows() -> Iterator[list[object]]:
    """The task rows the ORM loads from the database meanwhile."""
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(TaskRecord, "load", count)
    try:
        yield loaded
    finally:
        event.remove(TaskRecord, "load", count)


def fan_out_then_sign_off() -> bytes:
    """A step over a collection, run in parallel (one ready task per element), then one."""
    return tiny_bpmn(key="berkas", steps=2).replace(
        b"</camunda:properties></bpmn:extensionElements></bpmn:userTask>",
        b"</camunda:properties></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics"
        b' camunda:collection="${documents}" camunda:elementVariable="document"/>'
        b"</bpmn:userTask>",
        1,
    )


def test_completing_one_parallel_instance_loads_no_sibling_beyond_the_answer_page(
    ctx: EngineContext,
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", fan_out_then_sign_off())
    officer, _ = make_user(ctx, "front-office")
    documents = [{"kind": "KTP", "file": f"doc-{i}"} for i in range(INSTANCES)]
    started = applications.start_application(ctx, officer, "3273", "berkas", {},
                                             {"documents": documents})
    with ctx.uow() as uow:  # one sibling the answer does not list is overdue
        rows = sorted(uow.repos.tasks.for_application(started.id),
                      key=lambda t: (t.ready_at, t.element_id))
        rows[-1].due_at = ctx.clock() - timedelta(minutes=1)
        uow.commit()
    with loaded_task_rows() as loaded:
        answer = tasks.complete_task(ctx, officer, rows[0].id, {"valid": True})
    # The completed row and the answer's page; the old sync loaded all INSTANCES rows.
    assert len(loaded) <= PROGRESS_TASKS + 1, len(loaded)
    assert answer.ready_task_count == INSTANCES - 1 and len(answer.tasks) == PROGRESS_TASKS
    assert answer.overdue  # read over every ready row, not only the listed ones
    for row in rows[1:]:
        answer = tasks.complete_task(ctx, officer, row.id, {"valid": True})
    assert [t.element_id for t in answer.tasks] == ["step_2"] and answer.ready_task_count == 1
    full = applications.get_application(ctx, officer, started.id)
    states = sorted((t.element_id, t.state) for t in full.tasks)
    assert states == [("step_1", "completed")] * INSTANCES + [("step_2", "ready")]


def test_a_step_of_a_long_application_loads_its_own_row_only(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="panjang", steps=6, fee="0"))
    officer, _ = make_user(ctx, "front-office")
    answer = applications.start_application(ctx, officer, "3273", "panjang", {}, {})
    for _ in range(4):
        answer = tasks.complete_task(ctx, officer, answer.tasks[0].id, {})
    with loaded_task_rows() as loaded:
        answer = tasks.complete_task(ctx, officer, answer.tasks[0].id, {})
    assert len(loaded) == 1  # the old sync loaded all five rows
    assert [t.element_id for t in answer.tasks] == ["step_6"] and answer.ready_task_count == 1
    assert not answer.overdue and answer.fees == []


def _waiting_on_a_lock(conn: Any, deadline_s: float = 30.0) -> None:
    """Until another backend waits on a row lock (the completion's statement)."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        waiting = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the completion never waited on the lock")


def _holding(ctx: EngineContext, db_url: str) -> tuple[Any, Any, Any]:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: no row locks to order")
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="kunci", steps=2))
    officer, _ = make_user(ctx, "front-office")
    started = applications.start_application(ctx, officer, "3273", "kunci", {}, {})
    return officer, started, create_engine(ctx.session_factory.kw["bind"].url)


def test_a_completion_reads_its_task_row_as_the_transaction_it_waited_for_left_it(
    ctx: EngineContext, db_url: str
) -> None:
    officer, started, other = _holding(ctx, db_url)
    task_id = started.tasks[0].id
    outcome: list[BaseException | None] = []
    try:
        with other.connect() as conn, other.connect() as watcher:
            txn = conn.begin()  # another use case: the application first, then its task
            conn.execute(text("SELECT id FROM applications WHERE id = :i FOR UPDATE"),
                         {"i": started.id})
            conn.execute(text("UPDATE tasks SET claimed_by = 424242 WHERE id = :t"),
                         {"t": task_id})

            def complete() -> None:
                try:
                    tasks.complete_task(ctx, officer, task_id, {})
                    outcome.append(None)
                except BaseException as exc:
                    outcome.append(exc)

            worker = threading.Thread(target=complete)
            worker.start()
            _waiting_on_a_lock(watcher)
            txn.commit()  # the task is now claimed by another officer
            worker.join(60)
    finally:
        other.dispose()
    # Read before the wait and not again, the row would still say unclaimed.
    assert len(outcome) == 1 and isinstance(outcome[0], TaskClaimedError), outcome


def test_a_completion_waiting_on_its_task_row_holds_the_application_first(
    ctx: EngineContext, db_url: str
) -> None:
    officer, started, other = _holding(ctx, db_url)
    task_id = started.tasks[0].id
    try:
        with other.connect() as conn, other.connect() as watcher, other.connect() as probe:
            txn = conn.begin()  # e.g. the worker's breach batch, holding the task row
            conn.execute(text("SELECT id FROM tasks WHERE id = :t FOR UPDATE"), {"t": task_id})
            worker = threading.Thread(
                target=tasks.complete_task, args=(ctx, officer, task_id, {}))
            worker.start()
            _waiting_on_a_lock(watcher)
            # Every use case locks the application before its task rows: taking them the
            # other way round here could deadlock with a claim or another completion.
            with pytest.raises(OperationalError, match="could not obtain lock"):
                probe.execute(text("SELECT id FROM applications WHERE id = :i FOR UPDATE NOWAIT"),
                              {"i": started.id})
            txn.rollback()
            worker.join(60)
    finally:
        other.dispose()
    with ctx.uow() as uow:
        task = uow.repos.tasks.get(task_id)
        assert task is not None and task.state == "completed"


def test_a_message_to_a_running_application_reads_none_of_its_task_rows(
    ctx: EngineContext,
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", (FIXTURES / "bpmn" / "messages" / "message-catch.bpmn").read_bytes())
    officer, _ = make_user(ctx, "front-office")
    bank, _ = make_user(ctx, "integration")
    app = applications.start_application(ctx, officer, "3273", "message-catch", {}, {})
    read: list[str] = []

    def reads_tasks(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT") and re.search(r"\bFROM tasks\b", statement):
            read.append(statement)

    engine = ctx.session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", reads_tasks)
    try:
        after = correlate_message(ctx, bank, Message("payment-confirmed", {}, application_id=app.id))
    finally:
        event.remove(engine, "before_cursor_execute", reads_tasks)
    assert [t.element_id for t in after.tasks] == ["review"] and after.ready_task_count == 1
    assert read == []  # the step it made ready has no row yet; before, all rows were read
