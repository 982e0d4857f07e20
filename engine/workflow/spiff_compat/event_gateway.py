"""Timers behind an event-based gateway, as BPMN runs them, over SpiffWorkflow 3.2.0.

In 3.2.0 the gateway takes over its catch events' definitions (one
`MultipleEventDefinition`) and only the gateway waits. Its timers then:
- share one due time: each timer keeps its due time in the waiting task's
  `event_value`, and here that task is the gateway, so the first timer evaluated sets it
  and every other timer reads it (a 1-day and a 3-day timer both fire after 1 day);
- are not visible as timers (the waiting task's definition is not a timer), so they are
  never indexed and the worker never fires them;
- may all win: the gateway follows every event it has seen, not only the first.

Below, each timer keeps its own due time under `DUE_TIMES` (by timer name, which is the
catch event's element id: `bpmn_fixups` names timers so), `gateway_timers` lists them
for the timer index, and the gateway follows the first event only (BPMN: first wins, the
other branches are never taken).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.util.event import BpmnEvent

DUE_TIMES = "permitflow:due_times"


def gateway_timers(task: Any) -> Iterator[tuple[str, TimerEventDefinition, Any]]:
    """(catch event id, timer definition, stored due value) of each timer a waiting
    event-based gateway task waits for."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, MultipleEventDefinition):
        return
    due = task.internal_data.get(DUE_TIMES, {})
    for item in definition.event_definitions:
        if isinstance(item, TimerEventDefinition):
            yield item.name, item, due.get(item.name)


def _has_fired(self: MultipleEventDefinition, my_task: Any) -> bool:
    # The library's loop (multiple.py), with each timer's due time kept apart.
    seen = list(my_task.internal_data.get("seen_events", []))
    pending = [d for d in self.event_definitions if all(e.event_definition != d for e in seen)]
    if seen and not self.parallel:
        return True  # an event came first: the timers lose
    due = dict(my_task.internal_data.get(DUE_TIMES, {}))
    internal = my_task.internal_data
    for item in list(pending):
        if not isinstance(item, TimerEventDefinition):
            continue
        # Each timer computes and reads its own due time in `event_value`, one at a time.
        if item.name in due:
            internal["event_value"] = due[item.name]
        else:
            internal.pop("event_value", None)
        fired = item.has_fired(my_task)
        due[item.name] = internal.pop("event_value", None)
        if fired:
            pending.remove(item)
            seen.append(BpmnEvent(item))
            if not self.parallel:
                break
    internal[DUE_TIMES] = due
    internal["seen_events"] = seen
    return not pending if self.parallel else bool(seen)


# The library's own method, kept before `install` replaces it.
_gateway_run = EventBasedGateway._run_hook


def _first_event_wins(self: Any, my_task: Any) -> Any:
    seen = my_task.internal_data.get("seen_events", [])
    my_task.internal_data["seen_events"] = seen[:1]
    return _gateway_run(self, my_task)


def install() -> None:
    """Replace the two methods (idempotent: always over the library's originals)."""
    MultipleEventDefinition.has_fired = _has_fired
    EventBasedGateway._run_hook = _first_event_wins
