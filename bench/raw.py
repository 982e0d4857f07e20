"""The library alone, as the reference benchmark measures it (`spiffworkflow-baseline/bench.py`).

A "raw step" is what a stateless server does with SpiffWorkflow and nothing else:
deserialize the saved JSON, list the ready user tasks, set the form data, `run()`,
`do_engine_steps()`, serialize again. The model is the same BPMN file the engine runs,
parsed by `SpiffBpmnParser`, with the library's default script engine; no database,
no HTTP, no sandbox. Two serializers: the default one (the whole spec in every save)
and one that stores the spec by reference, as permitflow does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState


def _spec_ref_converter(specs: dict[str, Any]) -> type[BpmnWorkflowConverter]:
    """A converter that saves `spec.name` instead of the spec (bench.py's SpecRef, ~20 lines)."""

    class SpecRefConverter(BpmnWorkflowConverter):
        def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
            dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
            dct["spec_ref"] = workflow.spec.name
            dct["subprocess_specs"] = {}
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            return dct

        def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
            dct["spec"] = specs[dct.pop("spec_ref")]
            workflow: BpmnWorkflow = super().from_dict(dct)
            return workflow

    return SpecRefConverter


class RawSpiff:
    """One BPMN model run by SpiffWorkflow 3.2.0 directly."""

    def __init__(self, bpmn: Path | bytes, process_id: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated-extension warnings are not ours
            parser = SpiffBpmnParser()
            if isinstance(bpmn, bytes):
                parser.add_bpmn_str(bpmn, filename=f"{process_id}.bpmn")
            else:
                parser.add_bpmn_file(str(bpmn))
            self.spec = parser.get_spec(process_id)
            self.subprocess_specs = parser.get_subprocess_specs(process_id)
        self.default = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _spec_ref_converter({self.spec.name: self.spec})
        self.spec_ref = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))

    def new_workflow(self, data: dict[str, Any]) -> BpmnWorkflow:
        """Create an instance seeded with `data` and run it to its first wait."""
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.task_tree.data.update(data)
        workflow.do_engine_steps()
        return workflow

    def start(self, data: dict[str, Any], serializer: BpmnWorkflowSerializer) -> str:
        """A new instance, saved."""
        return str(serializer.serialize_json(self.new_workflow(data)))

    def step(
        self, blob: str, element_id: str | None, data: dict[str, Any],
        serializer: BpmnWorkflowSerializer,
    ) -> str:
        """Load, complete the ready user task `element_id` (None: the first one), save."""
        workflow = serializer.deserialize_json(blob)
        complete_ready(workflow, element_id, data)
        return str(serializer.serialize_json(workflow))


def complete_ready(workflow: BpmnWorkflow, element_id: str | None, data: dict[str, Any]) -> None:
    """List the ready user tasks, complete one with `data`, run the engine on."""
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    task = next((t for t in ready if element_id is None or _element(t) == element_id), None)
    if task is None:
        raise RuntimeError(f"raw: {element_id} is not ready")
    task.set_data(**data)
    task.run()
    workflow.do_engine_steps()


def _element(task: Any) -> str:
    spec = task.task_spec
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def timed_steps(
    raw: RawSpiff, steps: list[tuple[str | None, dict[str, Any]]],
    serializer: BpmnWorkflowSerializer, clock: Callable[[], float],
    start_data: dict[str, Any] | None = None,
) -> tuple[list[float], str]:
    """One stateless instance: the duration of each step and the final saved state."""
    blob, durations = raw.start(dict(start_data or {}), serializer), []
    for element_id, data in steps:
        started = clock()
        blob = raw.step(blob, element_id, data, serializer)
        durations.append(clock() - started)
    return durations, blob
