"""A state orjson wrote is handed over without decoding its text (issue #16), and is still
exactly the decoded text and none of the workflow's own objects.

`WorkflowCodec.state_to_dict` returns the converters' dict itself, its shared containers
copied (`serialization._plain_detached`). It must equal what a database returns -- the text decoded,
types included (lists, not tuples) -- and share no container with the live workflow that
the next step runs on: a later step changing data in place must not change a saved state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.world import mi_package
from engine.modeling import compile_model
from engine.modeling.package import read_package_dir
from engine.workflow.live_cache import SavedWorkflow
from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.spiff_compat import all_tasks, scopes
from tests.factories import ROOT

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SHIPPED = sorted((ROOT / "process_models").glob("*/*/scenarios/*.json"))


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (`==` takes a tuple for no list)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def _containers(value: Any) -> Iterator[int]:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) in (dict, list, tuple):
            yield id(item)
            stack.extend(item.values() if type(item) is dict else item)


def _workflow_containers(workflow: Any) -> set[int]:
    """Every container the workflow's data, internal data, correlations and events hold."""
    found: set[int] = set()
    for flow in scopes(workflow):
        for value in (flow.data, flow.correlations, getattr(flow, "bpmn_events", None)):
            found.update(_containers(value))
        for task in all_tasks(flow) if flow is workflow else flow.tasks.values():
            found.update(_containers(task.data))
            found.update(_containers(task.internal_data))
    return found


def _check(outcome: Any) -> None:
    state = outcome.state
    assert _same(dict(state), json.loads(state.text))
    if outcome.workflow is not None:
        assert not set(_containers(dict(state))) & _workflow_containers(outcome.workflow)


@pytest.mark.parametrize("scenario_file", SHIPPED, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_each_state_is_its_text_decoded_and_shares_nothing_with_the_workflow(
    scenario_file: Path,
) -> None:
    scenario = json.loads(scenario_file.read_text())
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("m", compile_model(read_package_dir(scenario_file.parents[1])).spec)
    outcome = runtime.start(loaded, scenario["data"], NOW)
    earlier = []
    for step in scenario["steps"]:
        _check(outcome)
        earlier.append(outcome.state)
        ready = {s.element_id: s for s in outcome.steps if s.state == "ready"}
        saved = outcome.state
        outcome = runtime.complete(loaded, SavedWorkflow(lambda s=saved: s, outcome.workflow),
                                   ready[step["task"]].task_id, step["data"], NOW)
        assert outcome.error is None, outcome.error
    assert outcome.completed
    # The live workflow ran on after each: no earlier state changed under it.
    assert all(_same(dict(state), json.loads(state.text)) for state in earlier)


def test_a_multi_instance_state_changed_in_place_later_stays_as_saved() -> None:
    """The multi-instance task's internal data (`merged`, a list the next completion
    appends to) and the instances' data are the workflow's: the saved state holds copies."""
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("mi", compile_model(mi_package(5)).spec)
    outcome = runtime.start(loaded, {"name": "x", "nested": {"items": [1, 2]}}, NOW)
    states = []
    for _ in range(5):
        _check(outcome)
        states.append(outcome.state)
        ready = next(s for s in outcome.steps if s.state == "ready")
        saved = outcome.state
        outcome = runtime.complete(loaded, SavedWorkflow(lambda s=saved: s, outcome.workflow),
                                   ready.task_id, {"ok": True, "list": [1]}, NOW)
        assert outcome.error is None, outcome.error
        for task in all_tasks(outcome.workflow):  # scripts may change nested values in place
            for value in task.data.values():
                if type(value) is list:
                    value.append("changed later")
    assert all(_same(dict(state), json.loads(state.text)) for state in states)
