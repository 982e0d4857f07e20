"""Message events: what a workflow waits for, delivering one message, starting at one.

A message is named by its `bpmn:message name` (SpiffWorkflow's event definition name).
It is caught by an intermediate message catch event, a receive task, a message boundary
event (interrupting or not), an event-based gateway with a message behind it, or a
message start event. SpiffWorkflow 3.2.0's `workflow.catch(event)` hands an event to every
waiting task that matches; a message is for exactly one, so we pick the catcher ourselves
and give the event to that task through the same `catch()` its spec implements.

SpiffWorkflow 3.2.0 keeps a caught message's payload in the task's internal data and copies
it into the process data only when the model names a `spiffworkflow` message variable; a
Camunda model never does, and the data was lost. Camunda sets the payload as process
variables: we set it on the catching task, from which every later task inherits it.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.util.task import TaskState


class MessageNotWaitingError(Exception):
    """No task of the workflow waits for this message (with these correlation values)."""


class MessageAmbiguousError(Exception):
    """Several tasks of the workflow wait for this message: it would not be clear which."""


@dataclass(frozen=True, slots=True)
class MessageWait:
    """A task of a workflow waiting for the message `name`."""

    task_id: uuid.UUID
    element_id: str
    name: str


@dataclass(frozen=True, slots=True)
class MessageStarts:
    """How a process spec starts: the message names of its message start events, and
    whether it also has a start event that needs no message."""

    names: frozenset[str]
    plain: bool


def waiting_messages(workflow: BpmnWorkflow) -> list[MessageWait]:
    """Every task of the workflow (sub-processes included) that waits for a message."""
    found = []
    for task in _waiting(workflow):
        spec = task.task_spec
        for definition in _open_messages(task):
            found.append(MessageWait(task.id, spec.bpmn_id or spec.name, definition.name))
    return found


def message_starts(spec: BpmnProcessSpec) -> MessageStarts:
    """The message start events of a process spec (its top level), and whether a start
    event without a message exists beside them."""
    names: set[str] = set()
    plain = False
    for start in spec.bpmn_start_events:
        definition = start.event_definition
        messages = list(_messages_of(definition))
        names.update(d.name for d in messages)
        plain = plain or isinstance(definition, NoneEventDefinition)
    return MessageStarts(frozenset(names), plain)


def catches_messages(spec: BpmnProcessSpec, subprocess_specs: Mapping[str, Any]) -> bool:
    """Whether any task of the spec (or its sub-process specs) can wait for a message."""
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if any(_messages_of(getattr(task_spec, "event_definition", None))):
                return True
    return False


def find_catcher(
    workflow: BpmnWorkflow, name: str, correlation: Mapping[str, Any] | None = None
) -> Any:
    """The one task waiting for `name` whose data holds every `correlation` value.

    Raises: MessageNotWaitingError, MessageAmbiguousError.
    """
    matches = [
        task
        for task in _waiting(workflow)
        if any(d.name == name for d in _open_messages(task))
        and _correlates(task.data, correlation)
    ]
    if not matches:
        raise MessageNotWaitingError(name)
    if len(matches) > 1:
        raise MessageAmbiguousError(name)
    return matches[0]


def deliver_to(task: Any, name: str, data: Mapping[str, Any]) -> None:
    """Give the message `name` with `data` to `task` (from `find_catcher`); the engine
    runs on from there when the caller runs it."""
    definition = next(d for d in _messages_of(task.task_spec.event_definition) if d.name == name)
    payload = copy.deepcopy(dict(data))
    task.task_spec.catch(task, BpmnEvent(definition, payload=payload))
    task.task_spec._update(task)  # as EventManager.catch does after a catch
    task.data.update(copy.deepcopy(payload))


def _waiting(workflow: BpmnWorkflow) -> Iterator[Any]:
    # The top workflow's event manager holds the waiting catch tasks of every sub-process.
    for task in list(workflow.event_manager.tasks.values()):
        if task.state == TaskState.WAITING and any(_messages_of(task.task_spec.event_definition)):
            yield task


def _messages_of(definition: Any) -> Iterator[MessageEventDefinition]:
    if isinstance(definition, MessageEventDefinition):
        yield definition
    elif isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _messages_of(inner)


def _open_messages(task: Any) -> Iterator[MessageEventDefinition]:
    """The messages `task` still waits for: a parallel multiple event (all of its triggers
    needed) no longer waits for one it has caught; its `seen_events` say which."""
    seen = {
        getattr(event.event_definition, "name", None)
        for event in task.internal_data.get("seen_events", [])
    }
    for definition in _messages_of(task.task_spec.event_definition):
        if definition.name not in seen:
            yield definition


def _correlates(data: Mapping[str, Any], correlation: Mapping[str, Any] | None) -> bool:
    return all(key in data and data[key] == value for key, value in (correlation or {}).items())
