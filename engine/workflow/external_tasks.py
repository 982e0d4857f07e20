"""External service tasks (Camunda 7's external task pattern, Zeebe job workers).

A service task is worked by a worker outside the engine that fetches it by topic, locks
it, and completes it, reports a failure, or throws a BPMN error. In the workflow such a
task waits in SpiffWorkflow's STARTED state: `ExternalServiceTask` runs, returns None
(SpiffWorkflow 3.2.0's "started, not finished": `do_engine_steps` leaves it alone) and
stays there until the worker's answer completes it here.

SpiffWorkflow 3.2.0's Spiff parser makes every `serviceTask` a task that calls
`script_engine.call_service` synchronously and needs a `spiffworkflow:serviceTaskOperator`;
our parser maps `serviceTask` to `ExternalServiceTask` instead (`specs._Parser`), and the
serializer knows it (`serialization`).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.task_spec import SpiffBpmnTaskConverter
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.task import TaskState

from engine.workflow.spiff_compat import all_tasks

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"


class ExternalServiceTask(ServiceTaskMixin, SpiffBpmnTask):
    """A service task worked by an external worker: it waits, STARTED, when it runs."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str = "", **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _execute(self, task: Any) -> None:
        return None


def topic_of(node: Any) -> str:
    """The topic a service task element names: `camunda:topic` (with
    `camunda:type="external"`) or Zeebe's `zeebe:taskDefinition type`; '' when none."""
    topic = (node.get(f"{{{CAMUNDA}}}topic") or "").strip()
    if topic:
        return str(topic)
    for definition in node.iter(f"{{{ZEEBE}}}taskDefinition"):
        return str(definition.get("type") or "").strip()
    return ""


class ExternalTaskParser(SpiffTaskParser):
    """Builds `ExternalServiceTask` with the topic of the element."""

    def create_task(self) -> ExternalServiceTask:
        extensions = self.parse_extensions()
        return ExternalServiceTask(
            self.spec,
            self.bpmn_id,
            topic=topic_of(self.node),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class ExternalServiceTaskConverter(SpiffBpmnTaskConverter):
    """Stores the topic with the spec."""

    def to_dict(self, spec: ExternalServiceTask) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["topic"] = spec.topic
        return dct


class ExternalTaskNotWaitingError(Exception):
    """The workflow has no started external task with this id."""


@dataclass(frozen=True, slots=True)
class ExternalWait:
    """An external task waiting for its worker."""

    task_id: uuid.UUID
    element_id: str
    topic: str


def waiting_external(
    workflow: BpmnWorkflow, tasks: list[Any] | None = None
) -> list[ExternalWait]:
    """Every external task of the workflow (sub-processes included) waiting for a worker;
    `tasks`: the workflow's `all_tasks`, when the caller has them."""
    seen: dict[uuid.UUID, ExternalWait] = {}
    for task in all_tasks(workflow) if tasks is None else tasks:
        spec = task.task_spec
        if isinstance(spec, ExternalServiceTask) and task.state == TaskState.STARTED:
            seen[task.id] = ExternalWait(task.id, spec.bpmn_id or spec.name, spec.topic)
    return list(seen.values())


def has_external_tasks(spec: Any, subprocess_specs: Mapping[str, Any]) -> bool:
    """Whether the spec (or a sub-process spec) has a service task for external workers."""
    return any(
        isinstance(task_spec, ExternalServiceTask)
        for process in (spec, *subprocess_specs.values())
        for task_spec in process.task_specs.values()
    )


def task_data(workflow: BpmnWorkflow, task_id: uuid.UUID) -> dict[str, Any]:
    """A copy of the data the waiting external task holds (what its worker is given).

    Raises: ExternalTaskNotWaitingError.
    """
    return copy.deepcopy(dict(_started(workflow, task_id).data))


def complete_external(
    workflow: BpmnWorkflow, task_id: uuid.UUID, variables: Mapping[str, Any]
) -> Any:
    """The task with the worker's `variables` set, completed: returns a callable that the
    runtime runs before the engine moves on.

    Raises: ExternalTaskNotWaitingError.
    """
    task = _started(workflow, task_id)

    def complete() -> None:
        task.data.update(copy.deepcopy(dict(variables)))
        task.complete()

    return complete


def error_catcher(workflow: BpmnWorkflow, task_id: uuid.UUID, code: str) -> Any | None:
    """What would catch the BPMN error `code` thrown by the external task: an error
    boundary event on it (or on an enclosing sub-process), or an error event sub-process;
    None when nothing would.

    Raises: ExternalTaskNotWaitingError.
    """
    task = _started(workflow, task_id)
    event = _error_event(code, {})
    for waiting in workflow.event_manager.tasks.values():
        definition = getattr(waiting.task_spec, "event_definition", None)
        if (
            isinstance(definition, ErrorEventDefinition)
            and _related(waiting, task)
            and definition.code in (None, "", code)
        ):
            event.event_definition = type(definition)(name=code, code=code)
            if waiting.task_spec.catches(waiting, event):
                return waiting
    return None


def throw_error(
    workflow: BpmnWorkflow, task_id: uuid.UUID, code: str, variables: Mapping[str, Any]
) -> Any:
    """A callable that throws the BPMN error `code` from the external task, as an error end
    event would, with `variables` as its payload (set on the catching path).

    Raises: ExternalTaskNotWaitingError; LookupError when nothing catches `code`
    (`error_catcher` says so beforehand).
    """
    task = _started(workflow, task_id)
    catcher = error_catcher(workflow, task_id, code)
    if catcher is None:
        raise LookupError(code)

    def throw() -> None:
        payload = copy.deepcopy(dict(variables))
        task.data.update(copy.deepcopy(payload))
        definition = type(catcher.task_spec.event_definition)(name=code, code=code)
        workflow.top_workflow.catch(BpmnEvent(definition, payload=payload, target=task.workflow))
        # SpiffWorkflow 3.2.0's Spiff error definition copies a payload into the data only
        # into a named variable (`messages` has the same workaround): set it on the catcher.
        catcher.data.update(copy.deepcopy(payload))

    return throw


def _error_event(code: str, payload: dict[str, Any]) -> BpmnEvent:
    return BpmnEvent(ErrorEventDefinition(name=code, code=code), payload=payload)


def _related(waiting: Any, task: Any) -> bool:
    """Whether `waiting` belongs to the task's workflow or one enclosing it."""
    workflow = task.workflow
    while workflow is not None:
        if waiting.workflow is workflow:
            return True
        workflow = workflow.parent_workflow
    return False


def _started(workflow: BpmnWorkflow, task_id: uuid.UUID) -> Any:
    for task in all_tasks(workflow):
        if (
            task.id == task_id
            and isinstance(task.task_spec, ExternalServiceTask)
            and task.state == TaskState.STARTED
        ):
            return task
    raise ExternalTaskNotWaitingError(str(task_id))
