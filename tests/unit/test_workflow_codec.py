"""The workflow codec: specs by reference, and states that survive any JSON key order."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.modeling import compile_model
from engine.modeling.package import read_package_dir
from engine.workflow.runtime import WorkflowRuntime
from tests.factories import ROOT

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def jsonb(value: Any) -> Any:
    """What PostgreSQL's JSONB does to a document: object keys ordered by length, then bytes."""
    if isinstance(value, dict):
        return {k: jsonb(value[k]) for k in sorted(value, key=lambda k: (len(k), k))}
    if isinstance(value, list):
        return [jsonb(v) for v in value]
    return value


def shuffled(value: Any, rng: random.Random) -> Any:
    """Any other key order a store might hand back."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


SCENARIOS = sorted((ROOT / "process_models").glob("*/*/scenarios/*.json"))


@pytest.mark.parametrize("reorder", ["jsonb", "shuffled"])
@pytest.mark.parametrize("scenario_file", SCENARIOS, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_a_parallel_process_round_trips_through_reordered_json_at_every_step(
    reorder: str, scenario_file
) -> None:
    model_dir = scenario_file.parents[1]
    scenario = json.loads(scenario_file.read_text())
    compiled = compile_model(read_package_dir(model_dir))  # with its standard (fee formulas)
    runtime, rng = WorkflowRuntime(), random.Random(7)
    loaded = runtime.load_spec("sip", compiled.spec)
    assert "task_specs" not in json.dumps(runtime.start(loaded, {}, NOW).state)  # spec by reference
    outcome = runtime.start(loaded, scenario["data"], NOW)
    for step in scenario["steps"]:
        document = json.loads(json.dumps(outcome.state))
        state = jsonb(document) if reorder == "jsonb" else shuffled(document, rng)
        ready = {s.element_id: s for s in outcome.steps if s.state == "ready"}
        outcome = runtime.complete(loaded, state, ready[step["task"]].task_id, step["data"], NOW)
        assert outcome.error is None, outcome.error
    assert outcome.completed
