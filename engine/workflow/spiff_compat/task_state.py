"""Putting a task into ERROR where SpiffWorkflow 3.2.0 offers no public way to.

SpiffWorkflow leaves a task in ERROR only for a failing script; an error raised by
`task.run()` elsewhere (a data object that cannot be set, a multi-instance expression, a
limit) escapes with the task still READY or STARTED. The engine marks it ERROR itself so
the saved state says where a retry starts (`WorkflowRuntime.retry`), as for a script.
The library has only the private `Task._set_state` for this; it is called here alone.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState


def mark_error(task: Any) -> None:
    """Leave `task` in ERROR unless it already finished."""
    if hasattr(task, "has_state") and not task.has_state(TaskState.FINISHED_MASK):
        task._set_state(TaskState.ERROR)
