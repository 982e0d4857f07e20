"""What SpiffWorkflow 3.2.0's multi-instance activities lack: a bound, and instance scope.

A parallel multi-instance activity creates all its children inside one engine step, from
a cardinality or a collection that task data decides; a count of 10**7 would allocate
until the process dies. We cap the children a single activity may have; passing the cap
fails that application (an incident), never the server.

Camunda keeps an instance's element variable (and output element) local to the instance
and builds the output collection anew each time the step starts. SpiffWorkflow merges
each instance's whole data back into the process, so the variable leaks; the next step
that fans out with the same name, or the same step reached again by a loop back, then
fails ("input item already exists"), and a non-empty output collection is refused. Both
are patched below to Camunda's behaviour.

SpiffWorkflow appends each instance's output element to a list output collection when
the instance completes, so instances completed out of order give an output in completion
order. In BPMN (and Zeebe) output element i belongs to input element i: it is put at its
instance's index (None where an instance never completed, e.g. after a completion
condition).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

MAX_INSTANCES = 1_000


class MultiInstanceLimitError(Exception):
    """A multi-instance activity asked for more instances than allowed."""

    def __init__(self, message: str, task: Any) -> None:
        super().__init__(message)
        self.task = task  # where it stopped, as SpiffWorkflow's own task errors carry it


# The library's own methods, kept before `install` replaces them.
_create_child = MultiInstanceTask.create_child
_merge_child = MultiInstanceTask.merge_child
_init_output = MultiInstanceTask.init_data_output_with_input_data


def _bounded_create_child(self: Any, my_task: Any, item: Any, key_or_index: Any = None) -> Any:
    if len(my_task.children) >= MAX_INSTANCES:
        raise MultiInstanceLimitError(
            f"{self.bpmn_id} asked for more than {MAX_INSTANCES} instances; split the work",
            my_task,
        )
    return _create_child(self, my_task, item, key_or_index)


def _scoped_merge_child(self: Any, workflow: Any, child: Any) -> None:
    if not _merge_by_index(self, child):
        _merge_child(self, workflow, child)
    for item in (self.input_item, self.output_item):
        if item is not None:
            child.parent.data.pop(item.bpmn_id, None)


def _fresh_output(self: Any, my_task: Any, input_data: Any) -> None:
    if self.data_output is not None and self.data_output.exists(my_task):
        output = self.data_output.get(my_task)
        if output is not input_data and isinstance(output, list):
            self.data_output.set(my_task, [])
    _init_output(self, my_task, input_data)


def install() -> None:
    """Replace the three methods (idempotent: always over the library's originals)."""
    MultiInstanceTask.create_child = _bounded_create_child
    MultiInstanceTask.merge_child = _scoped_merge_child
    MultiInstanceTask.init_data_output_with_input_data = _fresh_output


def _merge_by_index(self: Any, child: Any) -> bool:
    """Put `child`'s output element at its index of a list output; False when the output
    is not such a list (a mapping, updated in place, or no output)."""
    if self.data_output is None or self.output_item is None:
        return False
    my_task = child.parent
    index = child.internal_data.get("key_or_index")
    output = self.data_output.get(my_task) if self.data_output.exists(my_task) else None
    source = self.data_input.get(my_task) if self.data_input is not None else None
    if not isinstance(index, int) or not isinstance(output, list) or output is source:
        return False
    if not self.output_item.exists(child):
        self.raise_data_exception("Expected an output item", child)
    output.extend([None] * (index + 1 - len(output)))
    output[index] = self.output_item.get(child)
    my_task.internal_data["merged"].append(str(child.id))
    return True
