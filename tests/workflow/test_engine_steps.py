"""`spiff_compat.do_engine_steps`: the library's engine loop, without its tree walk when
nothing automatic is ready -- and the same workflow afterwards as the library's own call."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow

from bench.world import mi_package
from engine.modeling import compile_model
from engine.modeling.package import read_package_dir
from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.serialization import WorkflowCodec
from engine.workflow.spiff_compat import do_engine_steps, engine_time
from tests.factories import ROOT

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SHIPPED = sorted((ROOT / "process_models").glob("*/*/scenarios/*.json"))


def _walks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The READY-task tree walks the library starts from now on."""
    walks: list[Any] = []
    library = BpmnWorkflow.get_tasks

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        walks.append(kwargs.get("state"))
        return library(self, *args, **kwargs)

    monkeypatch.setattr(BpmnWorkflow, "get_tasks", spy)
    return walks


def test_a_completion_that_leaves_only_people_steps_ready_walks_no_task_tree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("mi", compile_model(mi_package(300)).spec)
    outcome = runtime.start(loaded, {"name": "x"}, NOW)
    workflow = runtime.restore(loaded, outcome.state)
    ready = [t for t in workflow.get_tasks(state=16) if t.task_spec.manual]
    assert len(ready) == 300
    ready[0].data["ok"] = True
    ready[0].run()
    walks = _walks(monkeypatch)
    with engine_time(NOW):
        do_engine_steps(workflow, lambda task: None)
    assert walks == []  # the library's loop walks the 300-odd tasks once at least


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _comparable(state: dict[str, Any]) -> str:
    """The saved state without what two runs cannot share: the times tasks changed state
    and the random ids of the tasks a run made (numbered in order of appearance)."""
    document = json.loads(state.text)  # type: ignore[attr-defined]
    for scope in (document, *document["subprocesses"].values()):
        for _, task in scope["ordered_tasks"]:
            task.pop("last_state_change")
    numbers: dict[str, str] = {}
    return _UUID.sub(lambda m: numbers.setdefault(m[0], f"#{len(numbers)}"), json.dumps(document))


@pytest.mark.parametrize("scenario_file", SHIPPED, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_after_each_step_the_workflow_is_the_one_the_library_leaves(scenario_file: Path) -> None:
    scenario = json.loads(scenario_file.read_text())
    runtime, codec = WorkflowRuntime(), WorkflowCodec()
    loaded = runtime.load_spec("m", compile_model(read_package_dir(scenario_file.parents[1])).spec)
    outcome = runtime.start(loaded, scenario["data"], NOW)
    for step in scenario["steps"]:
        ready = {s.element_id: s for s in outcome.steps if s.state == "ready"}
        states = []
        for engine in (do_engine_steps, None):
            workflow = runtime.restore(loaded, outcome.state)
            task = workflow.get_task_from_id(ready[step["task"]].task_id)
            task.data.update(step["data"])
            with engine_time(NOW):
                task.run()
                if engine is None:
                    workflow.do_engine_steps(will_complete_task=lambda t: None)
                else:
                    engine(workflow, lambda t: None)
            states.append(_comparable(codec.state_to_dict(workflow)))
        assert states[0] == states[1]
        outcome = runtime.complete(loaded, outcome.state, ready[step["task"]].task_id,
                                   step["data"], NOW)
    assert outcome.completed
