"""The specs of a process's sub-processes, without requiring its call activities' specs.

SpiffWorkflow 3.2.0's `BpmnParser.get_subprocess_specs(name, require_call_activity_specs=
False)` passes the flag only one level down: its recursive call into an embedded
sub-process drops it, so a call activity *inside* a sub-process is looked up as required
and the parse fails with "The process 'x' was not found" (no element named), though the
called model is another model version joined at run time. This walks the same way and
keeps the flag at every depth, and never looks a call activity's process up at all: the
called model is the region's published version even when this file also draws that process
(as another pool, often non-executable, which the library would refuse to build).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask


def subprocess_specs(parser: Any, process_id: str) -> dict[str, Any]:
    """Every embedded sub-process spec reached from `process_id`; call activities' called
    processes are left out (joined at run time from the region's published models)."""
    found: dict[str, Any] = {}
    pending = [process_id]
    while pending:
        spec = parser.get_spec(pending.pop(), required=False)
        if spec is None:
            continue
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, CallActivity):
                continue
            if isinstance(task_spec, SubWorkflowTask) and task_spec.spec not in found:
                found[task_spec.spec] = sub = parser.get_spec(task_spec.spec, required=False)
                if sub is not None:
                    pending.append(task_spec.spec)
    return found
