"""One walk over a workflow's tasks: each task once, sub-workflows included, and restoring
a workflow that has sub-workflows (issue #10 defect 1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.domain.definitions import ModelPackage
from engine.modeling import compile_model
from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.spiff_compat.walk import all_tasks, human_tasks
from tests.factories import FIXTURES

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
MODELS = FIXTURES / "bpmn" / "runtime"


def loaded(name: str):
    compiled = compile_model(ModelPackage((MODELS / f"{name}.bpmn").read_bytes(), {}))
    runtime = WorkflowRuntime()
    return runtime, runtime.load_spec(name, compiled.spec)


@pytest.mark.parametrize("name", ["subprocess_first", "subprocess_later", "transaction"])
def test_each_task_is_walked_once_and_a_state_with_sub_workflows_restores(name: str) -> None:
    runtime, spec = loaded(name)
    outcome = runtime.start(spec, {}, NOW)
    while not outcome.completed:
        workflow = runtime.restore(spec, outcome.state)  # 3.2.0: script_engine has no setter
        ids = [task.id for task in all_tasks(workflow)]
        assert len(ids) == len(set(ids))
        assert {t.id for t in human_tasks(workflow)} >= {s.task_id for s in outcome.steps}
        (step,) = [s for s in outcome.steps if s.state == "ready"]
        assert len([s for s in outcome.steps if s.task_id == step.task_id]) == 1
        outcome = runtime.complete(spec, outcome.state, step.task_id, {}, NOW)
        assert outcome.error is None
    assert runtime.restore(spec, outcome.state).subprocesses  # restored with its sub-workflow


def test_a_multi_instance_output_is_ordered_by_input_not_by_completion() -> None:
    runtime, spec = loaded("mi_output_order")
    outcome = runtime.start(spec, {"inputs": [1, 2, 3]}, NOW)
    ready = [s for s in outcome.steps if s.state == "ready"]
    assert [s.item for s in ready] == [{"value": 1}, {"value": 2}, {"value": 3}]
    for step in reversed(ready):
        doubled = 2 * step.item["value"]  # type: ignore[index]
        outcome = runtime.complete(spec, outcome.state, step.task_id, {"doubled": doubled}, NOW)
    assert outcome.completed
    assert runtime.restore(spec, outcome.state).data["outputs"] == [2, 4, 6]
