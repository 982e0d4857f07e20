"""The gate between a workflow run and the database: only storable, bounded state is saved.

The sandbox checks what scripts leave, but values also reach task data through
SpiffWorkflow itself (a multi-instance element taken from an expression's collection, an
event's payload, data copied in and out of sub-processes). Before a state is serialized,
the data of every task this call created, changed or left open is measured
(`engine.domain.storable.measure`): types, depth, integer size, finite numbers, shared
references counted by memo, so that serializing can neither fail nor run away. Then the
serialized state as a whole must fit in the application's byte budget.
"""

from __future__ import annotations

import uuid
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.domain.storable import NotStorableError, measure
from engine.workflow.spiff_compat import all_tasks, scopes

# An application's saved state, serialized: 8 MiB is some 600 times a finished 8-step permit.
DEFAULT_MAX_STATE_BYTES = 8 * 1024 * 1024


class StateNotStorableError(Exception):
    """The workflow's data holds a value the engine cannot store. `task`: where it is."""

    def __init__(self, message: str, task: Any = None) -> None:
        super().__init__(message)
        self.task = task


class StateTooLargeError(StateNotStorableError):
    """The application's state would be larger than its byte budget."""


def task_states(workflow: BpmnWorkflow) -> dict[uuid.UUID, int]:
    """Each task's state now: what `check_task_data` later compares against."""
    return {task.id: task.state for task in all_tasks(workflow)}


def check_task_data(workflow: BpmnWorkflow, known: dict[uuid.UUID, int], limit: int) -> None:
    """Measure the data of every task that is new, changed state, or not finished since
    `known` was taken (the others were restored from a checked state and are unchanged),
    and the workflows' own data.

    Raises:
        StateNotStorableError: a value cannot be stored (its task and path named).
        StateTooLargeError: one task's data alone is larger than `limit`.
    """
    memo: dict[int, int] = {}
    for task in all_tasks(workflow):
        if known.get(task.id) == task.state and task.has_state(TaskState.FINISHED_MASK):
            continue
        _measure(task.data, limit, memo, task)
    for flow in scopes(workflow):
        _measure(flow.data, limit, memo, None)


def check_serialized_size(text: str, limit: int, workflow: BpmnWorkflow) -> None:
    """Raises: StateTooLargeError when the serialized state `text` is over `limit`."""
    if len(text) > limit:
        raise StateTooLargeError(
            f"the application's data would take {len(text):,} bytes; the limit is "
            f"{limit:,}: keep documents outside the process data and store references",
            _latest_task(workflow),
        )


def _measure(data: dict[str, Any], limit: int, memo: dict[int, int], task: Any) -> None:
    try:
        measure(data, limit, memo=memo)
    except NotStorableError as exc:
        if exc.too_large and not exc.path:
            raise StateTooLargeError(
                f"the task data would be larger than {limit:,} items and characters (the "
                "application's budget): keep documents outside the process data",
                task,
            ) from None
        kind = StateTooLargeError if exc.too_large else StateNotStorableError
        raise kind(f"task data {exc.path}: {exc.reason}", task) from None


def _latest_task(workflow: BpmnWorkflow) -> Any:
    """The task that changed state last: where the state grew past its budget."""
    tasks = all_tasks(workflow)
    return max(tasks, key=lambda t: t.last_state_change) if tasks else None
