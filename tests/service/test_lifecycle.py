"""Applications through the service layer: start, inbox, claim, complete, errors."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.context import EngineContext
from engine.domain import errors
from engine.persistence.tables import EventRecord, TaskRecord
from engine.services import applications, tasks
from engine.services.audit import verify_audit
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload

FORM = json.dumps(
    {
        "type": "object",
        "required": ["nik"],
        "properties": {"nik": {"type": "string", "format": "nik"}, "note": {"type": "string"}},
    }
).encode()


@pytest.fixture
def region(ctx: EngineContext) -> str:
    return make_region(ctx, "3273")


def start(ctx: EngineContext, actor, key: str = "tiny", data=None):
    return applications.start_application(ctx, actor, "3273", key, {"name": "Siti"}, data or {})


def test_an_application_runs_to_the_end_with_each_step_persisted(
    ctx: EngineContext, region: str
) -> None:
    upload(ctx, region, tiny_bpmn(steps=3))
    officer, _ = make_user(ctx, "front-office")
    app = start(ctx, officer)
    assert app.status == "running" and app.tracking_code.startswith("PF-")
    seen = []
    for _ in range(3):
        (task,) = [
            t
            for t in applications.get_application(ctx, officer, app.id).tasks
            if t.state == "ready"
        ]
        seen.append(task.element_id)
        app = tasks.complete_task(ctx, officer, task.id, {"note": task.element_id})
    assert seen == ["step_1", "step_2", "step_3"]
    assert app.status == "completed" and app.completed_at is not None
    # The step's answer is bounded: the summary and the ready tasks (none left) ...
    assert app.tasks == [] and app.ready_task_count == 0
    # ... and the whole application is one read away.
    full = applications.get_application(ctx, officer, app.id)
    assert [t.state for t in full.tasks] == ["completed"] * 3
    actions = [e.action for e in applications.get_application(ctx, officer, app.id).history]
    assert actions == ["application.started"] + ["task.completed"] * 3 + ["application.completed"]


def test_inbox_lists_ready_tasks_of_own_roles_and_region_only(
    ctx: EngineContext, region: str
) -> None:
    make_region(ctx, "3510")
    upload(ctx, region, tiny_bpmn(role="technical-team"))
    upload(ctx, "3510", tiny_bpmn(role="technical-team"))
    tech, _ = make_user(ctx, "technical-team")
    front, _ = make_user(ctx, "front-office")
    other_region, _ = make_user(ctx, "technical-team", region="3510")
    app = start(ctx, front)
    inbox = tasks.inbox(ctx, tech)
    assert [t.application_id for t in inbox.items] == [app.id] and inbox.total == 1
    assert tasks.inbox(ctx, front).total == 0
    assert tasks.inbox(ctx, other_region).total == 0
    with pytest.raises(errors.NotFoundError):
        applications.get_application(ctx, other_region, app.id)
    with pytest.raises(errors.NotFoundError):
        tasks.complete_task(ctx, other_region, inbox.items[0].id, {})


def test_claims_guard_completion(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, tiny_bpmn())
    ani, _ = make_user(ctx, "front-office")
    budi, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    task = start(ctx, ani).tasks[0]
    assert tasks.claim_task(ctx, ani, task.id).claimed_by == ani.id
    assert tasks.claim_task(ctx, ani, task.id).claimed_by == ani.id  # idempotent
    with pytest.raises(errors.TaskClaimedError):
        tasks.claim_task(ctx, budi, task.id)
    with pytest.raises(errors.TaskClaimedError):
        tasks.complete_task(ctx, budi, task.id, {})
    with pytest.raises(errors.PermissionDeniedError):
        tasks.unclaim_task(ctx, budi, task.id)
    assert tasks.unclaim_task(ctx, supervisor, task.id, "Ani sakit").claimed_by is None
    assert tasks.inbox(ctx, budi, assigned_to_me=True).total == 0
    tasks.complete_task(ctx, budi, task.id, {})
    with pytest.raises(errors.TaskNotReadyError):
        tasks.complete_task(ctx, ani, task.id, {})


def test_a_step_of_another_role_is_refused(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, tiny_bpmn(role="head-of-office"))
    front, _ = make_user(ctx, "front-office")
    task = start(ctx, front).tasks[0]
    with pytest.raises(errors.PermissionDeniedError):
        tasks.complete_task(ctx, front, task.id, {})


def test_form_data_is_validated_with_field_paths(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, tiny_bpmn(steps=1, form="register.json"), {"register.json": FORM})
    officer, _ = make_user(ctx, "front-office")
    task = start(ctx, officer).tasks[0]
    with pytest.raises(errors.FormInvalidError) as refused:
        tasks.complete_task(ctx, officer, task.id, {"nik": "123", "note": 5})
    fields = sorted(p.field for p in refused.value.problems)
    assert fields == ["/nik", "/note"]
    app = tasks.complete_task(ctx, officer, task.id, {"nik": "3273014501900002"})
    assert app.status == "completed"


def test_a_failing_script_puts_the_application_in_error_and_keeps_the_step(
    ctx: EngineContext, region: str
) -> None:
    upload(ctx, region, tiny_bpmn(steps=1, script="total = 1 / 0"))
    officer, _ = make_user(ctx, "front-office")
    task = start(ctx, officer).tasks[0]
    app = tasks.complete_task(ctx, officer, task.id, {})
    assert app.status == "error"
    assert app.error["element_id"] == "script" and "division by zero" in app.error["message"]
    assert applications.list_applications(ctx, officer, status="error").total == 1


def test_an_application_in_error_is_retried_with_the_missing_value(
    ctx: EngineContext, region: str
) -> None:
    upload(ctx, region, tiny_bpmn(steps=2, script="total = amount * 2"))
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    app = start(ctx, officer)
    with pytest.raises(errors.ApplicationNotInErrorError):  # running: nothing to retry
        applications.retry_application(ctx, supervisor, app.id, {}, "coba lagi")
    for step in ("step_1", "step_2"):
        task = next(t for t in app.tasks if t.state == "ready" and t.element_id == step)
        app = tasks.complete_task(ctx, officer, task.id, {})
    assert app.status == "error" and "amount" in app.error["message"]
    with pytest.raises(errors.PermissionDeniedError):
        applications.retry_application(ctx, officer, app.id, {"amount": 1}, "petugas")
    with pytest.raises(errors.InvalidInputError):
        applications.retry_application(ctx, supervisor, app.id, {"amount": 1}, "  ")
    again = applications.retry_application(ctx, supervisor, app.id, {}, "coba lagi")
    assert again.status == "error" and "amount" in again.error["message"]  # same cause
    fixed = applications.retry_application(ctx, supervisor, app.id, {"amount": 21},
                                           "nilai luas bangunan dilengkapi")
    assert fixed.status == "completed" and fixed.error is None
    history = [e.action for e in applications.get_application(ctx, supervisor, app.id).history]
    assert history[-5:] == ["application.error", "application.retried", "application.error",
                            "application.retried", "application.completed"]
    assert verify_audit(ctx) == []


def test_a_runaway_script_is_stopped_and_isolated(ctx: EngineContext, region: str) -> None:
    upload(
        ctx, region, tiny_bpmn(key="runaway", steps=1, script="x = 0\nwhile x >= 0:\n    x = x + 1")
    )
    upload(ctx, region, tiny_bpmn(key="calm", steps=1))
    officer, _ = make_user(ctx, "front-office")
    task = start(ctx, officer, "runaway").tasks[0]
    app = tasks.complete_task(ctx, officer, task.id, {})
    assert app.status == "error" and app.error["element_id"] == "script"
    calm = start(ctx, officer, "calm")
    assert tasks.complete_task(ctx, officer, calm.tasks[0].id, {}).status == "completed"


def test_concurrent_completions_of_one_task_step_once(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, tiny_bpmn(steps=2))
    officer, _ = make_user(ctx, "front-office")
    task = start(ctx, officer).tasks[0]
    results: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            tasks.complete_task(ctx, officer, task.id, {})
            results.append("ok")
        except errors.ConflictError as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert len(results) == 8
    with ctx.uow() as uow:
        completed = uow._session.scalar(
            select(func.count())
            .select_from(EventRecord)
            .where(EventRecord.action == "task.completed")
        )
        ready = uow._session.scalars(
            select(TaskRecord.element_id).where(TaskRecord.state == "ready")
        ).all()
    assert completed == 1 and ready == ["step_2"]


def test_unknown_model_and_unknown_ids_are_not_found(ctx: EngineContext, region: str) -> None:
    officer, _ = make_user(ctx, "front-office")
    with pytest.raises(errors.NotFoundError):
        start(ctx, officer, "nope")
    with pytest.raises(errors.NotFoundError):
        tasks.get_task(ctx, officer, uuid.uuid4())


MULTI_INSTANCE_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="many" name="Banyak" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="front-office"><bpmn:flowNodeRef>each</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="each" name="Periksa">
      <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements>
      <bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>count</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each"/>
    <bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_huge_multi_instance_count_fails_the_application_not_the_server(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, MULTI_INSTANCE_BPMN)
    officer, _ = make_user(ctx, "front-office")
    small = applications.start_application(ctx, officer, "3273", "many", {}, {"count": 3})
    assert small.status == "running" and len(small.tasks) == 3
    huge = applications.start_application(ctx, officer, "3273", "many", {}, {"count": 10**7})
    assert huge.status == "error" and "instances" in huge.error["message"]
    # The 1,000 instances made before the stop are not steps anyone can work: no task rows,
    # nothing in the inbox but the small application's three.
    assert huge.tasks == []
    assert {t.application_id for t in tasks.inbox(ctx, officer).items} == {small.id}
    supervisor, _ = make_user(ctx, "supervisor")
    # Retried with a count under the cap: the instances made before are dropped, two run.
    retried = applications.retry_application(ctx, supervisor, huge.id, {"count": 2},
                                             "jumlah diperbaiki")
    assert retried.status == "running" and len(retried.tasks) == 2


def test_a_supervisor_reassigns_a_task_to_an_officer_of_its_role(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, tiny_bpmn())
    upload(ctx, region, tiny_bpmn(key="kepala", role="head-of-office"))
    ani, _ = make_user(ctx, "front-office")
    budi, _ = make_user(ctx, "front-office")
    head, _ = make_user(ctx, "head-of-office")
    supervisor, _ = make_user(ctx, "supervisor")
    task = start(ctx, ani).tasks[0]
    tasks.claim_task(ctx, ani, task.id)
    with pytest.raises(errors.PermissionDeniedError):
        tasks.assign_task(ctx, ani, task.id, budi.id)
    with pytest.raises(errors.InvalidInputError):
        tasks.assign_task(ctx, supervisor, task.id, head.id)  # lacks the role
    assert tasks.assign_task(ctx, supervisor, task.id, budi.id, "Ani cuti").claimed_by == budi.id
    with pytest.raises(errors.TaskClaimedError):
        tasks.complete_task(ctx, ani, task.id, {})
    assert tasks.complete_task(ctx, budi, task.id, {}).tasks[-1].element_id == "step_2"


def test_a_step_over_a_collection_gives_each_officer_the_element_to_work_on(
    ctx: EngineContext, region: str
) -> None:
    # Camunda 7's camunda:collection: one review per uploaded document, in the inbox with
    # the document it is about; the review data of each lands on its own task row.
    bpmn = tiny_bpmn(key="berkas", steps=1).replace(
        b'<bpmn:userTask id="step_1" name="Langkah 1">',
        b'<bpmn:userTask id="step_1" name="Periksa dokumen">',
    ).replace(
        b"</camunda:properties></bpmn:extensionElements></bpmn:userTask>",
        b"</camunda:properties></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics"
        b' camunda:collection="${documents}" camunda:elementVariable="document"/>'
        b"</bpmn:userTask>",
    )
    upload(ctx, region, bpmn)
    officer, _ = make_user(ctx, "front-office")
    documents = [{"kind": "KTP", "file": "doc-1"}, {"kind": "NPWP", "file": "doc-2"}]
    app = applications.start_application(ctx, officer, region, "berkas", {},
                                         {"documents": documents})
    page = tasks.inbox(ctx, officer)
    assert sorted((t.name, t.input["document"]["kind"]) for t in page.items) == [
        ("Periksa dokumen", "KTP"), ("Periksa dokumen", "NPWP")]
    for task in page.items:
        app = tasks.complete_task(ctx, officer, task.id, {"valid": task.input["document"]["kind"]
                                                          == "KTP"})
    assert app.status == "completed"
    full = applications.get_application(ctx, officer, app.id)
    assert {t.input["document"]["file"] for t in full.tasks} == {"doc-1", "doc-2"}


def test_a_step_that_stays_ready_keeps_its_claim_and_its_clock(
    ctx: EngineContext, region: str
) -> None:
    # Completing one of three parallel instances must not touch its ready siblings: a
    # sibling's claim, ready time and due time stay as they were (a defect reset them on
    # every completion, restarting the SLA clock of every open step of the application).
    ctx.clock = Clock(datetime(2026, 7, 6, 2, 0, tzinfo=UTC))
    bpmn = tiny_bpmn(key="paralel", steps=1).replace(
        b"</camunda:properties></bpmn:extensionElements></bpmn:userTask>",
        b"</camunda:properties></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics"
        b' camunda:collection="${documents}" camunda:elementVariable="document"/>'
        b"</bpmn:userTask>",
    )
    upload(ctx, region, bpmn)
    first, _ = make_user(ctx, "front-office")
    second, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, first, region, "paralel", {},
                                         {"documents": ["KTP", "NPWP", "SKRK"]})
    held, worked, other = [t for t in app.tasks if t.state == "ready"]
    tasks.claim_task(ctx, first, held.id)
    ctx.clock.advance(days=1)
    tasks.complete_task(ctx, second, worked.id, {})
    after = {t.id: t for t in applications.get_application(ctx, first, app.id).tasks}
    for before in (held, other):
        assert after[before.id].state == "ready"
        assert after[before.id].ready_at == before.ready_at
        assert after[before.id].due_at == before.due_at
    assert after[held.id].claimed_by == first.id
