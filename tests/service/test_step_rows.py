"""A step reads only the task rows it changes (engine/services/step_rows.py, issue #16):
completing one of many parallel instances does not load its siblings' rows, and a step of
a long application does not load its finished steps' rows; the answer and the rows stay
what they were."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from engine.context import EngineContext
from engine.persistence.tables import TaskRecord
from engine.services import applications, tasks
from engine.services.step_rows import PROGRESS_TASKS
from tests.factories import make_region, make_user, tiny_bpmn, upload

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
