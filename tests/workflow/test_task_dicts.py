"""The state's task dicts, built by `engine.workflow.task_dicts`, are the library's own.

Every state the engine saves while the conformance scenarios run (every construct: sub-
processes, call activities, events, multi-instance, loops, errors) and while the shipped
models' scenarios run is built both ways, and the two must be the same document, key order
included.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter

from api.wiring import build_context
from engine.modeling import compile_model
from engine.modeling.package import read_package_dir
from engine.workflow.live_cache import SavedWorkflow
from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.serialization import WorkflowCodec, _SpecRefWorkflowConverter
from tests.conformance.runner import Scenario, ServiceDriver, load_scenarios, run
from tests.factories import ROOT
from tests.workflow.test_state_not_decoded import _containers, _same, _workflow_containers

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SHIPPED = sorted((ROOT / "process_models").glob("*/*/scenarios/*.json"))


def _library_to_dict(converter: Any, workflow: Any) -> dict[str, Any]:
    """What the converter wrote before `task_dicts`: SpiffWorkflow's converters throughout."""
    dct: dict[str, Any] = WorkflowConverter.to_dict(converter, workflow)
    dct["spec_name"] = workflow.spec.name
    dct["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
    dct["bpmn_events"] = converter.registry.convert(workflow.bpmn_events)
    return dct


def _document(dct: dict[str, Any]) -> str:
    return json.dumps(dct, default=repr)  # key order kept; typed values by their repr


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Build every saved state both ways and require the same document; the list holds
    each document compared."""
    ours, seen = _SpecRefWorkflowConverter.to_dict, []

    def both(self: Any, workflow: Any) -> dict[str, Any]:
        fast = ours(self, workflow)
        library = _library_to_dict(self, workflow)
        assert _document(fast) == _document(library)
        assert fast == library
        seen.append(_document(fast))
        return fast

    monkeypatch.setattr(_SpecRefWorkflowConverter, "to_dict", both)
    return seen


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "permitflow.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


_CONFORMANCE = [pytest.param(s, id=s.name) for s in load_scenarios() if not s.xfail]


@pytest.fixture
def undecoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every state handed over is its text decoded and shares nothing with its workflow
    (`test_state_not_decoded`)."""
    ours = WorkflowCodec.state_to_dict

    def checked(self: Any, workflow: Any, max_bytes: int | None = None) -> dict[str, Any]:
        state = ours(self, workflow, max_bytes)
        assert _same(dict(state), json.loads(state.text))
        assert not set(_containers(dict(state))) & _workflow_containers(workflow)
        return state

    monkeypatch.setattr(WorkflowCodec, "state_to_dict", checked)


@pytest.mark.parametrize("scenario", _CONFORMANCE)
def test_every_state_a_conformance_scenario_saves_is_the_librarys_document(
    sqlite_url: str, scenario: Scenario, compared: list[str], undecoded: None
) -> None:
    ctx = build_context(sqlite_url)
    try:
        run(ServiceDriver(ctx), scenario)
    finally:
        ctx.session_factory.kw["bind"].dispose()
    assert compared


@pytest.mark.parametrize("scenario_file", SHIPPED, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_every_state_a_shipped_model_saves_is_the_librarys_document(
    scenario_file: Path, compared: list[str]
) -> None:
    scenario = json.loads(scenario_file.read_text())
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("m", compile_model(read_package_dir(scenario_file.parents[1])).spec)
    outcome = runtime.start(loaded, scenario["data"], NOW)
    for index, step in enumerate(scenario["steps"]):
        ready = {s.element_id: s for s in outcome.steps if s.state == "ready"}
        # Alternately on the live workflow and on one restored from the state: a restored
        # task's parent and children ids are other UUID objects than the tasks' own.
        saved = outcome.state
        state = SavedWorkflow(lambda s=saved: s, outcome.workflow) if index % 2 else saved
        outcome = runtime.complete(loaded, state, ready[step["task"]].task_id, step["data"], NOW)
        assert outcome.error is None, outcome.error
    assert outcome.completed and len(compared) == len(scenario["steps"]) + 1
