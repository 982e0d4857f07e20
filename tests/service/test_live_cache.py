"""The live-workflow cache (engine/workflow/live_cache.py) at the service layer, both databases:
a step reuses the object the last one left only while the locked row is the row it was saved
as, never after a failed step, never shared between threads, and not at all when disabled.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from api.wiring import build_context
from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM, Actor
from engine.services import applications, tasks
from engine.services.variables import application_variables
from engine.workflow.live_cache import LiveWorkflows
from tests.factories import make_region, make_user, tiny_bpmn, upload

PARALLEL_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="twin" name="Izin kembar" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="front-office" name="Petugas">
      <bpmn:flowNodeRef>left</bpmn:flowNodeRef><bpmn:flowNodeRef>right</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>after</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:userTask id="left" name="Kiri"><bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:userTask id="right" name="Kanan"><bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:parallelGateway id="join"/>
    <bpmn:userTask id="after" name="Sesudah"><bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="left"/>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="right"/>
    <bpmn:sequenceFlow id="f4" sourceRef="left" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="right" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="after"/>
    <bpmn:sequenceFlow id="f7" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def officer(ctx: EngineContext) -> Actor:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=3))
    upload(ctx, "3273", PARALLEL_BPMN)
    return make_user(ctx, "front-office")[0]


@contextmanager
def counting(ctx: EngineContext) -> Iterator[list[str]]:
    engine: Engine = ctx.session_factory.kw["bind"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def ready(view) -> dict[str, object]:
    return {t.element_id: t.id for t in view.tasks if t.state == "ready"}


def variables(ctx: EngineContext, app_id) -> dict:
    return application_variables(ctx, SYSTEM, app_id)["variables"]


def test_a_step_after_a_step_runs_on_the_cached_workflow_without_reading_the_state(
    ctx: EngineContext, officer: Actor
) -> None:
    app = applications.start_application(ctx, officer, "3273", "tiny", {"name": "Siti"}, {})
    assert len(ctx.live) == 1  # the start left it
    with counting(ctx) as hit:
        view = tasks.complete_task(ctx, officer, ready(app)["step_1"], {"a": 1})
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)
    ctx.live.clear()
    with counting(ctx) as miss:
        view = tasks.complete_task(ctx, officer, ready(view)["step_2"], {"b": 2})
    assert (ctx.live.hits, ctx.live.misses) == (1, 1)
    # A miss reads the deferred state column once more; a hit reads it never.
    assert len(miss) == len(hit) + 1
    assert not any("applications.state" in s for s in hit)
    assert sum("applications.state" in s for s in miss) == 1
    assert ready(view) == {"step_3": ready(view)["step_3"]}
    assert variables(ctx, app.id) == {"a": 1, "b": 2}


def test_a_workflow_cached_at_an_older_row_version_is_never_used(
    ctx: EngineContext, db_url: str, officer: Actor, tmp_path: Path
) -> None:
    """Another process (its own cache) moves the application on: this process's cached
    object is of an older row version and must not be taken for the row it now locks."""
    other = build_context(db_url, signing_key_dir=str(tmp_path / "signing-keys"))
    try:
        app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
        view = tasks.complete_task(ctx, officer, ready(app)["step_1"], {"a": 1})  # cached here
        view = tasks.complete_task(other, officer, ready(view)["step_2"], {"b": 2})
        assert len(ctx.live) == 1  # still holding the workflow with step_2 ready
        view = tasks.complete_task(ctx, officer, ready(view)["step_3"], {"c": 3})
    finally:
        other.session_factory.kw["bind"].dispose()
    assert view.status == "completed"
    assert ctx.live.misses == 1
    assert variables(ctx, app.id) == {"a": 1, "b": 2, "c": 3}


def test_a_step_that_fails_after_running_the_workflow_leaves_nothing_behind(
    ctx: EngineContext, officer: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    step_1 = ready(app)["step_1"]
    real = tasks.progress_view

    def fails(*args, **kwargs):
        raise errors.ConcurrentUpdateError("the database failed after the run")

    monkeypatch.setattr(tasks, "progress_view", fails)
    with pytest.raises(errors.ConcurrentUpdateError):
        tasks.complete_task(ctx, officer, step_1, {"a": "lost"})
    assert len(ctx.live) == 0  # the object the failed step changed is gone
    monkeypatch.setattr(tasks, "progress_view", real)
    view = tasks.complete_task(ctx, officer, step_1, {"a": "kept"})
    assert list(ready(view)) == ["step_2"]
    assert variables(ctx, app.id) == {"a": "kept"}
    assert len(ctx.live) == 1


def test_a_claim_carries_the_cached_workflow_to_the_new_row_version(
    ctx: EngineContext, officer: Actor
) -> None:
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    tasks.claim_task(ctx, officer, ready(app)["step_1"])
    tasks.unclaim_task(ctx, officer, ready(app)["step_1"])
    tasks.claim_task(ctx, officer, ready(app)["step_1"])
    tasks.complete_task(ctx, officer, ready(app)["step_1"], {})
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)


def test_two_threads_completing_two_tasks_of_one_application(
    ctx: EngineContext, officer: Actor
) -> None:
    for _ in range(3):
        app = applications.start_application(ctx, officer, "3273", "twin", {}, {})
        twins = ready(app)
        assert sorted(twins) == ["left", "right"]
        barrier, results = threading.Barrier(2), {}

        def complete(name: str, twins=twins, barrier=barrier, results=results) -> None:
            barrier.wait()
            try:
                results[name] = tasks.complete_task(ctx, officer, twins[name], {name: True})
            except errors.ConflictError as exc:  # 409, as without the cache
                results[name] = exc

        threads = [threading.Thread(target=complete, args=(n,)) for n in twins]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        done = [n for n, r in results.items() if not isinstance(r, Exception)]
        assert done, results
        for name in set(twins) - set(done):  # the loser tries again, as a client would
            tasks.complete_task(ctx, officer, twins[name], {name: True})
        view = applications.get_application(ctx, officer, app.id)
        assert list(ready(view)) == ["after"]
        assert variables(ctx, app.id) == {"left": True, "right": True}
        view = tasks.complete_task(ctx, officer, ready(view)["after"], {})
        assert view.status == "completed"


def test_with_the_cache_disabled_every_step_restores(ctx: EngineContext, officer: Actor) -> None:
    ctx.live = LiveWorkflows(0)
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    view = tasks.complete_task(ctx, officer, ready(app)["step_1"], {"a": 1})
    view = tasks.complete_task(ctx, officer, ready(view)["step_2"], {"b": 2})
    assert len(ctx.live) == 0 and ctx.live.hits == 0
    assert variables(ctx, app.id) == {"a": 1, "b": 2}
