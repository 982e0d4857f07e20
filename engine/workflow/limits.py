"""Bounds SpiffWorkflow does not have: how many instances a multi-instance step may create.

A parallel multi-instance activity creates all its children inside one engine step, from
a cardinality or a collection that task data decides; a count of 10**7 would allocate
until the process dies. We cap the children a single activity may have; passing the cap
fails that application (an incident), never the server.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

MAX_INSTANCES = 1_000


class MultiInstanceLimitError(Exception):
    """A multi-instance activity asked for more instances than allowed."""


_create_child = MultiInstanceTask.create_child


def _bounded_create_child(self: Any, my_task: Any, item: Any, key_or_index: Any = None) -> Any:
    if len(my_task.children) >= MAX_INSTANCES:
        raise MultiInstanceLimitError(
            f"{self.bpmn_id} asked for more than {MAX_INSTANCES} instances; split the work"
        )
    return _create_child(self, my_task, item, key_or_index)


MultiInstanceTask.create_child = _bounded_create_child
