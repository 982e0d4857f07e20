"""Non-interrupting message boundary events stay armed while their activity runs.

BPMN (and Camunda 7) keep a non-interrupting boundary event listening for as long as the
activity it is attached to is active: every matching message starts its path again. In
SpiffWorkflow 3.2.0 each boundary event is one task under the activity's
`BoundaryEventSplit`; once it has caught, it is COMPLETED and nothing waits any more, so a
second message finds no catcher (`404`). Here, when a non-interrupting message boundary
event runs and its activity is still active, a new waiting task of the same spec is added
beside it (under the split); `BoundaryEventJoin` cancels it with the others when the
activity finishes. Timer boundaries are left alone: a cycle re-arms itself already.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

_original_run_hook = BoundaryEvent._run_hook


def _run_hook(self: BoundaryEvent, my_task: Any) -> Any:
    result = _original_run_hook(self, my_task)
    if not self.cancel_activity and isinstance(self.event_definition, MessageEventDefinition):
        rearm(my_task)
    return result


def rearm(my_task: Any) -> None:
    """Add a waiting twin of the boundary event task `my_task` while its activity is active."""
    split = my_task.parent
    if split is None:
        return
    siblings = list(split.children)
    main = [t for t in siblings if not isinstance(t.task_spec, BoundaryEvent)]
    if not main or main[0].has_state(TaskState.FINISHED_MASK):
        return
    if any(t.task_spec is my_task.task_spec and t.state == TaskState.WAITING for t in siblings):
        return
    twin = split._add_child(my_task.task_spec, TaskState.FUTURE)
    # Its path foreseen as the original's was (a FUTURE task is not predicted by default).
    twin.task_spec._predict(twin, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
    twin.task_spec._update(twin)


def install() -> None:
    """Patch `BoundaryEvent._run_hook` (idempotent)."""
    BoundaryEvent._run_hook = _run_hook
