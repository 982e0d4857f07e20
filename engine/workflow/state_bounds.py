"""The gate between a workflow run and the database: only storable, bounded state is saved.

The sandbox checks what scripts leave, but values also reach task data through
SpiffWorkflow itself (a multi-instance element taken from an expression's collection, an
event's payload, data copied in and out of sub-processes). Before a state is serialized,
the data of every task is measured (`engine.domain.storable.measure`): types, depth,
integer size, finite numbers, shared references counted by memo, so that serializing can
neither fail nor run away. Then the serialized state as a whole must fit in the
application's byte budget.

Every task, not only those this call ran: SpiffWorkflow gives a child task shallow copies
of its parent's values (restoring a state, and inheriting data), so the nested lists and
dicts of a task finished long ago are the same objects as those of the task a script runs
in now. A script can change one of them in place and drop its own name for it; only the
old task's data, which is saved again, still shows the change.

Measuring each task is cheap because most of its data is its parent's: a value that is the
parent's object, or a list or dict holding exactly the parent's objects (the shallow copy),
is covered by measuring the parent, so only what the task holds of its own is walked --
the values SpiffWorkflow's serializer stores for it as its delta.
"""

from __future__ import annotations

import operator
import uuid
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

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
    """Each task's state now: what the runtime compares against after a run to name the
    steps it changed."""
    return {task.id: task.state for task in all_tasks(workflow)}


def check_task_data(workflow: BpmnWorkflow, limit: int) -> None:
    """Measure the data of every task and of the workflows themselves.

    Raises:
        StateNotStorableError: a value cannot be stored (its task and path named).
        StateTooLargeError: what one task holds of its own is larger than `limit`.
    """
    memo: dict[int, int] = {}
    held = []  # the memo is keyed by id(): each `_own` dict must outlive the check
    for flow in scopes(workflow):
        tasks = flow.tasks
        for task in list(tasks.values()):
            data = task.data
            if not data:
                continue
            parent = tasks.get(task._parent) if task._parent is not None else None
            own = data if parent is None else _own(data, parent.data)
            if own:
                held.append(own)
                _measure(own, limit, memo, task)
        _measure(flow.data, limit, memo, None)


def _own(data: dict[Any, Any], inherited: dict[Any, Any]) -> dict[Any, Any]:
    """The entries of `data` not covered by measuring `inherited` (the parent's data):
    all but those whose value is the parent's own object under the same (text) name, or
    a shallow copy of it: a list or dict of the same type with the very same items."""
    if data is inherited:
        return {}
    own = {}
    same, values = operator.is_, _VALUES
    for name, value in data.items():
        if type(name) is str:
            base = inherited.get(name, _ABSENT)
            if value is base:
                continue
            kind = type(value)
            if (
                (kind is list or kind is dict)
                and type(base) is kind
                and len(value) == len(base)
                and all(map(same, value, base))  # the items, or the names of a dict
                and (kind is list or all(map(same, values(value), values(base))))
            ):
                continue
        own[name] = value
    return own


_ABSENT = object()
_VALUES: Any = dict.values  # of a value known to be a dict


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
