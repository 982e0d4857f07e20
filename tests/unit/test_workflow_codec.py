"""The workflow codec: specs by reference, and states that survive any JSON key order."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.domain.encoded_json import EncodedJson
from engine.modeling import compile_model
from engine.modeling.package import read_package_dir
from engine.workflow import serialization
from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.serialization import WorkflowCodec
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


@pytest.mark.parametrize("scenario_file", SCENARIOS, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_the_state_encoded_once_is_the_document_the_standard_library_wrote(
    scenario_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    """orjson writes plain states; the document is the one the standard library's encoder
    (the only writer before) gives, at every step, and it carries its own text."""
    scenario = json.loads(scenario_file.read_text())
    runtime, codec = WorkflowRuntime(), WorkflowCodec()
    loaded = runtime.load_spec("sip", compile_model(read_package_dir(scenario_file.parents[1])).spec)
    outcome = runtime.start(loaded, scenario["data"], NOW)
    plain, seen = serialization._plain_detached, []

    def spy(value: Any) -> bool:
        seen.append(plain(value))
        return seen[-1]

    for step in [*scenario["steps"], None]:
        workflow = runtime.restore(loaded, outcome.state)
        seen.clear()
        with monkeypatch.context() as spied:
            spied.setattr(serialization, "_plain_detached", spy)
            state = codec.state_to_dict(workflow)
        assert seen == [True]  # orjson wrote it
        assert isinstance(state, EncodedJson) and json.loads(state.text) == state
        with monkeypatch.context() as patched:
            patched.setattr(serialization, "_plain_detached", lambda value: False)  # stdlib
            assert codec.state_to_dict(workflow) == state == outcome.state
        if step is None:
            break
        ready = {s.element_id: s for s in outcome.steps if s.state == "ready"}
        outcome = runtime.complete(loaded, state, ready[step["task"]].task_id, step["data"], NOW)
        assert outcome.error is None, outcome.error


@pytest.mark.parametrize("value", [uuid.UUID(int=7), NOW, timedelta(days=2, seconds=5)])
def test_typed_values_in_task_data_are_saved_tagged_and_restored_typed(value: Any) -> None:
    """orjson would write a UUID or a datetime as plain text (restored as a str): a state
    holding typed values is written by the standard library with SpiffWorkflow's encoder."""
    scenario_file = SCENARIOS[0]
    runtime, codec = WorkflowRuntime(), WorkflowCodec()
    loaded = runtime.load_spec("sip", compile_model(read_package_dir(scenario_file.parents[1])).spec)
    workflow = runtime.restore(loaded, runtime.start(loaded, {}, NOW).state)
    workflow.data["typed"] = [{"value": value}]
    state = codec.state_to_dict(workflow)
    assert isinstance(state["data"]["typed"][0]["value"], dict)  # tagged
    restored = codec.state_from_dict(state, loaded.spec, loaded.subprocess_specs)
    assert restored.data["typed"] == [{"value": value}]


@pytest.mark.parametrize(
    "value",
    [{"a": [1, 2.5, "x", None, True, {"b": []}], "c": [("d", {"e": 1})]}, {}],
)
def test_plain_json_values_are_plain(value: Any) -> None:
    assert serialization._plain(value)


@pytest.mark.parametrize(
    "value",
    [
        {"a": [uuid.UUID(int=1)]},
        {"a": {1: "x"}},
        {"a": float("nan")},
        {"a": {"b": NOW}},
        {"a": {1, 2}},
    ],
)
def test_typed_or_unusual_values_are_not_plain(value: Any) -> None:
    assert not serialization._plain(value)
