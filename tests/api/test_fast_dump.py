"""The compiled dump (`api/fast_dump.py`) answers exactly what marshmallow's `Schema.dump`
answers: the same JSON text, byte for byte, over real answers of a whole PBG walk and
over the edge cases a hand-made view can hold."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from marshmallow import Schema, fields

from api import IsoJSONProvider
from api.fast_dump import CompiledDump, compile_dumper
from api.schemas import (
    ApplicationProgressSchema,
    ApplicationSchema,
    TaskDetailSchema,
    TaskPageSchema,
    TaskSchema,
)
from bench.world import build_world, pbg_scenario
from engine.context import EngineContext
from engine.domain.views import ApplicationView, EventView, TaskView
from engine.services import applications, payments, tasks


def _json(value: Any) -> bytes:
    return json.dumps(value, default=IsoJSONProvider.default).encode()


def _marshmallow(schema: Schema, obj: Any, many: bool = False) -> Any:
    """marshmallow's own walk, field by field, nested schemas included."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CompiledDump, "dump", Schema.dump)
        return Schema.dump(schema, obj, many=many)


def _same(schema: Schema, obj: Any, many: bool = False) -> None:
    reference = _marshmallow(schema, obj, many)
    compiled = schema.dump(obj, many=many)
    assert _json(compiled) == _json(reference)
    assert compiled == reference


def test_every_answer_of_a_pbg_walk_dumps_as_marshmallow_does(ctx: EngineContext) -> None:
    world = build_world(ctx, 2)
    scenario = pbg_scenario()
    counter = world.actors["front-office"]
    answer = applications.start_application(ctx, counter, "3273", scenario.key,
                                             scenario.applicant, scenario.data)
    answers = [answer]
    for step in scenario.steps:
        task = next(t for t in answer.tasks
                    if t.state == "ready" and t.element_id == step.element_id)
        if step.pay:
            item = next(i for i in payments.fee_items(ctx, counter, answer.id)
                        if i["element_id"] == step.element_id)
            payments.record_payment(ctx, counter, answer.id, item["fee_item"], item["amount"],
                                    f"REF-{uuid.uuid4().hex[:8]}", "virtual_account")
        answer = tasks.complete_task(ctx, world.actor_for(task.role), task.id, step.data)
        answers.append(answer)
    assert answer.status == "completed" and answer.outcome
    full = applications.get_application(ctx, counter, answer.id)
    assert full.history and full.fees  # the whole view: events, fee items, every task
    progress, whole = ApplicationProgressSchema(), ApplicationSchema()
    for obj in answers:
        _same(progress, obj)
    _same(whole, full)
    _same(progress, full)
    assert progress._compiled is not None and whole._compiled is not None
    _same(TaskSchema(), full.tasks, many=True)
    _same(TaskPageSchema(), {"items": full.tasks, "total": 9, "limit": 50, "offset": 0})
    started = applications.start_application(ctx, counter, "3273", scenario.key,
                                             scenario.applicant, scenario.data)
    detail = tasks.get_task(ctx, counter, started.tasks[0].id)
    _same(TaskDetailSchema(), detail)
    inbox = tasks.inbox(ctx, counter, limit=50, offset=0)
    assert inbox.items  # the started application's first step, at least
    _same(TaskPageSchema(), inbox)


def _task(**changes: Any) -> TaskView:
    now = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)
    values: dict[str, Any] = dict(
        id=uuid.uuid4(), application_id=uuid.uuid4(), element_id="review", name="Tinjau \u00e9",
        role="front-office", state="ready", claimed_by=None, ready_at=now, due_at=None,
        overdue=False, sla=None, fee=0, form=None,
    )
    values.update(changes)
    return TaskView(**values)


def _application(**changes: Any) -> ApplicationView:
    jakarta = timezone(timedelta(hours=7))
    values: dict[str, Any] = dict(
        id=uuid.uuid4(), tracking_code="PBG-0001", status="running", process_key="pbg",
        version=3, title="Persetujuan \u201cBangunan\u201d", region="3273",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=jakarta),
        updated_at=datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC), completed_at=None,
        applicant={"name": "Siti", "nested": {"a": [1, 2.5, None, True]}}, error=None,
    )
    values.update(changes)
    return ApplicationView(**values)


class _Moment(datetime):
    """A datetime subclass (as some libraries hand out): formatted by marshmallow."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "moment " + super().isoformat(sep, timespec)


EDGE_CASES = [
    _application(),
    _application(
        error={"element_id": "x", "message": "boom"}, outcome={"kind": "granted"},
        completed_at=datetime(2026, 2, 1, tzinfo=UTC), due_at=datetime(2026, 3, 1, tzinfo=UTC),
        overdue=True, late=True, process_sla="P10D", sla_backstop=True, sla_paused=True,
        cancelled_reason="ditarik", deemed_granted_at=datetime(2026, 3, 2, tzinfo=UTC),
        ready_task_count=0,
        fees=[{"fee_item": 1, "element_id": "pay", "amount": 150000, "status": "open"}],
        tasks=[
            _task(),
            _task(claimed_by=7, due_at=datetime(2026, 1, 1, tzinfo=UTC), overdue=True,
                  late=True, sla="P2D", fee=250000, form="review.json",
                  completed_at=datetime(2026, 1, 3, tzinfo=UTC), completed_by=7,
                  region="3273", process_key="pbg", working_hours_left=-3.25,
                  input={"doc": {"kind": "KTP"}}, deemed_granted=True),
        ],
        history=[EventView(1, datetime(2026, 1, 1, tzinfo=UTC), "user:1", "task.completed",
                           "app", None, {"k": "v"}, "3273", 1, "00", "ff")],
    ),
    # values of another type than the field's: marshmallow's conversion, not a copy
    _application(version=True, title=b"bytes", tasks=[_task(fee=True, overdue=1)],
                 id="not-a-uuid-object", created_at=_Moment(2026, 1, 2, tzinfo=UTC),
                 applicant={1: "int key"}),
    # a Float field given an int, a bool and None: 3.0, 1.0 and null, as marshmallow answers
    _application(tasks=[_task(working_hours_left=3), _task(working_hours_left=True),
                        _task(working_hours_left=None)]),
    # a mapping and a bare object lacking most attributes: absent fields are left out
    {"id": uuid.uuid4(), "status": "running", "tasks": [], "applicant": {}, "error": None},
    SimpleNamespace(status="cancelled", tasks=None, ready_task_count=None),
    None,
]


@pytest.mark.parametrize("obj", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases_dump_as_marshmallow_does(obj: Any) -> None:
    _same(ApplicationProgressSchema(), obj)
    _same(ApplicationSchema(), obj)
    tasks_of = getattr(obj, "tasks", None)
    if tasks_of is not None:
        _same(TaskSchema(), tasks_of, many=True)
        _same(TaskDetailSchema(many=True), tasks_of)


def test_many_of_none_and_of_nothing_dump_as_marshmallow_does() -> None:
    _same(TaskSchema(), None, many=True)
    _same(TaskSchema(), [], many=True)
    _same(TaskSchema(), (), many=True)


class _Hooked(CompiledDump):
    name = fields.String(attribute="person.name")
    seen = fields.Integer(dump_default=0)
    many_nested = fields.Nested(lambda: _Leaf(many=True))
    pair = fields.Tuple((fields.String(), fields.Integer()))
    listed = fields.List(fields.Tuple((fields.String(),)))


class _Leaf(Schema):
    value = fields.Float()


def test_fields_it_does_not_compile_go_through_marshmallow() -> None:
    obj = SimpleNamespace(person=SimpleNamespace(name="Ani"), many_nested=[{"value": 1}],
                          pair=("a", 2), listed=[("x",)])
    _same(_Hooked(), obj)
    assert compile_dumper(_Hooked())(obj)["seen"] == 0
