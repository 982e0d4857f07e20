"""External service tasks through the service layer: fetch and lock, complete, failure and
retries to an incident, BPMN errors, lock expiry, and no task handed out twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.services import applications, variables
from engine.services import external_tasks as ext
from engine.services.external_task_terms import TopicRequest
from tests.factories import FIXTURES, Clock, make_region, make_user, upload

MODELS = FIXTURES / "bpmn" / "external"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
CHECK = [TopicRequest("oss-check-nib", 60_000)]


@pytest.fixture
def clock(ctx: EngineContext) -> Clock:
    ctx.clock = Clock(NOW)
    return ctx.clock  # type: ignore[return-value]


@pytest.fixture
def region(ctx: EngineContext, clock: Clock) -> str:
    make_region(ctx, "3273")
    upload(ctx, "3273", (MODELS / "external-task.bpmn").read_bytes())
    upload(ctx, "3273", (MODELS / "external-task-zeebe.bpmn").read_bytes())
    return "3273"


@pytest.fixture
def counter(ctx: EngineContext, region: str):
    return make_user(ctx, "front-office", region=region)[0]


@pytest.fixture
def worker(ctx: EngineContext, region: str):
    return make_user(ctx, "external-worker", region=region)[0]


def start(ctx: EngineContext, actor, key: str = "external-task", data=None):
    return applications.start_application(ctx, actor, "3273", key, {}, data or {"nib": "81"})


def app_of(ctx: EngineContext, actor, app_id):
    return applications.get_application(ctx, actor, app_id)


def ready(view) -> list[str]:
    return [t.element_id for t in view.tasks if t.state == "ready"]


def data_of(ctx: EngineContext, app_id) -> dict:
    admin = make_user(ctx, "admin", region=None)[0]
    return variables.application_variables(ctx, admin, app_id)["variables"]


def test_a_worker_fetches_completes_and_the_process_moves_on(
    ctx: EngineContext, counter, worker
) -> None:
    app = start(ctx, counter)
    assert app.status == "running" and ready(app) == []
    (task,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 10)
    assert (task.topic, task.element_id, task.application_id) == (
        "oss-check-nib",
        "check_nib",
        app.id,
    )
    assert task.variables == {"nib": "81"} and task.lock_expires_at == NOW.replace(minute=1)
    assert ext.fetch_and_lock(ctx, worker, "w2", CHECK, 10) == []  # locked
    ext.complete(ctx, worker, task.id, "w1", {"nib_valid": True})
    assert ready(app_of(ctx, counter, app.id)) == ["review"]
    assert data_of(ctx, app.id) == {"nib": "81", "nib_valid": True}
    with pytest.raises(errors.ExternalTaskLockError):
        ext.complete(ctx, worker, task.id, "w1", {})
    history = [e.action for e in app_of(ctx, counter, app.id).history]
    assert history[1:] == ["external_task.locked", "external_task.completed"]


def test_the_zeebe_task_definition_type_is_the_topic(ctx: EngineContext, counter, worker) -> None:
    app = start(ctx, counter, "external-task-zeebe")
    (task,) = ext.fetch_and_lock(ctx, worker, "w1", [TopicRequest("bsre-sign", 1000)], 5)
    assert task.element_id == "sign"
    ext.complete(ctx, worker, task.id, "w1", {"signed": "yes"})
    assert ready(app_of(ctx, counter, app.id)) == ["review"]


def test_an_expired_lock_lets_another_worker_fetch_and_the_first_is_refused(
    ctx: EngineContext, clock: Clock, counter, worker
) -> None:
    start(ctx, counter)
    (first,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1)
    ext.extend_lock(ctx, worker, first.id, "w1", 120_000)
    clock.advance(seconds=90)
    assert ext.fetch_and_lock(ctx, worker, "w2", CHECK, 1) == []  # extended: still held
    clock.advance(seconds=31)
    (again,) = ext.fetch_and_lock(ctx, worker, "w2", CHECK, 1)
    assert again.id == first.id and again.worker_id == "w2"
    with pytest.raises(errors.ExternalTaskLockError, match="not locked by worker 'w1'"):
        ext.complete(ctx, worker, first.id, "w1", {})
    with pytest.raises(errors.ExternalTaskLockError):
        ext.extend_lock(ctx, worker, first.id, "w1", 1000)
    clock.advance(minutes=2)
    with pytest.raises(errors.ExternalTaskLockError, match="expired"):
        ext.complete(ctx, worker, first.id, "w2", {})


def test_failures_retry_after_the_timeout_then_become_an_incident(
    ctx: EngineContext, clock: Clock, counter, worker
) -> None:
    app = start(ctx, counter)
    (task,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1)
    ext.fail(ctx, worker, task.id, "w1", "OSS tidak menjawab", retries=1, retry_timeout=30_000)
    assert ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1) == []  # waiting out the timeout
    clock.advance(seconds=30)
    (retry,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1)
    assert (retry.retries, retry.error_message) == (1, "OSS tidak menjawab")
    ext.fail(ctx, worker, task.id, "w1", "OSS masih mati", retries=0, retry_timeout=0)
    stopped = app_of(ctx, counter, app.id)
    assert stopped.status == "error" and stopped.error is not None
    assert "OSS masih mati" in stopped.error["message"]
    assert stopped.error["element_id"] == "check_nib"
    assert ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1) == []
    supervisor = make_user(ctx, "supervisor", region="3273")[0]
    applications.retry_application(ctx, supervisor, app.id, {}, "OSS kembali normal")
    (reopened,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1)
    ext.complete(ctx, worker, reopened.id, "w1", {})
    assert ready(app_of(ctx, counter, app.id)) == ["review"]


def test_a_bpmn_error_is_caught_by_the_error_boundary_event(
    ctx: EngineContext, counter, worker
) -> None:
    app = start(ctx, counter)
    (task,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1)
    ext.bpmn_error(ctx, worker, task.id, "w1", "NIB_INVALID", "NIB tidak terdaftar", {"why": "x"})
    after = app_of(ctx, counter, app.id)
    assert after.status == "running" and ready(after) == ["fix"]
    assert data_of(ctx, app.id)["why"] == "x"


def test_an_uncaught_bpmn_error_is_an_incident(ctx: EngineContext, counter, worker) -> None:
    app = start(ctx, counter)
    (task,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1)
    ext.bpmn_error(ctx, worker, task.id, "w1", "OTHER_CODE", None, {})
    stopped = app_of(ctx, counter, app.id)
    assert stopped.status == "error" and "OTHER_CODE" in stopped.error["message"]


def test_only_workers_and_admins_of_the_region(ctx: EngineContext, counter, worker) -> None:
    start(ctx, counter)
    with pytest.raises(errors.PermissionDeniedError):
        ext.fetch_and_lock(ctx, counter, "w1", CHECK, 1)
    make_region(ctx, "3510")
    elsewhere = make_user(ctx, "external-worker", region="3510")[0]
    assert ext.fetch_and_lock(ctx, elsewhere, "w1", CHECK, 1) == []
    (task,) = ext.fetch_and_lock(ctx, worker, "w1", CHECK, 1)
    with pytest.raises(errors.NotFoundError):
        ext.complete(ctx, elsewhere, task.id, "w1", {})
    with pytest.raises(errors.InvalidInputError):
        ext.fetch_and_lock(ctx, worker, "w1", [TopicRequest("oss-check-nib", 0)], 1)


def test_concurrent_fetches_never_hand_out_one_task_twice(
    ctx: EngineContext, counter, worker
) -> None:
    for _ in range(6):
        start(ctx, counter)
    got: list[list] = []
    barrier = threading.Barrier(3)

    def fetch(name: str) -> None:
        barrier.wait()
        got.append(ext.fetch_and_lock(ctx, worker, name, CHECK, 3))

    threads = [threading.Thread(target=fetch, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [t.id for batch in got for t in batch]
    assert len(ids) == len(set(ids)) == 6


def test_a_service_task_without_a_topic_is_refused_at_upload(ctx: EngineContext, region) -> None:
    bpmn = (MODELS / "external-task.bpmn").read_text()
    for broken, field in [
        (
            bpmn.replace(' camunda:type="external" camunda:topic="oss-check-nib"', ""),
            "camunda:topic",
        ),
        (
            bpmn.replace(
                ' camunda:type="external" camunda:topic="oss-check-nib"', ' camunda:class="org.Foo"'
            ),
            "camunda:class",
        ),
    ]:
        with pytest.raises(errors.ModelInvalidError) as refused:
            upload(ctx, "3273", broken.encode())
        (problem,) = refused.value.problems
        assert (problem.element_id, problem.field) == ("check_nib", field)
        assert (
            'camunda:topic="<topic>"' in problem.message
            and "zeebe:taskDefinition" in problem.message
        )
