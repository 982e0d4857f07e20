"""The live-workflow cache on the workers' paths (both databases): a timer the SLA worker
fires and an external task a worker fetches and answers run on (or read) the cached
workflow and leave it for the next step; a workflow cached at an older row version is never
used; nothing is kept from a transaction that did not commit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.wiring import build_context
from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM, Actor
from engine.services import applications, tasks, worker
from engine.services import external_tasks as ext
from engine.services.external_task_terms import TopicRequest
from engine.services.live_steps import live_key_of
from engine.services.variables import application_variables
from tests.factories import FIXTURES, Clock, make_region, make_user, upload
from tests.service.test_live_cache import counting

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
TOPIC = [TopicRequest("oss-check-nib", 60_000)]

_TASK = ('<bpmn:userTask id="{id}" name="{id}"><bpmn:extensionElements><camunda:properties>'
         '<camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/>'
         "</camunda:properties></bpmn:extensionElements></bpmn:userTask>")
_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="{key}" name="Izin {key}" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="front-office">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/><bpmn:endEvent id="end"/>"""
# prepare -> review (a 4-hour boundary timer escalates it) -> end; escalated -> end
TIMED = (_HEAD.format(key="timed", refs="".join(
    f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ("prepare", "review", "escalated")))
    + "".join(_TASK.format(id=i) for i in ("prepare", "review", "escalated")) + """
    <bpmn:boundaryEvent id="too_slow" attachedToRef="review">
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare"/>
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
    <bpmn:sequenceFlow id="f4" sourceRef="too_slow" targetRef="escalated"/>
    <bpmn:sequenceFlow id="f5" sourceRef="escalated" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""").encode()
# prepare -> the external task check_nib -> review -> end
CHECKED = (_HEAD.format(key="checked", refs="".join(
    f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ("prepare", "review")))
    + "".join(_TASK.format(id=i) for i in ("prepare", "review")) + """
    <bpmn:serviceTask id="check_nib" camunda:type="external" camunda:topic="oss-check-nib"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare"/>
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="check_nib"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check_nib" targetRef="review"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""").encode()

# One step; the process and the step both due in a working day.
SLAED = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="slaed" name="Izin bertenggat" isExecutable="true">
    <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/></camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes"><bpmn:lane id="front-office"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review" name="Periksa"><bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def ready(view) -> dict[str, object]:
    return {t.element_id: t.id for t in view.tasks if t.state == "ready"}


def variables(ctx: EngineContext, app_id) -> dict:
    return application_variables(ctx, SYSTEM, app_id)["variables"]


@pytest.fixture
def officer(ctx: EngineContext) -> Actor:
    ctx.clock = Clock(NOW)
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMED)
    upload(ctx, "3273", CHECKED)
    upload(ctx, "3273", SLAED)
    upload(ctx, "3273", (FIXTURES / "bpmn" / "external" / "external-task.bpmn").read_bytes())
    return make_user(ctx, "front-office")[0]


@pytest.fixture
def other(
    ctx: EngineContext, officer: Actor, db_url: str, tmp_path: Path
) -> Iterator[EngineContext]:
    """Another process on the same database: its own live cache."""
    other = build_context(db_url, signing_key_dir=str(tmp_path / "other-keys"))
    other.clock = ctx.clock
    yield other
    other.session_factory.kw["bind"].dispose()


@pytest.fixture
def restores(ctx: EngineContext, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the workflows restored from a saved state (a cache miss restores one)."""
    codec, counted = ctx.runtime._codec, []
    real = codec.state_from_dict

    def counting_restore(*args, **kwargs):
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(codec, "state_from_dict", counting_restore)
    return counted


# --- timers -----------------------------------------------------------------------------


def test_a_timer_fires_on_the_cached_workflow_and_leaves_it_for_the_next_step(
    ctx: EngineContext, officer: Actor, restores: list[int]
) -> None:
    app = applications.start_application(ctx, officer, "3273", "timed", {}, {"n": 1})
    tasks.complete_task(ctx, officer, ready(app)["prepare"], {"p": 2})
    report = worker.run_pass(ctx, NOW + timedelta(hours=5))
    assert report.timers_fired == 1
    assert (ctx.live.hits, ctx.live.misses) == (2, 0) and restores == []
    view = applications.get_application(ctx, officer, app.id)
    assert list(ready(view)) == ["escalated"]
    done = tasks.complete_task(ctx, officer, ready(view)["escalated"], {"e": 3})
    assert (ctx.live.hits, ctx.live.misses) == (3, 0) and restores == []
    assert done.status == "completed"
    assert variables(ctx, app.id) == {"n": 1, "p": 2, "e": 3}


def test_a_timer_never_fires_on_a_workflow_cached_at_an_older_row_version(
    ctx: EngineContext, other: EngineContext, officer: Actor, restores: list[int]
) -> None:
    """This process cached the workflow before the timer existed; another process completed
    the step that started it. The stale object (no timer waiting) must not be taken: the
    timer fires on the restored state."""
    app = applications.start_application(ctx, officer, "3273", "timed", {}, {})
    tasks.complete_task(other, officer, ready(app)["prepare"], {"p": 2})
    assert len(ctx.live) == 1
    report = worker.run_pass(ctx, NOW + timedelta(hours=5))
    assert (report.timers_fired, report.timers_failed) == (1, 0)
    assert (ctx.live.hits, ctx.live.misses) == (0, 1) and len(restores) == 1
    view = applications.get_application(ctx, officer, app.id)
    assert list(ready(view)) == ["escalated"]
    tasks.complete_task(ctx, officer, ready(view)["escalated"], {})  # kept by the worker
    assert (ctx.live.hits, ctx.live.misses) == (1, 1) and len(restores) == 1
    assert variables(ctx, app.id) == {"p": 2}


def test_a_timer_that_failed_to_commit_keeps_nothing(
    ctx: EngineContext, officer: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = applications.start_application(ctx, officer, "3273", "timed", {}, {})
    tasks.complete_task(ctx, officer, ready(app)["prepare"], {})
    real = worker.apply_outcome

    def conflict(*args, **kwargs):
        real(*args, **kwargs)
        raise errors.ConcurrentUpdateError("lost the row after the run")

    monkeypatch.setattr(worker, "apply_outcome", conflict)
    report = worker.run_pass(ctx, NOW + timedelta(hours=5))
    assert report.timers_fired == 0
    assert len(ctx.live) == 0  # the object the failed fire ran is gone
    monkeypatch.setattr(worker, "apply_outcome", real)
    assert worker.run_pass(ctx, NOW + timedelta(hours=5)).timers_fired == 1
    view = applications.get_application(ctx, officer, app.id)
    assert list(ready(view)) == ["escalated"]
    assert (ctx.live.hits, ctx.live.misses) == (2, 1) and len(ctx.live) == 1


def test_a_breach_pass_reads_no_state_and_carries_the_cached_workflow(
    ctx: EngineContext, officer: Actor, restores: list[int]
) -> None:
    app = applications.start_application(ctx, officer, "3273", "slaed", {}, {"n": 1})
    with counting(ctx) as passed:
        report = worker.run_pass(ctx, NOW + timedelta(days=10))
    assert (report.steps_breached, report.applications_breached) == (1, 1)
    assert not any("applications.state" in s for s in passed)
    assert current_key(ctx, app.id) in ctx.live  # carried across the breach's row bump
    done = tasks.complete_task(ctx, officer, ready(app)["review"], {"r": 2})
    assert (ctx.live.hits, ctx.live.misses) == (1, 0) and restores == []
    assert done.status == "completed"
    assert variables(ctx, app.id) == {"n": 1, "r": 2}


# --- external tasks -----------------------------------------------------------------------


def test_fetch_and_lock_reads_the_cached_workflow_and_gives_it_back(
    ctx: EngineContext, officer: Actor, restores: list[int]
) -> None:
    robot = make_user(ctx, "external-worker")[0]
    app = applications.start_application(ctx, officer, "3273", "checked", {}, {"nib": "8"})
    tasks.complete_task(ctx, officer, ready(app)["prepare"], {"p": 1})
    (task,) = ext.fetch_and_lock(ctx, robot, "w1", TOPIC, 5)
    assert task.variables == {"nib": "8", "p": 1}
    assert (ctx.live.hits, ctx.live.misses) == (2, 0) and restores == []
    with counting(ctx) as extended:
        ext.extend_lock(ctx, robot, task.id, "w1", 90_000)
    with counting(ctx) as completed:
        ext.complete(ctx, robot, task.id, "w1", {"nib_valid": True})
    assert not any("applications.state" in s for s in extended + completed)
    assert (ctx.live.hits, ctx.live.misses) == (3, 0) and restores == []
    view = applications.get_application(ctx, officer, app.id)
    tasks.complete_task(ctx, officer, ready(view)["review"], {"ok": True})
    assert (ctx.live.hits, ctx.live.misses) == (4, 0) and restores == []
    assert variables(ctx, app.id) == {"nib": "8", "p": 1, "nib_valid": True, "ok": True}


def test_fetch_and_lock_on_a_miss_keeps_what_it_restored_for_the_result(
    ctx: EngineContext, officer: Actor, restores: list[int]
) -> None:
    robot = make_user(ctx, "external-worker")[0]
    app = applications.start_application(ctx, officer, "3273", "external-task", {}, {"nib": "8"})
    ctx.live.clear()
    fetch_misses_then_the_result_hits(ctx, robot, officer, app.id, {"nib": "8"}, restores)


def test_fetch_and_lock_never_reads_a_workflow_cached_at_an_older_row_version(
    ctx: EngineContext, other: EngineContext, officer: Actor, restores: list[int]
) -> None:
    """The cached object is from before the external task existed: taken for the row the
    fetch read, the task would be found not waiting and cancelled."""
    robot = make_user(ctx, "external-worker")[0]
    app = applications.start_application(ctx, officer, "3273", "checked", {}, {"nib": "8"})
    tasks.complete_task(other, officer, ready(app)["prepare"], {"p": 1})
    assert len(ctx.live) == 1
    fetch_misses_then_the_result_hits(ctx, robot, officer, app.id, {"nib": "8", "p": 1}, restores)


def fetch_misses_then_the_result_hits(
    ctx: EngineContext, robot: Actor, officer: Actor, app_id, expected: dict, restores: list[int]
) -> None:
    """A fetch that misses restores the state once and gives the object back: the result
    runs on it (a hit, no second restore) and the process moves on to `review`."""
    (task,) = ext.fetch_and_lock(ctx, robot, "w1", TOPIC, 5)
    assert task.variables == expected
    assert (ctx.live.hits, ctx.live.misses, len(restores)) == (0, 1, 1)
    ext.complete(ctx, robot, task.id, "w1", {"nib_valid": True})
    assert (ctx.live.hits, ctx.live.misses, len(restores)) == (1, 1, 1)
    view = applications.get_application(ctx, officer, app_id)
    assert list(ready(view)) == ["review"]


def test_a_fetch_that_did_not_commit_gives_nothing_back(
    ctx: EngineContext, officer: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    robot = make_user(ctx, "external-worker")[0]
    applications.start_application(ctx, officer, "3273", "external-task", {}, {})

    def fails(*args, **kwargs):
        raise errors.ConcurrentUpdateError("the audit insert failed")

    monkeypatch.setattr(ext, "_audit", fails)
    with pytest.raises(errors.ConcurrentUpdateError):
        ext.fetch_and_lock(ctx, robot, "w1", TOPIC, 1)
    assert len(ctx.live) == 0 and ctx.live.hits == 1


def test_a_bpmn_error_runs_on_the_cached_workflow_and_leaves_it(
    ctx: EngineContext, officer: Actor, restores: list[int]
) -> None:
    robot = make_user(ctx, "external-worker")[0]
    app = applications.start_application(ctx, officer, "3273", "external-task", {}, {"nib": "8"})
    (task,) = ext.fetch_and_lock(ctx, robot, "w1", TOPIC, 1)
    ext.bpmn_error(ctx, robot, task.id, "w1", "NIB_INVALID", "tidak terdaftar", {"why": "x"})
    assert (ctx.live.hits, ctx.live.misses) == (2, 0) and restores == []
    view = applications.get_application(ctx, officer, app.id)
    assert list(ready(view)) == ["fix"]
    done = tasks.complete_task(ctx, officer, ready(view)["fix"], {})
    assert (ctx.live.hits, ctx.live.misses) == (3, 0) and restores == []
    assert done.status == "completed"


def test_an_uncaught_bpmn_error_still_stops_the_application(
    ctx: EngineContext, officer: Actor
) -> None:
    robot = make_user(ctx, "external-worker")[0]
    app = applications.start_application(ctx, officer, "3273", "external-task", {}, {})
    (task,) = ext.fetch_and_lock(ctx, robot, "w1", TOPIC, 1)
    ext.bpmn_error(ctx, robot, task.id, "w1", "UNKNOWN", None, {})
    view = applications.get_application(ctx, officer, app.id)
    assert view.status == "error" and view.error["element_id"] == "check_nib"
    # The workflow, only read, is given back under the row version the incident committed.
    assert len(ctx.live) == 1 and current_key(ctx, app.id) in ctx.live


def test_a_failure_and_a_longer_lock_carry_the_cached_workflow(
    ctx: EngineContext, officer: Actor, restores: list[int]
) -> None:
    robot = make_user(ctx, "external-worker")[0]
    app = applications.start_application(ctx, officer, "3273", "external-task", {}, {"nib": "8"})
    (task,) = ext.fetch_and_lock(ctx, robot, "w1", TOPIC, 1)
    with counting(ctx) as failed:
        ext.fail(ctx, robot, task.id, "w1", "OSS tidak menjawab", retries=2, retry_timeout=0)
    (again,) = ext.fetch_and_lock(ctx, robot, "w2", TOPIC, 1)
    with counting(ctx) as extended:
        ext.extend_lock(ctx, robot, again.id, "w2", 120_000)
    assert not any("applications.state" in s for s in failed + extended)
    assert current_key(ctx, app.id) in ctx.live
    ext.complete(ctx, robot, again.id, "w2", {"nib_valid": True})
    assert (ctx.live.hits, ctx.live.misses) == (3, 0) and restores == []
    view = applications.get_application(ctx, officer, app.id)
    assert list(ready(view)) == ["review"]


def current_key(ctx: EngineContext, app_id):
    with ctx.reader() as uow:
        return live_key_of(uow.repos.applications.get(app_id))
