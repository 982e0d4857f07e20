"""Link events: a throw/catch pair of the same link name stands for a sequence flow."""

from __future__ import annotations

from .support import compile_bytes, complete, line_of, problems_of, ready_steps, start

STEP = ('<bpmn:userTask id="{id}" name="{id}"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/>'
        "</camunda:properties></bpmn:extensionElements></bpmn:userTask>")


def model(*body: str) -> bytes:
    """A process with steps a and b, and `body` (events and flows) between them."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://x">
  <bpmn:process id="izin-link" name="Izin" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="front-office" name="Loket">
      <bpmn:flowNodeRef>a</bpmn:flowNodeRef><bpmn:flowNodeRef>b</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    {STEP.format(id="a")}
    {STEP.format(id="b")}
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="a"/>
    <bpmn:sequenceFlow id="f_end" sourceRef="b" targetRef="end"/>
{chr(10).join("    " + line for line in body)}
  </bpmn:process>
</bpmn:definitions>""".encode()


def throw(event_id: str, link: str) -> str:
    return (f'<bpmn:intermediateThrowEvent id="{event_id}"><bpmn:linkEventDefinition '
            f'id="{event_id}_def" name="{link}"/></bpmn:intermediateThrowEvent>')


def catch(event_id: str, link: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="{event_id}"><bpmn:linkEventDefinition '
            f'id="{event_id}_def" name="{link}"/></bpmn:intermediateCatchEvent>')


PAIR = (throw("to_b", "ke B"), catch("from_a", "ke B"),
        '<bpmn:sequenceFlow id="f1" sourceRef="a" targetRef="to_b"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="from_a" targetRef="b"/>')


def test_a_link_pair_runs_as_a_flow() -> None:
    compiled = compile_bytes(model(*PAIR), forms={})
    assert [s.element_id for s in compiled.steps] == ["a", "b"]  # in walk order
    workflow = start(compiled)
    complete(workflow, "a")
    assert ready_steps(workflow) == ["b"]
    complete(workflow, "b")
    assert workflow.is_completed()


def test_two_throws_may_share_one_catch() -> None:
    bpmn = model(
        '<bpmn:exclusiveGateway id="gw" default="f_other"/>',
        '<bpmn:sequenceFlow id="f1" sourceRef="a" targetRef="gw"/>',
        '<bpmn:sequenceFlow id="f_fast" sourceRef="gw" targetRef="fast">'
        "<bpmn:conditionExpression>fast == True</bpmn:conditionExpression></bpmn:sequenceFlow>",
        '<bpmn:sequenceFlow id="f_other" sourceRef="gw" targetRef="slow"/>',
        throw("fast", "ke B"), throw("slow", "ke B"), catch("from_a", "ke B"),
        '<bpmn:sequenceFlow id="f2" sourceRef="from_a" targetRef="b"/>',
    )
    for fast in (True, False):
        workflow = start(compile_bytes(bpmn, forms={}))
        complete(workflow, "a", fast=fast)
        assert ready_steps(workflow) == ["b"]


def test_links_that_cannot_pair_are_named_at_their_lines() -> None:
    bpmn = model(
        throw("to_b", "ke B"), catch("from_a", "ke C"), catch("again", "ke C"),
        '<bpmn:sequenceFlow id="f1" sourceRef="a" targetRef="to_b"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="from_a" targetRef="b"/>',
        '<bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="b"/>',
    )
    problems = {(p.element_id, p.line): p.message for p in problems_of(bpmn, forms={})}
    assert not any("dangling" in m for m in problems.values())  # said once, as a link
    assert "no link catch event of that name" in problems[("to_b", line_of(bpmn, 'id="to_b"'))]
    assert "one catch event per link name" in problems[("again", line_of(bpmn, 'id="again"'))]


def test_a_link_event_with_flows_where_none_may_be_is_refused() -> None:
    bpmn = model(
        *PAIR,
        '<bpmn:sequenceFlow id="f_out" sourceRef="to_b" targetRef="b"/>',
        '<bpmn:sequenceFlow id="f_in" sourceRef="a" targetRef="from_a"/>',
    )
    messages = [p.message for p in problems_of(bpmn, forms={})]
    assert any("link throw event: no flow may leave it" in m for m in messages)
    assert any("link catch event: no flow may lead to it" in m for m in messages)


def test_a_link_without_a_name_is_refused() -> None:
    bpmn = model(*PAIR).replace(b'name="ke B"', b'name=""')
    messages = [p.message for p in problems_of(bpmn, forms={})]
    assert any("without a link name" in m for m in messages)
