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

from engine.workflow.spiff_compat import clock, multi_instance
from engine.workflow.spiff_compat.bpmn_rewrites import spiff_copy
from engine.workflow.spiff_compat.clock import engine_time
from engine.workflow.spiff_compat.multi_instance import MAX_INSTANCES, MultiInstanceLimitError
from engine.workflow.spiff_compat.task_state import mark_error

__all__ = [
    "CHECKED_AGAINST",
    "MAX_INSTANCES",
    "MultiInstanceLimitError",
    "engine_time",
    "install",
    "mark_error",
    "spiff_copy",
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
        _installed = True
