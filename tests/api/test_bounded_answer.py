"""A step's answer is bounded (issue #16): the application's summary and its ready tasks,
at most 50 of them with their count, never every task it had; the whole application is one
read (one GET) away."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.context import EngineContext
from engine.services import applications, tasks
from engine.services.step_rows import PROGRESS_TASKS
from tests.factories import make_region, make_user, tiny_bpmn, upload

INSTANCES = 60


def fan_out_bpmn() -> bytes:
    """One step over a collection, run in parallel: one ready task per element."""
    return tiny_bpmn(key="berkas", steps=1).replace(
        b"</camunda:properties></bpmn:extensionElements></bpmn:userTask>",
        b"</camunda:properties></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics"
        b' camunda:collection="${documents}" camunda:elementVariable="document"/>'
        b"</bpmn:userTask>",
    )


def test_completing_one_of_many_parallel_steps_answers_a_bounded_page_and_its_count(
    ctx: EngineContext,
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", fan_out_bpmn())
    officer, _ = make_user(ctx, "front-office")
    documents = [{"kind": "KTP", "file": f"doc-{i}"} for i in range(INSTANCES)]
    started = applications.start_application(ctx, officer, "3273", "berkas", {},
                                             {"documents": documents})
    assert started.ready_task_count == INSTANCES and len(started.tasks) == PROGRESS_TASKS
    done = []
    for _ in range(3):
        answer = tasks.complete_task(ctx, officer, started.tasks[len(done)].id, {"valid": True})
        done.append(started.tasks[len(done)].id)
        assert answer.ready_task_count == INSTANCES - len(done)
        assert len(answer.tasks) == PROGRESS_TASKS
        assert all(t.state == "ready" for t in answer.tasks)
        assert not set(done) & {t.id for t in answer.tasks}
    full = applications.get_application(ctx, officer, started.id)
    assert len(full.tasks) == INSTANCES and full.ready_task_count is None
    assert sum(t.state == "completed" for t in full.tasks) == 3


def test_over_http_the_answer_lists_ready_tasks_and_the_get_lists_all(
    client: FlaskClient, ctx: EngineContext
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="tiny", steps=2))
    _, token = make_user(ctx, "front-office")
    headers = {"Authorization": f"Bearer {token}"}
    started = client.post("/api/v1/regions/3273/applications", headers=headers,
                          json={"process_key": "tiny", "applicant": {}, "data": {}})
    assert started.status_code == 201 and started.json["ready_task_count"] == 1
    (task,) = started.json["tasks"]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers,
                       json={"data": {}})
    assert done.status_code == 200
    assert [t["element_id"] for t in done.json["tasks"]] == ["step_2"]
    assert done.json["ready_task_count"] == 1 and done.json["history"] == []
    full = client.get(f"/api/v1/applications/{started.json['id']}", headers=headers).json
    assert [(t["element_id"], t["state"]) for t in full["tasks"]] == [
        ("step_1", "completed"), ("step_2", "ready")]
    assert "ready_task_count" not in full
