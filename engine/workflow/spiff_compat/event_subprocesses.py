"""Event sub-processes as BPMN runs them, over SpiffWorkflow 3.2.0.

SpiffWorkflow 3.2.0 starts an event sub-process whose start event is a timer (or none)
as one more parallel branch of its scope, and stops there:
- an *interrupting* start event (BPMN's default, `isInterrupting` absent or "true") does
  not cancel the rest of the scope: the main path's steps stay open beside it;
- while its start event waits, the scope's end join waits too, so a scope whose main path
  has ended never completes (a process with an escalation timer it did not need hangs).
- `isInterrupting` is not read at all.

(SpiffBpmnParser also builds it as a plain `SubWorkflowTask`, so nothing at run time
tells it apart.) The parser records both facts on the specs (`mark_event_subprocesses`,
kept by the serializer in `extensions`); after each engine run `settle` cancels what BPMN
cancels, and the caller runs the engine again when it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import EventSubprocess
from SpiffWorkflow.util.task import TaskState

from engine.workflow.spiff_compat.walk import all_tasks, scopes

_NON_INTERRUPTING = "permitflow:nonInterrupting"
_HANDLER = "permitflow:eventSubprocess"
_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def mark_event_subprocesses(tree: etree._Element, specs: Iterable[Any]) -> None:
    """Flag, among `specs`' task specs, the event sub-processes of `tree` and the start
    events it marks `isInterrupting="false"`."""
    handlers = {e.get("id") for e in tree.iter(_BPMN + "subProcess")
                if e.get("triggeredByEvent") == "true"}
    non_interrupting = {e.get("id") for e in tree.iter(_BPMN + "startEvent")
                        if e.get("isInterrupting") == "false"}
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if task_spec.bpmn_id in handlers:
                _extensions(task_spec)[_HANDLER] = True
            elif isinstance(task_spec, StartEvent) and task_spec.bpmn_id in non_interrupting:
                _extensions(task_spec)[_NON_INTERRUPTING] = True


def _extensions(task_spec: Any) -> dict[str, Any]:
    extensions = getattr(task_spec, "extensions", None)
    if extensions is None:
        task_spec.extensions = extensions = {}
    return extensions


def _is_handler(task: Any) -> bool:
    spec = task.task_spec
    return isinstance(spec, EventSubprocess) or bool(_extensions(spec).get(_HANDLER))


def settle(workflow: BpmnWorkflow) -> bool:
    """Cancel what BPMN cancels in every scope that has event sub-processes: the rest of
    the scope when an interrupting one has started; the ones still waiting for their
    start event when the scope's main path has ended. True when anything was cancelled."""
    changed = False
    for scope in list(scopes(workflow)):
        if scope.task_tree is None:
            continue
        branches = list(scope.task_tree.children)
        handlers = [t for t in branches if _is_handler(t)]
        if not handlers or scope.task_tree.state != TaskState.COMPLETED:
            continue
        main = [t for t in branches if t not in handlers]
        for handler in handlers:
            if _open(handler) and _started(workflow, handler) and _interrupting(workflow, handler):
                changed |= _cancel([b for b in branches if b is not handler])
                break
        else:
            if all(_ended(scope, branch) for branch in main):
                waiting = [h for h in handlers if _open(h) and not _started(workflow, h)]
                changed |= _cancel(waiting)
    if changed:
        _recheck_joins(workflow)
    return changed


def _recheck_joins(workflow: BpmnWorkflow) -> None:
    # A join waiting on branches that were just cancelled is not looked at again by
    # do_engine_steps (it runs READY tasks only): let it see that it may fire now.
    for task in all_tasks(workflow, TaskState.WAITING):
        if getattr(task.task_spec, "event_definition", None) is None:
            task.task_spec._update(task)


def _open(task: Any) -> bool:
    return not task.has_state(TaskState.FINISHED_MASK)


def _start_event(workflow: BpmnWorkflow, handler: Any) -> Any | None:
    sub = workflow.subprocesses.get(handler.id)
    if sub is None:
        return None
    return next((t for t in sub.tasks.values() if isinstance(t.task_spec, StartEvent)), None)


def _started(workflow: BpmnWorkflow, handler: Any) -> bool:
    start = _start_event(workflow, handler)
    return start is not None and start.state == TaskState.COMPLETED


def _interrupting(workflow: BpmnWorkflow, handler: Any) -> bool:
    start = _start_event(workflow, handler)
    extensions = getattr(start.task_spec, "extensions", None) or {} if start else {}
    return not extensions.get(_NON_INTERRUPTING, False)


def _ended(scope: Any, branch: Any) -> bool:
    """Whether every task of `branch` is finished, up to the scope's own end join."""
    join = scope.spec.end
    tail = {join.name, *(spec.name for spec in join.outputs)}
    return all(t.task_spec.name in tail or not _open(t) for t in _subtree(branch))


def _subtree(task: Any) -> Iterator[Any]:
    stack = [task]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def _cancel(branches: list[Any]) -> bool:
    changed = False
    for branch in branches:
        if any(_open(t) for t in _subtree(branch)):
            branch.cancel()  # cancels every unfinished task below, sub-workflows included
            changed = True
    return changed
