"""Reading a workflow's human steps and how it ended, for an `Outcome` (`runtime`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.util.task import TaskState

from engine.domain.statuses import StepStatus
from engine.workflow.external_tasks import waiting_external
from engine.workflow.messages import waiting_messages
from engine.workflow.outcome import Outcome, StepState, StepStateName
from engine.workflow.spiff_compat import all_tasks, human_tasks
from engine.workflow.timers import waiting_timers
from engine.workflow.variables import current_data

_STATE_NAMES: dict[int, StepStateName] = {
    TaskState.READY: StepStatus.READY,
    TaskState.COMPLETED: StepStatus.COMPLETED,
    TaskState.CANCELLED: StepStatus.CANCELLED,
}


def outcome_of(
    workflow: BpmnWorkflow,
    state: dict[str, Any],
    error: dict[str, Any] | None,
    known: dict[uuid.UUID, int],
) -> Outcome:
    """The `Outcome` of a call that left `workflow`, saved as `state`, stopped by `error`
    (or not); `known`: each task's state before the call. The workflow's tasks are walked
    once for all that is read here (a 300-instance step has some 310)."""
    tasks = all_tasks(workflow)
    humans = [task for task in tasks if task.task_spec.manual]
    ended = workflow.is_completed()
    completed = error is None and ended
    return Outcome(
        state=state,
        steps=list(human_steps(workflow, humans)),
        completed=completed,
        error=error,
        timers=waiting_timers(workflow, tasks),
        end_events=end_events(workflow, tasks) if ended else [],
        messages=waiting_messages(workflow),
        external=waiting_external(workflow, tasks),
        final_data=current_data(workflow) if completed else None,
        workflow=workflow if error is None and not completed else None,
        changed=changed_steps(workflow, known, humans),
    )


def end_events(workflow: BpmnWorkflow, tasks: list[Any] | None = None) -> list[tuple[str, str]]:
    """The completed end events of the top-level process (not of its sub-processes);
    `tasks`: the workflow's `all_tasks`, when the caller has them."""
    if tasks is None and not workflow.is_completed():
        return []
    top = workflow.spec.task_specs
    return [
        (t.task_spec.bpmn_id, t.task_spec.bpmn_name or "")
        for t in (all_tasks(workflow) if tasks is None else tasks)
        if t.state == TaskState.COMPLETED
        and isinstance(t.task_spec, EndEvent) and top.get(t.task_spec.name) is t.task_spec
    ]


def human_steps(workflow: BpmnWorkflow, humans: list[Any] | None = None) -> Iterable[StepState]:
    """The human steps that are READY, COMPLETED or CANCELLED now, as `StepState`s;
    `humans`: the workflow's `human_tasks`, when the caller has them."""
    for task in human_tasks(workflow) if humans is None else humans:
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


def changed_steps(
    workflow: BpmnWorkflow, known: dict[uuid.UUID, int], humans: list[Any] | None = None
) -> frozenset[uuid.UUID]:
    """The human steps (as `human_steps` lists them) whose state differs from `known`."""
    return frozenset(
        task.id
        for task in (human_tasks(workflow) if humans is None else humans)
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
