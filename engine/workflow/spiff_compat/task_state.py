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


def mark_error(task: Any, *, completing: bool = False) -> None:
    """Leave `task` in ERROR unless it already finished.

    `completing`: the error came from the task's own completion. SpiffWorkflow 3.2.0 sets
    COMPLETED before it writes the step's data outputs and updates its children, so a
    failing data output leaves a COMPLETED task whose successors never became ready: the
    application would run on with nothing to do (a stall after a retry). Such a task goes
    to ERROR too, so a retry makes it ready again."""
    if not hasattr(task, "has_state"):
        return
    unfinished = not task.has_state(TaskState.FINISHED_MASK)
    if unfinished or (completing and task.state == TaskState.COMPLETED):
        task._set_state(TaskState.ERROR)


def task_of(exc: BaseException) -> Any:
    """The task an error stopped at: the exception's own `task` (SpiffWorkflow's
    WorkflowTaskException), else the innermost task the library was working on when a
    plain Python error escaped it (3.2.0 raises, e.g., a bare TypeError from a
    multi-instance step whose collection is missing, with no task attached), found
    among the traceback's frames; None when no task was involved."""
    from SpiffWorkflow.task import Task

    task = getattr(exc, "task", None)
    if task is not None:
        return task
    found = None
    trace = exc.__traceback__
    while trace is not None:  # outermost to innermost: the last task seen is the closest
        for name in ("my_task", "task", "self"):
            candidate = trace.tb_frame.f_locals.get(name)
            if isinstance(candidate, Task):
                found = candidate
                break
        trace = trace.tb_next
    return found
