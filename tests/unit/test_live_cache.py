"""The live-workflow cache itself (engine/workflow/live_cache.py): a step run on the object
the last step left saves exactly what a step run on the restored state saves; the cache is
bounded, pops what it hands out, and keeps nothing when disabled."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.domain.definitions import ModelPackage
from engine.modeling import compile_model
from engine.persistence.tables import ApplicationRecord
from engine.workflow.live_cache import LiveWorkflows, SavedWorkflow, live_key
from engine.workflow.runtime import WorkflowRuntime
from tests.factories import FIXTURES, tiny_bpmn

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
MODELS = FIXTURES / "bpmn" / "runtime"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def fake_workflow(tasks: int, sub_tasks: int = 0) -> SimpleNamespace:
    sub = SimpleNamespace(tasks=dict.fromkeys(range(sub_tasks)), subprocesses={})
    return SimpleNamespace(tasks=dict.fromkeys(range(tasks)), subprocesses={"s": sub})


def canonical(state: dict) -> str:
    """`state` as JSON with its task ids numbered by first appearance (a step that makes a
    sub-process draws new random ids), without SpiffWorkflow's `last_state_change` (the
    wall clock's, not the engine's), keys sorted (the order of a task's data keys is not
    kept either by PostgreSQL's JSONB)."""
    ids: dict[str, str] = {}
    text = re.sub(r'"last_state_change": [0-9.e+-]+', '"last_state_change": 0', json.dumps(state))
    text = UUID.sub(lambda m: ids.setdefault(m.group(0), f"#{len(ids)}"), text)
    return json.dumps(json.loads(text), sort_keys=True)


def no_state() -> dict:
    raise AssertionError("a hit must not read the saved state")


@pytest.mark.parametrize(
    "name", ["subprocess_first", "subprocess_later", "transaction", "mi_output_order"]
)
def test_a_step_on_the_live_object_saves_what_a_step_on_the_restored_state_saves(
    name: str,
) -> None:
    compiled = compile_model(ModelPackage((MODELS / f"{name}.bpmn").read_bytes(), {}))
    runtime = WorkflowRuntime()
    spec = runtime.load_spec(name, compiled.spec)
    data = {"inputs": [1, 2, 3]} if name == "mi_output_order" else {}
    outcome = runtime.start(spec, data, NOW)
    steps = 0
    while not outcome.completed:
        assert outcome.workflow is not None
        step = next(s for s in outcome.steps if s.state == "ready")
        entered = {"doubled": 2, "nested": {"list": [1, {"x": step.element_id}]}}
        restored = runtime.complete(spec, outcome.state, step.task_id, entered, NOW)
        live = runtime.complete(
            spec, SavedWorkflow(no_state, outcome.workflow), step.task_id, entered, NOW
        )
        assert canonical(live.state) == canonical(restored.state)
        assert [(s.element_id, s.state, s.data) for s in live.steps] == [
            (s.element_id, s.state, s.data) for s in restored.steps
        ]
        outcome, steps = live, steps + 1
    assert steps > 0
    assert outcome.workflow is None  # a completed process leaves nothing to keep


def test_an_outcome_that_stopped_on_an_error_leaves_no_live_object() -> None:
    compiled = compile_model(ModelPackage(tiny_bpmn(steps=1, script="x = 1 / 0"), {}))
    runtime = WorkflowRuntime()
    spec = runtime.load_spec("tiny", compiled.spec)
    started = runtime.start(spec, {}, NOW)
    failed = runtime.complete(spec, started.state, started.steps[0].task_id, {}, NOW)
    assert failed.error is not None
    assert failed.workflow is None


def test_take_pops_and_a_miss_keeps_the_loader() -> None:
    cache = LiveWorkflows(4)
    key, workflow = live_key("a", 3, 7, {"b": 9}), fake_workflow(5)
    cache.put(key, workflow)
    assert cache.take(live_key("a", 4, 7, {"b": 9}), dict).live is None  # another row version
    assert cache.take(live_key("a", 3, 7, {"b": 8}), dict).live is None  # other called version
    saved = cache.take(key, dict)
    assert saved.take_live() is workflow
    assert saved.take_live() is None  # once: a fallback restores the state
    assert len(cache) == 0 and cache.take(key, dict).live is None
    assert (cache.hits, cache.misses) == (1, 3)


def test_it_is_bounded_by_count_and_by_tasks_least_recently_used_first() -> None:
    cache = LiveWorkflows(2, max_tasks=10)
    cache.put("a", fake_workflow(2))
    cache.put("b", fake_workflow(2))
    cache.put("c", fake_workflow(2))  # three workflows: the oldest goes
    assert cache.take("a", dict).live is None and len(cache) == 2
    cache.put("d", fake_workflow(4, sub_tasks=3))  # b's 2 + c's 2 + 7 > 10 tasks
    assert cache.take("b", dict).live is None
    assert cache.take("c", dict).live is not None
    assert cache.take("d", dict).live is not None
    cache.put("e", fake_workflow(11))  # larger than the whole budget: not kept
    assert len(cache) == 0


def test_carry_moves_an_entry_to_the_new_row_version() -> None:
    cache = LiveWorkflows(4)
    workflow = fake_workflow(1)
    cache.put("v1", workflow)
    cache.carry("v1", "v2")
    cache.carry("v9", "v10")  # nothing under v9: nothing happens
    assert cache.take("v1", dict).live is None
    assert cache.take("v2", dict).live is workflow
    assert len(cache) == 0


def test_size_zero_keeps_nothing() -> None:
    cache = LiveWorkflows(0)
    cache.put("a", fake_workflow(1))
    assert len(cache) == 0
    assert cache.take("a", dict).live is None
    assert (cache.hits, cache.misses) == (0, 0)


ENGINE = Path(__file__).resolve().parents[2] / "engine"
_CORE_UPDATE = re.compile(r"update\(\s*(?:_APPS|ApplicationRecord)\b|UPDATE\s+applications\b")
_WRITES_STATE = re.compile(r"\bstate\s*=|\.c\.state\b|[\"']state[\"']\s*:")


def test_the_state_column_is_written_only_where_the_row_version_moves() -> None:
    """The cache's key is the row version (module doc): every ORM UPDATE of an application
    bumps it, so no statement outside the ORM's flush may write `applications.state` (the
    step's own writes, engine/persistence/fast_flush.py, check and bump it as the ORM does:
    tests/service/test_fast_flush.py)."""
    assert ApplicationRecord.__mapper__.version_id_col is ApplicationRecord.__table__.c.row_version
    found = []
    for path in ENGINE.rglob("*.py"):
        text = path.read_text()
        for match in _CORE_UPDATE.finditer(text):
            statement = text[match.start():match.start() + 400].split("\n\n")[0]
            found.append(path.name)
            assert not _WRITES_STATE.search(statement), f"{path}: {statement}"
    assert found  # the audit chain's head updates are seen (the scan works)
