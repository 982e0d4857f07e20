"""Every place permitflow corrects or completes SpiffWorkflow 3.2.0, gathered here.

`install()` applies the run-time patches (idempotent; `WorkflowRuntime` calls it). The
rewrites of the BPMN tree before the library parses it, the injected clock and the task
state helper are imported from here too. `README.md` in this folder lists each workaround,
the library behaviour it corrects, and the test that fails without it. They were checked
against `CHECKED_AGAINST` only: `tests/unit/test_spiff_compat.py` refuses another installed
version until the list is checked again.
"""

from __future__ import annotations

from threading import Lock

from engine.workflow.spiff_compat import boundary_events, clock, event_gateway, multi_instance
from engine.workflow.spiff_compat.bpmn_rewrites import spiff_copy
from engine.workflow.spiff_compat.clock import engine_time
from engine.workflow.spiff_compat.engine_steps import do_engine_steps
from engine.workflow.spiff_compat.event_gateway import gateway_timers
from engine.workflow.spiff_compat.event_subprocesses import mark_event_subprocesses
from engine.workflow.spiff_compat.event_subprocesses import settle as settle_event_subprocesses
from engine.workflow.spiff_compat.multi_instance import MAX_INSTANCES, MultiInstanceLimitError
from engine.workflow.spiff_compat.subprocess_specs import subprocess_specs
from engine.workflow.spiff_compat.task_state import mark_error, task_of
from engine.workflow.spiff_compat.walk import all_tasks, human_tasks, scopes

__all__ = [
    "CHECKED_AGAINST",
    "MAX_INSTANCES",
    "MultiInstanceLimitError",
    "all_tasks",
    "do_engine_steps",
    "engine_time",
    "gateway_timers",
    "human_tasks",
    "install",
    "mark_error",
    "mark_event_subprocesses",
    "scopes",
    "settle_event_subprocesses",
    "spiff_copy",
    "subprocess_specs",
    "task_of",
]

CHECKED_AGAINST = "3.2.0"

_lock = Lock()
_installed = False


def install() -> None:
    """Apply the run-time patches to SpiffWorkflow once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        multi_instance.install()
        clock.install()
        event_gateway.install()
        boundary_events.install()
        _installed = True
