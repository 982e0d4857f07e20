"""Issue #11 cause 14: files from other modelling tools are refused only for real problems.

Over the BPMN MIWG test suite, refusals stated false problems: ids of vendor extension
elements checked as BPMN ids ("invalid id", "used twice"), triggers given by
`eventDefinitionRef` reported as missing, compensation boundary events reported as
dangling, and non-executable pools counted as runnable processes. These models are drawn
in those tools' style (not copied from the suite).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.domain.definitions import ModelPackage
from engine.modeling.compiler import compile_model
from engine.workflow.runtime import WorkflowRuntime
from tests.factories import tiny_bpmn
from tests.unit.modeling.support import problems_of

ADONIS = "http://www.boc-group.com/adonis"


def _with(old: bytes, new: bytes, bpmn: bytes | None = None) -> bytes:
    bpmn = bpmn if bpmn is not None else tiny_bpmn(steps=1)
    assert old in bpmn, old
    return bpmn.replace(old, new, 1)


def test_ids_of_vendor_extension_elements_are_not_bpmn_ids() -> None:
    # ADONIS repeats its own instance ids and starts them with digits; Signavio likewise.
    extension = (
        b'<bpmn:extensionElements><adonis:instance id="1-obj.77" class="Task">'
        b'<adonis:attribute id="1-obj.77" name="Name"/></adonis:instance>'
    )
    bpmn = _with(b'<bpmn:userTask id="step_1" name="Langkah 1"><bpmn:extensionElements>',
                 b'<bpmn:userTask id="step_1" name="Langkah 1">' + extension)
    bpmn = _with(b'xmlns:camunda=', f'xmlns:adonis="{ADONIS}" xmlns:camunda='.encode(), bpmn)
    model = compile_model(ModelPackage(bpmn=bpmn))
    assert [s.element_id for s in model.steps] == ["step_1"]


def test_a_bpmn_id_used_twice_is_still_refused() -> None:
    bpmn = _with(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end"/><bpmn:task id="end"/>')
    assert any("used twice" in p.message for p in problems_of(bpmn, forms={}))


ESCALATION = (
    b'<bpmn:boundaryEvent id="too_slow" attachedToRef="step_1">'
    b"<bpmn:eventDefinitionRef>four_hours</bpmn:eventDefinitionRef></bpmn:boundaryEvent>"
    b'<bpmn:endEvent id="escalated"/>'
    b'<bpmn:sequenceFlow id="f_esc" sourceRef="too_slow" targetRef="escalated"/>'
)
ROOT_TIMER = (
    b'<bpmn:timerEventDefinition id="four_hours">'
    b'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT4H</bpmn:timeDuration>'
    b"</bpmn:timerEventDefinition>"
)


def _referenced_timer(definition: bytes = ROOT_TIMER) -> bytes:
    # iGrafx and MID Innovator declare event definitions once, beside the processes.
    bpmn = _with(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end"/>' + ESCALATION)
    bpmn = _with(b'<bpmn:process id=', definition + b'<bpmn:process id=', bpmn)
    xsi = b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda='
    return _with(b"xmlns:camunda=", xsi, bpmn)


def test_a_trigger_given_by_event_definition_ref_is_read_and_fires() -> None:
    model = compile_model(ModelPackage(bpmn=_referenced_timer()))
    assert [(t.element_id, t.kind) for t in model.timers] == [("too_slow", "duration")]
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("ref", model.spec)
    now = datetime(2027, 1, 4, 2, tzinfo=UTC)
    started = runtime.start(loaded, {}, now)
    assert [t.element_id for t in started.timers] == ["too_slow"]
    later = runtime.advance(loaded, started.state, now + timedelta(hours=4, minutes=1))
    assert later.completed and later.error is None  # the escalation path ran to its end


def test_an_event_definition_ref_to_nothing_is_refused_where_it_stands() -> None:
    bpmn = _referenced_timer(definition=b"")
    problems = [p for p in problems_of(bpmn, forms={}) if "eventDefinitionRef" in p.message]
    assert [(p.element_id, "four_hours" in p.message) for p in problems] == [("too_slow", True)]


COMPENSATION = (
    b'<bpmn:boundaryEvent id="undo_hook" attachedToRef="step_1">'
    b"<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"
    b'<bpmn:task id="undo" isForCompensation="true"/>'
    b'<bpmn:association id="as_undo" associationDirection="One" sourceRef="undo_hook" '
    b'targetRef="undo"/>'
)


def test_a_compensation_boundary_event_is_not_dangling_but_refused_as_unsupported() -> None:
    bpmn = _with(b'<bpmn:endEvent id="end"/>', b'<bpmn:endEvent id="end"/>' + COMPENSATION)
    messages = [(p.element_id, p.message) for p in problems_of(bpmn, forms={})]
    assert not any("dangling" in m for _, m in messages), messages
    assert [e for e, m in messages if "compensation is not supported" in m] == ["undo_hook"]


PARTNER_POOL = (
    b'<bpmn:process id="applicant_side" name="Pemohon" isExecutable="false">'
    b'<bpmn:startEvent id="p_start"/><bpmn:task id="p_send"/><bpmn:endEvent id="p_end"/>'
    b'<bpmn:sequenceFlow id="p1" sourceRef="p_start" targetRef="p_send"/>'
    b'<bpmn:sequenceFlow id="p2" sourceRef="p_send" targetRef="p_end"/></bpmn:process>'
)
COLLABORATION = (
    b'<bpmn:collaboration id="collab"><bpmn:participant id="pool_office" processRef="tiny"/>'
    b'<bpmn:participant id="pool_applicant" processRef="applicant_side"/></bpmn:collaboration>'
)


def test_a_non_executable_pool_beside_the_procedure_is_not_counted_as_runnable() -> None:
    # Signavio and ADONIS mark documentation pools isExecutable="false" and leave the
    # flag off (or false) on the procedure itself.
    bpmn = tiny_bpmn(steps=1).replace(b' isExecutable="true"', b"")
    bpmn = _with(b'<bpmn:process id="tiny"', COLLABORATION + PARTNER_POOL
                 + b'<bpmn:process id="tiny"', bpmn)
    assert compile_model(ModelPackage(bpmn=bpmn)).key == "tiny"


def test_when_every_pool_is_non_executable_the_refusal_says_so() -> None:
    bpmn = tiny_bpmn(steps=1).replace(b'isExecutable="true"', b'isExecutable="false"')
    bpmn = _with(b'<bpmn:process id="tiny"', COLLABORATION + PARTNER_POOL
                 + b'<bpmn:process id="tiny"', bpmn)
    (problem,) = problems_of(bpmn, forms={})
    assert "none of the 2 processes with tasks" in problem.message
    assert "runnable" not in problem.message
