"""Helpers for the model-upload tests: fixtures, lines, and running a compiled spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.domain.definitions import CompiledModel, ModelPackage
from engine.domain.errors import ModelInvalidError
from engine.domain.problems import Problem
from engine.modeling import compile_model
from engine.workflow.serialization import WorkflowCodec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn"
BAD = FIXTURES / "bad"
APPLICATION_FORM = (FIXTURES / "camunda-pbg" / "forms" / "application.json").read_bytes()
FORMS = {"application.json": APPLICATION_FORM}


def fixture(name: str) -> bytes:
    """The bytes of a fixture file under tests/fixtures/bpmn/."""
    return (FIXTURES / name).read_bytes()


def line_of(data: bytes | str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not found {occurrence} times"
    return hits[occurrence - 1]


def minimal(*replacements: tuple[str, str]) -> bytes:
    """minimal.bpmn with each (old, new) replaced; each `old` must occur."""
    text = fixture("minimal.bpmn").decode()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def compile_bytes(bpmn: bytes, forms: dict[str, bytes] | None = None) -> CompiledModel:
    """Compile one BPMN file with the minimal fixture's form."""
    return compile_model(ModelPackage(bpmn=bpmn, forms=FORMS if forms is None else forms))


def problems_of(
    bpmn: bytes, forms: dict[str, bytes] | None = None, standard: bytes | None = None
) -> list[Problem]:
    """The problems `compile_model` reports; fails the test if it accepts the package."""
    package = ModelPackage(bpmn=bpmn, forms=FORMS if forms is None else forms,
                           standard=standard)
    with pytest.raises(ModelInvalidError) as caught:
        compile_model(package)
    assert caught.value.problems, "a rejection must list its problems"
    return caught.value.problems


def located(problems: list[Problem]) -> set[tuple[str | None, int | None]]:
    """(element id, line) of every problem."""
    return {(p.element_id, p.line) for p in problems}


def start(model: CompiledModel) -> BpmnWorkflow:
    """A new workflow from the compiled spec (as stored), run to its first wait."""
    workflow = BpmnWorkflow(*WorkflowCodec().spec_from_dict(model.spec))
    workflow.do_engine_steps()
    return workflow


def ready_steps(workflow: BpmnWorkflow) -> list[str]:
    """Element ids of the READY manual tasks, in SpiffWorkflow's order."""
    return [t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY, manual=True)]


def complete(workflow: BpmnWorkflow, element_id: str, **data: object) -> None:
    """Complete the READY task `element_id` with `data` and run the engine on."""
    task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                if t.task_spec.name == element_id)
    task.data.update(data)
    task.run()
    workflow.do_engine_steps()
