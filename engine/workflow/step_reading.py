"""Reading a workflow's human steps and how it ended, for an `Outcome` (`runtime`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.util.task import TaskState

from engine.domain.statuses import StepStatus
from engine.workflow.outcome import StepState, StepStateName
from engine.workflow.spiff_compat import all_tasks, human_tasks

_STATE_NAMES: dict[int, StepStateName] = {
    TaskState.READY: StepStatus.READY,
    TaskState.COMPLETED: StepStatus.COMPLETED,
    TaskState.CANCELLED: StepStatus.CANCELLED,
}


def end_events(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    """The completed end events of the top-level process (not of its sub-processes)."""
    if not workflow.is_completed():
        return []
    top = workflow.spec.task_specs
    return [
        (t.task_spec.bpmn_id, t.task_spec.bpmn_name or "")
        for t in all_tasks(workflow, TaskState.COMPLETED)
        if isinstance(t.task_spec, EndEvent) and top.get(t.task_spec.name) is t.task_spec
    ]


def human_steps(workflow: BpmnWorkflow) -> Iterable[StepState]:
    """The human steps that are READY, COMPLETED or CANCELLED now, as `StepState`s."""
    for task in human_tasks(workflow):
        name = _STATE_NAMES.get(task.state)
        if name is not None:
            spec = task.task_spec
            yield StepState(
                task.id,
                spec.bpmn_id or spec.name,
                spec.bpmn_name or "",
                name,
                _item(task),
                dict(task.data) if name == "ready" else None,
            )


def changed_steps(workflow: BpmnWorkflow, known: dict[uuid.UUID, int]) -> frozenset[uuid.UUID]:
    """The human steps (as `human_steps` lists them) whose state differs from `known`."""
    return frozenset(
        task.id
        for task in human_tasks(workflow)
        if task.state in _STATE_NAMES and known.get(task.id) != task.state
    )


def _item(task: Any) -> dict[str, Any] | None:
    """The collection element a multi-instance child works on (SpiffWorkflow sets it in the
    child's data under the input item's id), or None for any other task."""
    parent = task.parent
    spec = getattr(parent.task_spec, "input_item", None) if parent is not None else None
    if spec is None or spec.bpmn_id not in task.data:
        return None
    return {spec.bpmn_id: task.data[spec.bpmn_id]}
