"""The SpiffWorkflow adapter: start, restore, complete, and report human steps.

It knows workflows, tasks and states; it does not know users, HTTP or the database.
The spec comes from the model version (restored once per process and cached); the
state is the application's saved document. Each call returns an `Outcome` (`outcome`)
that the service layer persists in one transaction.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.workflow import spiff_compat
from engine.workflow.call_activities import join_specs
from engine.workflow.errors import describe_error
from engine.workflow.live_cache import SavedWorkflow
from engine.workflow.messages import (
    MessageNotWaitingError,
    deliver_to,
    find_catcher,
)
from engine.workflow.outcome import (
    EngineStepLimitError,
    LoadedSpec,
    Outcome,
    StepNotReadyError,
    engine_step_counter,
)
from engine.workflow.serialization import WorkflowCodec
from engine.workflow.spiff_compat import (
    MultiInstanceLimitError,
    all_tasks,
    do_engine_steps,
    engine_time,
    mark_error,
    settle_event_subprocesses,
    task_of,
)
from engine.workflow.state_bounds import (
    DEFAULT_MAX_STATE_BYTES,
    StateNotStorableError,
    check_task_data,
    task_states,
)
from engine.workflow.step_reading import outcome_of
from engine.workflow.variables import current_data

# A saved state, or a step's `SavedWorkflow` (a live object from the cache, else the state).
State = dict[str, Any] | SavedWorkflow


class WorkflowRuntime:
    """Runs applications' workflows: load (or take the live object the last step left,
    `live_cache`), act, save, on every call."""

    def __init__(
        self,
        codec: WorkflowCodec | None = None,
        script_engine_factory: Callable[[], PythonScriptEngine] | None = None,
        cache_size: int = 256,
        max_state_bytes: int = DEFAULT_MAX_STATE_BYTES,
    ) -> None:
        spiff_compat.install()
        self._codec = codec or WorkflowCodec()
        self._max_state_bytes = max_state_bytes
        self._script_engine = (script_engine_factory or PythonScriptEngine)()
        self._cache: OrderedDict[Any, LoadedSpec] = OrderedDict()
        self._cache_size = cache_size
        self._lock = Lock()

    def load_spec(
        self, cache_key: Any, spec_source: Callable[[], dict[str, Any]] | dict[str, Any]
    ) -> LoadedSpec:
        """The restored spec of a model version, from the cache when possible.

        `spec_source` may be a callable so the caller reads the stored spec only on a miss.
        """
        with self._lock:
            loaded = self._cache.get(cache_key)
            if loaded is not None:
                self._cache.move_to_end(cache_key)
                return loaded
        spec_dict = spec_source() if callable(spec_source) else spec_source
        spec, subprocess_specs = self._codec.spec_from_dict(spec_dict)
        loaded = LoadedSpec(spec, subprocess_specs)
        with self._lock:
            self._cache[cache_key] = loaded
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return loaded

    def compose(
        self, cache_key: Any, base: LoadedSpec, called: dict[str, LoadedSpec]
    ) -> LoadedSpec:
        """A caller's spec joined with the specs of the models its call activities call
        (key -> spec), cached like a version's (`call_activities`).

        Raises: CallConflictError.
        """
        with self._lock:
            loaded = self._cache.get(cache_key)
            if loaded is not None:
                self._cache.move_to_end(cache_key)
                return loaded
        joined = join_specs(
            base.spec,
            base.subprocess_specs,
            {key: (c.spec, c.subprocess_specs) for key, c in called.items()},
        )
        loaded = LoadedSpec(base.spec, joined)
        with self._lock:
            self._cache[cache_key] = loaded
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return loaded

    def start(self, loaded: LoadedSpec, data: dict[str, Any], now: datetime) -> Outcome:
        """Create a workflow seeded with `data` and run it to its first waits at time `now`.

        Raises: StateTooLargeError when `data` alone is over the state's byte budget.
        """

        def seeded() -> BpmnWorkflow:
            workflow = BpmnWorkflow(
                loaded.spec, loaded.subprocess_specs, script_engine=self._script_engine
            )
            # Seed on the root task: workflow.set_data() is not visible to tasks.
            workflow.task_tree.data.update(copy.deepcopy(data))
            return workflow

        return self._advance(seeded(), now, known={}, fallback=seeded)

    def complete(
        self,
        loaded: LoadedSpec,
        state: State,
        task_id: uuid.UUID,
        data: dict[str, Any],
        now: datetime,
    ) -> Outcome:
        """Complete a READY human step with `data` and run the engine on.

        Raises: StepNotReadyError when the task is not a READY human step;
        StateTooLargeError when `data` makes the state too large to save.
        """

        def completed() -> tuple[BpmnWorkflow, Callable[[], Any]]:
            workflow = self.restore(loaded, state)
            task = self._ready_step(workflow, task_id)
            # Deep copy in, replace top-level keys: SpiffWorkflow shares nested data between
            # tasks (3.2.0) and its form merge drops list items.
            task.data.update(copy.deepcopy(data))
            return workflow, task.run

        workflow, run = completed()
        known = task_states(workflow)

        def checkpoint() -> BpmnWorkflow:
            # The step done, nothing after it run: a retry runs the engine on from there.
            again, run_again = completed()
            with engine_time(now), contextlib.suppress(Exception):
                run_again()  # a failing post-script leaves the step in ERROR, retryable
            return again

        return self._advance(workflow, now, known=known, fallback=checkpoint, first=run)

    def retry(
        self, loaded: LoadedSpec, state: State, data: dict[str, Any], now: datetime
    ) -> Outcome:
        """Run a workflow that stopped on an error again, with `data` set first.

        Each task that failed (SpiffWorkflow's ERROR state) is reset, its descendants
        dropped (the instances a capped multi-instance step made, say), and runs again with
        `data` set; when none failed (the engine's step limit stopped a loop), `data` goes to
        the automatic tasks that were about to run. Then the engine runs on.
        """
        workflow = self.restore(loaded, state)
        known = task_states(workflow)
        failed = [t for t in all_tasks(workflow) if t.state == TaskState.ERROR]

        def reset() -> None:
            # Resetting runs the task's update at once (a pre-script, a multi-instance
            # fan-out): what fails there stops the application again, like the engine.
            for task in failed:
                # A reset task takes its data from its parent again (SpiffWorkflow's inherit
                # overwrites keys given to the reset itself), so the new values go there:
                # as if they had been set just before the step that failed.
                task.parent.data.update(copy.deepcopy(data))
                workflow.reset_from_task_id(task.id)

        if not failed:
            for task in all_tasks(workflow):
                if task.state == TaskState.READY and not task.task_spec.manual:
                    task.data.update(copy.deepcopy(data))
        return self._advance(
            workflow, now, known=known, fallback=lambda: self.restore(loaded, state),
            first=reset if failed else None,
        )

    def advance(self, loaded: LoadedSpec, state: State, now: datetime) -> Outcome:
        """Run the engine at time `now`: fires the timers due by then (the worker's call)."""
        workflow = self.restore(loaded, state)
        return self._advance(
            workflow, now, known=task_states(workflow), fallback=lambda: self.restore(loaded, state)
        )

    def deliver_message(
        self,
        loaded: LoadedSpec,
        state: State,
        name: str,
        data: dict[str, Any],
        now: datetime,
        correlation: dict[str, Any] | None = None,
    ) -> Outcome:
        """Deliver the message `name` with `data` to the one task waiting for it (whose
        data holds the `correlation` values) and run the engine on (`messages`).

        Raises: MessageNotWaitingError, MessageAmbiguousError.
        """

        def prepare(workflow: BpmnWorkflow) -> Callable[[], Any]:
            catcher = find_catcher(workflow, name, correlation)
            return lambda: deliver_to(catcher, name, data)

        return self.act(loaded, state, now, prepare)

    def act(
        self,
        loaded: LoadedSpec,
        state: State,
        now: datetime,
        prepare: Callable[[BpmnWorkflow], Callable[[], Any]],
    ) -> Outcome:
        """Restore the workflow, let `prepare` find what to do on it (its errors propagate:
        nothing was done), then do that and run the engine on (a message, an external
        task's answer)."""
        workflow = self.restore(loaded, state)
        first = prepare(workflow)
        return self._advance(
            workflow,
            now,
            known=task_states(workflow),
            fallback=lambda: self.restore(loaded, state),
            first=first,
        )

    def waits_for_message(
        self,
        loaded: LoadedSpec,
        state: dict[str, Any],
        name: str,
        correlation: dict[str, Any] | None = None,
    ) -> bool:
        """Whether exactly one task of the saved workflow waits for `name` (correlated).

        Raises: MessageAmbiguousError when several do.
        """
        try:
            find_catcher(self.restore(loaded, state), name, correlation)
        except MessageNotWaitingError:
            return False
        return True

    def variables(self, loaded: LoadedSpec, state: dict[str, Any]) -> dict[str, Any]:
        """The process data as the saved workflow sees it now (`variables.current_data`)."""
        return current_data(self.restore(loaded, state))

    @staticmethod
    def task_data(workflow: BpmnWorkflow, task_id: uuid.UUID) -> dict[str, Any]:
        """A copy of the data one task of `workflow` holds ({} when it has none); the
        workflow is only read."""
        try:
            task = workflow.get_task_from_id(task_id)
        except (WorkflowException, KeyError):
            return {}
        return copy.deepcopy(dict(task.data)) if task is not None else {}

    def restore(self, loaded: LoadedSpec, state: State) -> BpmnWorkflow:
        """The workflow of a saved state, with our script engine attached; for a
        `SavedWorkflow`, its live object the first time (a fallback restores the state)."""
        if isinstance(state, SavedWorkflow):
            live = state.take_live()
            if live is not None:
                return live
            state = state.load_state()
        workflow = self._codec.state_from_dict(state, loaded.spec, loaded.subprocess_specs)
        # Sub-workflows read the top workflow's engine (BpmnSubWorkflow.script_engine is a
        # read-only property in 3.2.0): setting it on them fails, and is not needed.
        workflow.script_engine = self._script_engine
        return workflow

    def _ready_step(self, workflow: BpmnWorkflow, task_id: uuid.UUID) -> Any:
        try:
            task = workflow.get_task_from_id(task_id)
        except (WorkflowException, KeyError):
            raise StepNotReadyError(str(task_id)) from None
        # SpiffWorkflow's run() completes a FUTURE task silently: check it ourselves.
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise StepNotReadyError(str(task_id))
        return task

    def _advance(
        self,
        workflow: BpmnWorkflow,
        now: datetime,
        *,
        known: dict[uuid.UUID, int],
        fallback: Callable[[], BpmnWorkflow],
        first: Callable[[], Any] | None = None,
    ) -> Outcome:
        """Run `first` (a human step's completion) and the engine; save the state.

        When what the run left cannot be stored (`state_bounds`), the application is saved
        in error as `fallback` builds it: the state before the engine ran, so a retry runs
        the same steps again.
        """
        error = None
        try:
            with engine_time(now):
                if first is not None:
                    try:
                        first()
                    except Exception as exc:
                        task = task_of(exc)
                        if task is not None:
                            mark_error(task, completing=True)
                        raise
                # Fire what is due first: do_engine_steps() only checks timers at its end,
                # so a timer due now would otherwise wait for the next call to move on.
                workflow.refresh_timers()
                count = engine_step_counter(workflow)
                do_engine_steps(workflow, count)  # the library's, without an idle tree walk
                while settle_event_subprocesses(workflow):
                    workflow.do_engine_steps(will_complete_task=count)
        except (
            SpiffWorkflowException,
            EngineStepLimitError,
            MultiInstanceLimitError,
            RecursionError,
        ) as exc:
            error = describe_error(exc)
            _mark_failed(exc)
        except Exception as exc:
            error = describe_error(exc)
            _mark_failed(exc)
        try:
            check_task_data(workflow, self._max_state_bytes)
            state = self._codec.state_to_dict(workflow, self._max_state_bytes)
        except StateNotStorableError as exc:
            error = describe_error(exc)
            workflow = fallback()
            # Checked too: a completion's fallback runs the step's post-script again, and
            # what it leaves may be unstorable (raised: the caller's data is refused).
            check_task_data(workflow, self._max_state_bytes)
            state = self._codec.state_to_dict(workflow, self._max_state_bytes)
        return outcome_of(workflow, state, error, known)


def _mark_failed(exc: BaseException) -> None:
    """Leave the task an error stopped at in ERROR, as SpiffWorkflow does for a failing
    script, so the saved state says where to retry from (`WorkflowRuntime.retry`)."""
    task = task_of(exc)
    if task is not None:
        mark_error(task)

