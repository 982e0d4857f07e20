"""The process data as the workflow sees it now (`GET /applications/{id}/variables`).

SpiffWorkflow 3.2.0 keeps data per task, not per process: each task inherits its parent's
data when it becomes ready. What "the process" sees now is the data of the tasks that are
waiting, ready or started (merged in tree order, sub-processes included); a finished
workflow's is the data its end left (`workflow.data`), else that of its last finished task.
"""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.workflow.spiff_compat import all_tasks

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """A copy of the data the open tasks hold now (see the module docstring)."""
    tasks = list(all_tasks(workflow))
    merged: dict[str, Any] = {}
    for task in tasks:
        if task.has_state(_OPEN):
            merged.update(task.data)
    if not merged:
        if workflow.data:
            merged.update(workflow.data)
        else:
            finished = [t for t in tasks if t.state == TaskState.COMPLETED]
            if finished:
                merged.update(max(finished, key=lambda t: t.last_state_change).data)
    return copy.deepcopy(merged)
