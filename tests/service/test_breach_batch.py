"""The worker records a batch of step breaches set-wise (issue #16), on both databases.

One UPDATE marks the batch's steps; at commit one locked read, one UPDATE and one INSERT
advance every application's audit chain, whatever the batch's size. Each breach is
recorded once, each application's chain stays contiguous and verifies, and an edited
breach event is caught.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, select, text

from engine.context import EngineContext
from engine.persistence.tables import ApplicationRecord, EventRecord, TaskRecord
from engine.services import applications, worker
from engine.services.audit import verify_audit
from tests.factories import make_region, make_user, upload

_PROPS = ('<bpmn:extensionElements><camunda:properties><camunda:property name="sla" '
          'value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties>'
          '</bpmn:extensionElements>')
TWIN_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="twin" name="Izin kembar" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="front-office" name="Petugas">
      <bpmn:flowNodeRef>left</bpmn:flowNodeRef><bpmn:flowNodeRef>right</bpmn:flowNodeRef>
      </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:userTask id="left" name="Kiri">{_PROPS}</bpmn:userTask>
    <bpmn:userTask id="right" name="Kanan">{_PROPS}</bpmn:userTask>
    <bpmn:parallelGateway id="join"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="left"/>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="right"/>
    <bpmn:sequenceFlow id="f4" sourceRef="left" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="right" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def _start(ctx: EngineContext, regions: tuple[str, ...]) -> list[Any]:
    started = []
    for region in regions:
        with ctx.uow() as uow:
            known = uow.repos.regions.get(region) is not None
        if not known:
            make_region(ctx, region)
            upload(ctx, region, TWIN_BPMN)
        officer, _ = make_user(ctx, "front-office", region=region)
        started.append(applications.start_application(ctx, officer, region, "twin", {}, {}))
    return started


@contextmanager
def _sent(ctx: EngineContext) -> Iterator[Counter[str]]:
    """Statements sent, by their first three words: calls, and for an UPDATE run as
    executemany, one per parameter set (each is a statement of its own)."""
    engine: Engine = ctx.session_factory.kw["bind"]
    seen: Counter[str] = Counter()

    def count(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        per_set = many and statement.startswith("UPDATE")
        seen[" ".join(statement.split()[:3])] += len(params) if per_set else 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _mark_steps(ctx: EngineContext, at: Any) -> tuple[int, Counter[str]]:
    with _sent(ctx) as seen:
        marked = worker._mark_batch(ctx, at, 100, "task")
    return marked, seen


def test_a_batch_costs_the_same_statements_whatever_its_size(
    ctx: EngineContext, db_url: str
) -> None:
    one = _start(ctx, ("3273",))
    later = ctx.clock() + timedelta(days=30)
    small, small_sent = _mark_steps(ctx, later)
    _start(ctx, ("3273", "3273", "3171", "3171"))
    large, large_sent = _mark_steps(ctx, later)
    assert (small, large) == (2, 8)
    assert small_sent["UPDATE tasks SET"] == large_sent["UPDATE tasks SET"] == 1
    if db_url.startswith("postgresql"):  # SQLite moves the heads row by row (one writer)
        assert sum(large_sent.values()) == sum(small_sent.values()) == 7
    assert verify_audit(ctx) == []
    assert one  # started before the first batch: its two steps were that batch


def test_each_breach_is_recorded_once_and_every_chain_verifies(ctx: EngineContext) -> None:
    started = _start(ctx, ("3273", "3273", "3273", "3171"))
    later = ctx.clock() + timedelta(days=30)
    report = worker.run_pass(ctx, later, batch=3)  # batches split applications' steps
    assert (report.steps_breached, report.applications_breached) == (8, 4)
    assert worker.run_pass(ctx, later, batch=3).steps_breached == 0
    with ctx.uow() as uow:
        session = uow._session
        breached = session.scalars(select(TaskRecord.breached_at)).all()
        subjects = Counter(session.scalars(
            select(EventRecord.subject).where(EventRecord.action == "sla.breached")))
        for app in started:
            seqs = session.scalars(select(EventRecord.seq).where(
                EventRecord.chain == str(app.id)).order_by(EventRecord.seq)).all()
            assert seqs == list(range(1, len(seqs) + 1))
        # The pass sealed roots over every chain it moved (several a region: one UPDATE).
        heads = session.execute(select(ApplicationRecord.audit_seq,
                                       ApplicationRecord.audit_rooted_seq,
                                       ApplicationRecord.audit_pending)).all()
    assert {(seq == rooted, pending) for seq, rooted, pending in heads} == {(True, False)}
    assert len(breached) == 8 and all(b is not None for b in breached)
    assert len(subjects) == 12 and set(subjects.values()) == {1}
    assert verify_audit(ctx) == []
    with ctx.uow() as uow:  # an edited breach event is caught
        uow._session.execute(text(
            "UPDATE events SET subject = 'task:forged' WHERE id = (SELECT min(id) FROM events "
            "WHERE action = 'sla.breached')"))
        uow.commit()
    broken = verify_audit(ctx)
    assert len(broken) == 1 and "content" in broken[0].reason


def test_marked_steps_keep_their_data(ctx: EngineContext) -> None:
    (app,) = _start(ctx, ("3273",))
    with ctx.uow() as uow:
        uow._session.execute(text("UPDATE tasks SET data = :d"), {"d": '{"kept": true}'})
        uow.commit()
    worker._mark_batch(ctx, ctx.clock() + timedelta(days=30), 10, "task")
    with ctx.uow() as uow:
        rows = uow._session.scalars(select(TaskRecord).where(
            TaskRecord.application_id == app.id)).all()
        assert [r.data for r in rows] == [{"kept": True}] * 2
        assert all(r.breached_at is not None for r in rows)
