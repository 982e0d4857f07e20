"""Every task of a workflow, each exactly once: the one walk the engine uses.

SpiffWorkflow 3.2.0 has two ways in, and combining them counts tasks twice: the task
iterator (`workflow.get_tasks()`) already descends into sub-workflows (embedded
sub-processes, transactions, event sub-processes, call activities), while
`workflow.subprocesses` holds the same sub-workflows again. The iterator also stops
1,000 tasks deep and skips finished sub-workflows for some filters. Each workflow and
sub-workflow keeps its own tasks in `tasks` (id -> task), and the top workflow keeps
every sub-workflow, however deep, in `subprocesses`: reading those sees each task once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow


def all_tasks(workflow: BpmnWorkflow, state: int | None = None) -> list[Any]:
    """Every task of the workflow and of all its sub-workflows, once each, in creation
    order per workflow; only those whose state is in the mask `state` when given."""
    return [
        task
        for flow in scopes(workflow)
        for task in list(flow.tasks.values())
        if state is None or task.state & state
    ]


def human_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """The tasks of steps a person does (user, manual and plain tasks), once each."""
    return [task for task in all_tasks(workflow) if task.task_spec.manual]


def scopes(workflow: BpmnWorkflow) -> Iterator[Any]:
    """The workflow and every sub-workflow it holds, however deeply nested."""
    yield workflow
    yield from list(workflow.subprocesses.values())
