"""Issue #11 causes 1-3: what a script leaves, or an officer sends, is stored or refused,
never a crash, a runaway serialization or an unbounded state."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from api.wiring import build_context
from engine.context import EngineContext
from engine.domain import errors
from engine.persistence.tables import TaskRecord
from engine.services import applications, tasks
from tests.factories import make_region, make_user, tiny_bpmn, upload

# Values a script can build that no JSON column holds (each answered 500 before).
UNSTORABLE = {
    "generator": "x = (i for i in [1])",
    "bytes": "x = b'abc'",
    "date": "x = date(2027, 1, 4)",
    "range": "x = range(3)",
    "exception": "x = ValueError('no')",
    "huge int": "x = 10 ** 5000",
    "deep nesting": "x = []\nfor i in range(1000):\n    x = [x]",
    "nan": "x = float('nan')",
    "infinity": "x = {'a': [float('inf')]}",
    "tuple key": "x = {(1, 2): 3}",
    "int key": "x = {1: 3}",
    "NUL in text": "x = 'a' + chr(0)",
    "lone surrogate": "x = chr(0xD800)",
    "nested date": "x = {'a': [1, date(2027, 1, 4)]}",
    "value then a crash": "x = (i for i in [1])\ny = 1 / 0",
    # Halves of the same list, 50 deep: 2**50 items once written out.
    "shared halves": "x = []\nfor i in range(50):\n    x = [x, x]",
}


@pytest.fixture
def officer(ctx: EngineContext):
    make_region(ctx, "3273")
    actor, _ = make_user(ctx, "front-office")
    return actor


@dataclass
class Saved:
    status: str
    error: dict | None
    state: dict


def _saved(ctx: EngineContext, app_id) -> Saved:
    with ctx.uow() as uow:
        record = uow.repos.applications.get(app_id)
        assert record is not None
        json.dumps(record.state, allow_nan=False)  # what was saved is plain, finite JSON
        return Saved(record.status, record.error, record.state)


@pytest.mark.parametrize("script", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_a_script_leaving_an_unstorable_value_puts_its_application_in_error(
    ctx: EngineContext, officer, script: str
) -> None:
    upload(ctx, "3273", tiny_bpmn(steps=1, script=html.escape(script)))
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    (task,) = app.tasks
    done = tasks.complete_task(ctx, officer, task.id, {"note": "ok"})
    assert done.status == "error"
    assert done.error is not None and done.error["element_id"] == "script"
    record = _saved(ctx, app.id)
    assert record.status == "error" and record.error == done.error
    supervisor, _ = make_user(ctx, "supervisor")
    again = applications.retry_application(ctx, supervisor, app.id, {}, "dicoba lagi")
    assert again.status == "error"  # the same script fails the same way, and is saved again
    _saved(ctx, app.id)


@pytest.mark.parametrize(
    "data",
    [
        {"x": math.nan},
        {"x": [math.inf]},
        {"x": 10**30},
        {"x": "a\x00"},
        {"x": "\ud800"},
        {"x": {1: 2}},
        {"x": {"a\x00": 1}},  # keys are text, held to the same rules
        {"x": {"\ud800": 1}},
        pytest.param("nested", id="deep"),
    ],
)
def test_data_an_officer_sends_is_refused_with_its_field_when_it_cannot_be_stored(
    ctx: EngineContext, officer, data
) -> None:
    if data == "nested":
        data = {"x": []}
        for _ in range(100):
            data = {"x": data}
    upload(ctx, "3273", tiny_bpmn(steps=1))
    with pytest.raises(errors.InvalidInputError) as started:
        applications.start_application(ctx, officer, "3273", "tiny", {}, data)
    assert started.value.problems[0].field.startswith("data/x")
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    with pytest.raises(errors.InvalidInputError) as completed:
        tasks.complete_task(ctx, officer, app.tasks[0].id, data)
    assert completed.value.problems[0].field.startswith("data/x")
    assert _saved(ctx, app.id).status == "running"


def test_an_application_state_over_its_byte_budget_is_refused_whole(db_url: str) -> None:
    ctx = build_context(db_url, max_state_bytes=1_000_000)
    try:
        make_region(ctx, "3273")
        officer, _ = make_user(ctx, "front-office")
        # Each value is within the sandbox's per-value bound; together they are not.
        script = "a = 'a' * 400000\nb = 'b' * 400000\nc = 'c' * 400000"
        upload(ctx, "3273", tiny_bpmn(steps=1, script=script))
        app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
        done = tasks.complete_task(ctx, officer, app.tasks[0].id, {})
        assert done.status == "error" and done.error["element_id"] == "script"
        assert "1,000,000" in done.error["message"]
        record = _saved(ctx, app.id)
        assert len(json.dumps(record.state)) < 1_000_000
    finally:
        ctx.session_factory.kw["bind"].dispose()


def test_a_completion_whose_own_data_overflows_the_budget_is_refused_and_nothing_saved(
    db_url: str,
) -> None:
    ctx = build_context(db_url, max_state_bytes=150_000)
    try:
        make_region(ctx, "3273")
        officer, _ = make_user(ctx, "front-office")
        upload(ctx, "3273", tiny_bpmn(steps=2))
        app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
        app = tasks.complete_task(ctx, officer, app.tasks[0].id, {"scan": "x" * 100_000})
        before = _saved(ctx, app.id).state
        (second,) = [t for t in app.tasks if t.state == "ready"]
        # Each completion's data fits; the second one's makes the state as a whole too big.
        with pytest.raises(errors.InvalidInputError) as refused:
            tasks.complete_task(ctx, officer, second.id, {"scan": "y" * 100_000})
        assert refused.value.problems[0].field == "data"
        assert refused.value.problems[0].element_id == "step_2"
        assert "limit is 150,000" in refused.value.problems[0].message
        assert _saved(ctx, app.id).state == before
        with ctx.uow() as uow:
            states = uow._session.scalars(select(TaskRecord.state).order_by(TaskRecord.element_id))
            assert states.all() == ["completed", "ready"]
    finally:
        ctx.session_factory.kw["bind"].dispose()
