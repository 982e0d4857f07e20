"""Reading waiting timers out of a workflow, so their due times can live in an index.

SpiffWorkflow keeps a timer's due time in the waiting task's internal data (an ISO
string for durations and dates, a dict with `next` for cycles). We copy it into the
`timers` table after every call; the worker then finds due timers by index instead
of loading every waiting application.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from engine.workflow.spiff_compat import all_tasks, gateway_timers

_KINDS = (
    (CycleTimerEventDefinition, "cycle"),
    (DurationTimerEventDefinition, "duration"),
    (TimeDateEventDefinition, "date"),
)


@dataclass(frozen=True, slots=True)
class TimerState:
    """A timer waiting in a workflow, with the moment it is due (aware UTC)."""

    task_id: uuid.UUID
    element_id: str
    kind: str
    due_at: datetime


def waiting_timers(workflow: BpmnWorkflow, tasks: list[Any] | None = None) -> list[TimerState]:
    """Every timer of the workflow (and its sub-processes) that is waiting with a due time;
    `tasks`: the workflow's `all_tasks`, when the caller has them."""
    found = []
    waiting = (all_tasks(workflow, TaskState.WAITING) if tasks is None
               else [t for t in tasks if t.state & TaskState.WAITING])
    for task in waiting:
        for element_id, timer, value in gateway_timers(task):
            due = _due(value)
            if due is not None:
                # One row per timer: its id is derived from the gateway task and the event.
                timer_id = uuid.uuid5(task.id, element_id)
                found.append(TimerState(timer_id, element_id, _kind(timer), due))
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        due = _due(task.internal_data.get("event_value"))
        if due is not None:
            spec = task.task_spec
            found.append(TimerState(task.id, spec.bpmn_id or spec.name, _kind(definition), due))
    return found


def _kind(definition: TimerEventDefinition) -> str:
    return next((name for cls, name in _KINDS if isinstance(definition, cls)), "duration")


def _due(value: Any) -> datetime | None:
    if isinstance(value, dict):  # a cycle: the next firing, or nothing when cycles are done
        value = value.get("next") if value.get("cycles", 0) != 0 else None
    if not isinstance(value, str):
        return None
    try:
        due = datetime.fromisoformat(value)
    except ValueError:
        return None
    return due.replace(tzinfo=UTC) if due.tzinfo is None else due.astimezone(UTC)
