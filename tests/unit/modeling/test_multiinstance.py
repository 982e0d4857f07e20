"""Multi-instance over a collection as Camunda 7 and Camunda 8 (Zeebe) Modeler draw it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.serialization import WorkflowCodec
from tests.factories import tiny_bpmn

from .support import compile_bytes, line_of, minimal, problems_of

ZEEBE_NS = 'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda='
TASK_END = "</bpmn:extensionElements>\n    </bpmn:userTask>"


def fanned(loop: str) -> bytes:
    """minimal.bpmn with `loop` as task_a's multi-instance characteristics."""
    return minimal(('xmlns:camunda=', ZEEBE_NS),
                   (TASK_END, f"</bpmn:extensionElements>\n      {loop}\n    </bpmn:userTask>"))


def started(bpmn: bytes, **data: object) -> BpmnWorkflow:
    workflow = BpmnWorkflow(*WorkflowCodec().spec_from_dict(compile_bytes(bpmn).spec))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    workflow.do_engine_steps()
    return workflow


def instances(workflow: BpmnWorkflow) -> list:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


CAMUNDA_7 = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${documents}" '
             'camunda:elementVariable="document" />')
CAMUNDA_8 = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>'
             '<zeebe:loopCharacteristics inputCollection="=documents" inputElement="document" '
             'outputCollection="verdicts" outputElement="=verdict" />'
             '</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>')


@pytest.mark.parametrize("loop", [CAMUNDA_7, CAMUNDA_8], ids=["camunda7", "camunda8"])
def test_one_instance_per_element_each_with_its_element(loop: str) -> None:
    workflow = started(fanned(loop), documents=["KTP", "NPWP", "sertifikat"])
    ready = instances(workflow)
    assert [t.data["document"] for t in ready] == ["KTP", "NPWP", "sertifikat"]
    for task in ready:
        task.data["verdict"] = f"{task.data['document']} ok"
        task.run()
    workflow.do_engine_steps()
    assert workflow.is_completed()
    if loop is CAMUNDA_8:  # the output collection gathers each instance's outputElement
        assert workflow.data["verdicts"] == ["KTP ok", "NPWP ok", "sertifikat ok"]


def test_a_camunda_7_collection_may_be_a_bare_name_and_the_variable_defaults_to_item() -> None:
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="documents" />'
    workflow = started(fanned(loop), documents=["KTP"])
    assert [t.data["item"] for t in instances(workflow)] == ["KTP"]


@pytest.mark.parametrize(("loop", "field", "says"), [
    ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${applicant.documents}" '
     'camunda:elementVariable="document" />', "camunda:collection", "not an expression"),
    ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${documents}" '
     'camunda:elementVariable="task_a" />', "camunda:elementVariable", "id of an element"),
    ('<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>'
     '<zeebe:loopCharacteristics inputCollection="=count(documents)" inputElement="d" />'
     '</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>',
     "zeebe inputCollection", "not an expression"),
    ('<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>'
     '<zeebe:loopCharacteristics inputCollection="=documents" inputElement="d" '
     'outputCollection="out" outputElement="={ok: verdict}" />'
     '</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>',
     "zeebe outputElement", "not an expression"),
])
def test_a_collection_that_is_not_a_plain_name_is_refused_where_it_is_written(
    loop: str, field: str, says: str
) -> None:
    bpmn = fanned(loop)
    [problem] = problems_of(bpmn)
    assert (problem.element_id, problem.field) == ("task_a", field)
    assert problem.line == line_of(bpmn, "multiInstanceLoopCharacteristics")
    assert says in problem.message


def test_a_collection_and_a_cardinality_together_are_refused() -> None:
    loop = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${documents}">'
            "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics>")
    [problem] = problems_of(fanned(loop))
    assert problem.element_id == "task_a" and "twice" in problem.message


def test_the_element_variable_stays_in_its_instance_so_the_next_fan_out_can_reuse_it() -> None:
    # Camunda's scope: `document` is local to each instance. SpiffWorkflow 3.2.0 would merge
    # it into the process and refuse the second step ("input item already exists").
    loop = CAMUNDA_8.replace("verdicts", "hasil")
    bpmn = tiny_bpmn(key="dua", steps=2).replace(
        b"</camunda:properties></bpmn:extensionElements></bpmn:userTask>",
        b"</camunda:properties></bpmn:extensionElements>" + loop.encode() + b"</bpmn:userTask>",
    ).replace(b'xmlns:camunda=', ZEEBE_NS.encode())
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("dua", compile_bytes(bpmn, forms={}).spec)
    now = datetime.now(UTC)
    outcome = runtime.start(loaded, {"documents": ["KTP", "NPWP"]}, now)
    for step in ("step_1", "step_2"):
        ready = [s for s in outcome.steps if s.state == "ready"]
        assert [(s.element_id, s.item) for s in ready] == [
            (step, {"document": "KTP"}), (step, {"document": "NPWP"})]
        for s in ready:
            outcome = runtime.complete(loaded, outcome.state, s.task_id,
                                       {"verdict": f"{step} ok"}, now)
        assert outcome.error is None
    assert outcome.completed
    # The output collection is built anew each time: the second step's replaced the first's.
    assert outcome.state["data"]["hasil"] == ["step_2 ok", "step_2 ok"]
    assert "document" not in outcome.state["data"]
