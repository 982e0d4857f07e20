"""What a call of the workflow adapter (`runtime`) produces: the `Outcome` the service layer
persists in one transaction, the human steps it reports, the spec it ran on, and the limits
and errors that stop a call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from engine.domain.statuses import StepStatus
from engine.workflow.external_tasks import ExternalWait
from engine.workflow.messages import MessageWait
from engine.workflow.timers import TimerState

StepStateName = StepStatus  # the row state a SpiffWorkflow task maps to

# A request may run at most this many engine tasks (gateways, scripts, events) before
# it stops: a loop of script tasks has no user step to wait on and would otherwise spin.
MAX_ENGINE_STEPS_PER_CALL = 5_000
# SpiffWorkflow's task tree never shrinks; past ~1,000 tasks its lookups and recursion
# break down (pitfalls: loops > ~500 rounds, chains of ~490 tasks). Stop well before.
MAX_TASKS_IN_TREE = 2_500


class StepNotReadyError(Exception):
    """The task is not a READY human step of this workflow."""


class EngineStepLimitError(Exception):
    """The workflow ran more engine steps, or grew more tasks, than one call allows."""


def engine_step_counter(workflow: BpmnWorkflow) -> Callable[[Any], None]:
    """A `will_complete_task` hook for `do_engine_steps` that stops the call, raising
    EngineStepLimitError, past `MAX_ENGINE_STEPS_PER_CALL` steps or `MAX_TASKS_IN_TREE` tasks."""
    count = 0

    def count_step(_task: Any) -> None:
        nonlocal count
        count += 1
        if count > MAX_ENGINE_STEPS_PER_CALL or len(workflow.tasks) > MAX_TASKS_IN_TREE:
            raise EngineStepLimitError(
                f"the process ran more than {MAX_ENGINE_STEPS_PER_CALL} automatic steps "
                f"or grew past {MAX_TASKS_IN_TREE} tasks; is there an endless loop?"
            )

    return count_step


@dataclass(frozen=True, slots=True)
class StepState:
    """A human step as SpiffWorkflow sees it now."""

    task_id: uuid.UUID
    element_id: str
    name: str
    state: StepStateName
    # An instance of a step that fans out over a collection: its element, by variable name.
    item: dict[str, Any] | None = None
    # A ready step's task data (a shallow copy, read only): a fee formula's inputs.
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call left behind: the state to save, the human steps, and how it ended."""

    state: dict[str, Any]
    steps: list[StepState]
    completed: bool
    error: dict[str, Any] | None = None
    timers: list[TimerState] = field(default_factory=list)
    # The top-level end events the process reached, as (element id, name): how it ended
    # (issued or rejected) is the end event's, never the generic "completed".
    end_events: list[tuple[str, str]] = field(default_factory=list)
    messages: list[MessageWait] = field(default_factory=list)
    external: list[ExternalWait] = field(default_factory=list)
    # The process data when the process completed (what an issued document prints).
    final_data: dict[str, Any] | None = None
    # The live workflow `state` was saved from, for the next step (`live_cache`); None when
    # the run stopped on an error, fell back to an earlier state, or completed the process.
    workflow: BpmnWorkflow | None = field(default=None, repr=False, compare=False)
    # The human steps (of `steps`) whose state this call changed, or that it made: only
    # their task rows can need writing (None: not known, compare them all).
    changed: frozenset[uuid.UUID] | None = None


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    """A model version's spec, restored once and shared by every call on that version."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
