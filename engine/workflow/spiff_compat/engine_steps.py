"""`do_engine_steps` without walking the task tree when there is nothing for it to run.

SpiffWorkflow 3.2.0's `BpmnWorkflow.do_engine_steps` lists the READY tasks with the tree
iterator (`get_tasks(state=READY)`: Python code per task, with list copies at every
branch) and runs the automatic ones, until none is left, then refreshes timers. After a
person's step, often nothing automatic is ready: a parallel multi-instance step with 299
open instances still walks its 300-odd tasks, about 0.4 ms a completion (issue #16).

Here the workflow's own task maps are scanned first (every task of every sub-workflow,
`walk.scopes`; the iterator can only yield tasks from them). When none is READY and
automatic, and no sub-workflow is active (the library would also update the tasks that
hold active ones), the library's loop would run nothing and return after refreshing the
timers: so only that is done. Otherwise the library's own call runs, in its order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.workflow.spiff_compat.walk import scopes


def do_engine_steps(workflow: BpmnWorkflow, will_complete_task: Callable[[Any], Any]) -> None:
    """`workflow.do_engine_steps(will_complete_task=...)`, skipping its tree walk when no
    automatic task is ready and no sub-workflow is active (see the module doc)."""
    if _something_to_run(workflow):
        workflow.do_engine_steps(will_complete_task=will_complete_task)
    else:
        workflow.refresh_timers()


def _something_to_run(workflow: BpmnWorkflow) -> bool:
    if any(not sub.completed for sub in workflow.subprocesses.values()):
        return True
    ready = TaskState.READY
    return any(
        task.state == ready and not task.task_spec.manual
        for flow in scopes(workflow)
        for task in flow.tasks.values()
    )
