"""A workflow's tasks as SpiffWorkflow's serializer writes them, built without its registry.

SpiffWorkflow 3.2.0 converts each task through its registry (`convert`, the converter's
`to_dict`, a `typename` added after) and turns every task id into text again on every save:
the task's own id, its mapping key, its parent's, its children's. `UUID.__str__` is Python
code, and a 300-instance step's workflow holds some 310 tasks: four conversions each cost
more than the rest of its dict (issue #16). Here each flow's task dicts are built in one
loop with the library's fields, in its order, with the same values (`TaskConverter.to_dict`,
`WorkflowConverter.to_dict`), and a task id's text is computed once per workflow object
(a UUID never changes; the memo lives and dies with the workflow).

`tests/workflow/test_task_dicts.py` compares the result with the library's own `to_dict`
for the shipped models, the conformance scenarios and a multi-instance walk;
`spiff_compat.CHECKED_AGAINST` pins the version that comparison was made on.
"""

from __future__ import annotations

import uuid
from typing import Any

from SpiffWorkflow.task import Task

# The memo's attribute on a top workflow: {task id: its text}.
_IDS = "_permitflow_task_ids"


def flow_to_dict(registry: Any, flow: Any, ids: dict[uuid.UUID, str]) -> dict[str, Any]:
    """What `WorkflowConverter.to_dict` returns for `flow` (a workflow or sub-workflow),
    in encoder mode; `ids` is the workflow's memo (`id_memo`)."""
    last = flow.last_task
    return {
        "data": registry.convert(registry.clean(flow.data)),
        "correlations": flow.correlations,
        "last_task": _text(ids, last.id) if last is not None else None,
        "success": flow.success,
        "completed": flow.completed,
        "tasks": tasks_to_dict(registry, flow, ids),
        "root": _text(ids, flow.task_tree.id),
    }


def tasks_to_dict(registry: Any, flow: Any, ids: dict[uuid.UUID, str]) -> dict[str, Any]:
    """`mapping_to_dict(flow.tasks)`: each task's dict under its id's text."""
    typename = registry.typenames[Task]
    convert = registry.convert
    out = {}
    for key, task in flow.tasks.items():
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            data, inherited, own = {}, parent.data, task.data
            # DeepMerge.get_updated_keys and get_deleted_keys, inlined.
            delta = {
                "updates": {
                    k: own[k] for k in own if k not in inherited or own[k] != inherited[k]
                },
                "deletions": [k for k in inherited if k not in own],
            }
        internal = task.internal_data
        out[_text(ids, key)] = {
            "id": _text(ids, task.id),
            "parent": _text(ids, task._parent) if parent is not None else None,
            "children": [_text(ids, child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": convert(internal),
            "data": data,
            "delta": delta,
            "typename": typename,
        }
    return out


def id_memo(workflow: Any) -> dict[uuid.UUID, str]:
    """The top workflow's memo of task ids' texts (made on first use)."""
    memo: dict[uuid.UUID, str] | None = workflow.__dict__.get(_IDS)
    if memo is None:
        memo = workflow.__dict__[_IDS] = {}
    return memo


def _text(ids: dict[uuid.UUID, str], task_id: Any) -> str:
    text = ids.get(task_id)
    if text is None:
        text = ids[task_id] = str(task_id)
    return text
