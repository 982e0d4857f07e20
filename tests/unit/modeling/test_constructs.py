"""Structure and constructs: process choice, ids, gateways, splits, unsupported elements."""

from __future__ import annotations

import itertools

import pytest

from engine.modeling.structure import MAX_FLOW_NODES

from .support import BAD, compile_bytes, line_of, located, minimal, problems_of

TASK_B = (
    '<bpmn:userTask id="task_b"><bpmn:extensionElements><camunda:properties>'
    '<camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/>'
    "</camunda:properties></bpmn:extensionElements></bpmn:userTask>"
)
END = '<bpmn:endEvent id="end" />'


def _after_task(xml: str, node_id: str = "x") -> bytes:
    """minimal.bpmn with `xml` (holding node `node_id`) between task_a and the end event."""
    return minimal((END, xml + END), ('targetRef="end"', f'targetRef="{node_id}"'),
                   ("</bpmn:process>", f'<bpmn:sequenceFlow id="fx" sourceRef="{node_id}" '
                                       'targetRef="end"/></bpmn:process>'))


def test_reserved_ids_are_refused_by_name():
    data = (BAD / "reserved_id.bpmn").read_bytes()
    problems = problems_of(data)
    assert located(problems) == {("Start", line_of(data, 'id="Start"')),
                                 ("End", line_of(data, 'id="End"'))}
    assert all("is reserved by the workflow engine" in p.message for p in problems)


def test_process_end_join_id_is_reserved():
    data = minimal(('id="task_a"', 'id="izin-minimal.EndJoin"'),
                   (">task_a<", ">izin-minimal.EndJoin<"), ('"task_a"', '"izin-minimal.EndJoin"'))
    [problem] = problems_of(data)
    assert problem.element_id == "izin-minimal.EndJoin"


def test_implicit_split_suggests_a_gateway():
    data = (BAD / "implicit_split.bpmn").read_bytes()
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line) == ("task_a", line_of(data, 'id="task_a"'))
    assert "parallel gateway" in problem.message


def test_gateway_flow_without_condition_and_untranslatable_juel():
    data = (BAD / "gateway_conditions.bpmn").read_bytes()
    problems = problems_of(data)
    assert located(problems) == {
        ("f_no_condition", line_of(data, 'id="f_no_condition"')),
        ("f_complex_juel", line_of(data, "${amount gt 100")),
    }
    assert any("conditions are Python expressions" in p.message for p in problems)


def test_condition_on_a_flow_that_leaves_a_task_is_refused():
    data = minimal(('<bpmn:sequenceFlow id="flow_2" sourceRef="task_a" targetRef="end" />',
                    '<bpmn:sequenceFlow id="flow_2" sourceRef="task_a" targetRef="end">'
                    "<bpmn:conditionExpression>ok</bpmn:conditionExpression>"
                    "</bpmn:sequenceFlow>"))
    [problem] = problems_of(data)
    assert problem.element_id == "flow_2"
    assert "only evaluated on flows leaving an exclusive or inclusive gateway" in problem.message


def test_gateway_default_must_be_one_of_its_flows():
    data = _after_task('<bpmn:exclusiveGateway id="x" default="flow_1"/>')
    [problem] = problems_of(data)
    assert (problem.element_id, problem.field) == ("x", "default")


def test_title_falls_back_to_the_pool_name_and_is_required():
    collaboration = ('<bpmn:collaboration id="c"><bpmn:participant id="p" name="Izin Pool" '
                     'processRef="izin-minimal"/></bpmn:collaboration><bpmn:process')
    data = minimal((' name="Izin Minimal"', ""), ("<bpmn:process", collaboration))
    assert compile_bytes(data).title == "Izin Pool"
    [problem] = problems_of(minimal((' name="Izin Minimal"', "")))
    assert (problem.element_id, problem.field) == ("izin-minimal", "name")


@pytest.mark.parametrize("key", ["1izin", "izin minimal", "x" * 65, "izin.minimal"])
def test_process_id_must_look_like_a_key(key):
    problems = problems_of(minimal(('id="izin-minimal"', f'id="{key}"')))
    assert any(p.field == "id" and "model key" in p.message for p in problems)


def test_collaboration_with_an_empty_second_pool_and_missing_executable_flag():
    data = minimal((' isExecutable="true"', ""), ("</bpmn:definitions>",
                   '<bpmn:process id="applicant_pool" isExecutable="false"/></bpmn:definitions>'))
    model = compile_bytes(data)
    assert model.key == "izin-minimal"


def test_single_non_executable_process_with_nodes_is_taken():
    assert compile_bytes(minimal(('isExecutable="true"', 'isExecutable="false"'))).key


def test_two_runnable_processes_are_refused():
    second = ('<bpmn:process id="other" isExecutable="true"><bpmn:startEvent id="s2"/>'
              "</bpmn:process></bpmn:definitions>")
    problems = problems_of(minimal(("</bpmn:definitions>", second)))
    assert any("2 runnable processes" in p.message for p in problems)


def test_file_without_process():
    data = minimal()
    data = data[: data.index(b"<bpmn:process")] + b"</bpmn:definitions>\n"
    [problem] = problems_of(data)
    assert "no bpmn:process" in problem.message


def test_model_size_is_bounded():
    nodes = "".join(f'<bpmn:task id="t{n}"/>' for n in range(MAX_FLOW_NODES))
    [problem] = problems_of(minimal((END, END + nodes)))
    assert f"the limit is {MAX_FLOW_NODES}" in problem.message


def test_very_long_chains_are_refused_before_spiffworkflow_recurses():
    tasks = "".join(TASK_B.replace("task_b", f"t{n}") for n in range(320))
    nodes = ["task_a", *(f"t{n}" for n in range(320)), "end"]
    flows = "".join(f'<bpmn:sequenceFlow id="c{n}" sourceRef="{a}" targetRef="{b}"/>'
                    for n, (a, b) in enumerate(itertools.pairwise(nodes)))
    refs = "".join(f"<bpmn:flowNodeRef>t{n}</bpmn:flowNodeRef>" for n in range(320))
    data = minimal(('<bpmn:sequenceFlow id="flow_2" sourceRef="task_a" targetRef="end" />',
                    flows), (END, END + tasks),
                   ("<bpmn:flowNodeRef>task_a</bpmn:flowNodeRef>",
                    "<bpmn:flowNodeRef>task_a</bpmn:flowNodeRef>" + refs))
    [problem] = problems_of(data)
    assert "split it into sub-processes" in problem.message


@pytest.mark.parametrize(("xml", "message"), [
    ('<bpmn:callActivity id="x"/>', "names no model to call"),
    ('<bpmn:callActivity id="x" calledElement="${which}"/>', "an expression"),
    ('<bpmn:callActivity id="x" calledElement="other" camunda:calledElementBinding="version"/>',
     "calledElementVersion"),
    ('<bpmn:callActivity id="x" calledElement="other" camunda:calledElementBinding="tag"/>',
     "write latest, version"),
    ('<bpmn:subProcess id="x"/>', "is empty"),
    ('<bpmn:complexGateway id="x"/>', "complex gateways are not supported"),
    ('<bpmn:subProcess id="x"><bpmn:endEvent id="se"/></bpmn:subProcess>', "0 start events"),
])
def test_unsupported_constructs_are_named(xml, message):
    problems = problems_of(_after_task(xml))
    assert any(p.element_id == "x" and message in p.message for p in problems), problems


def test_data_store_association_is_refused_but_a_drawn_store_is_fine():
    store = '<bpmn:dataStoreReference id="archive" name="Arsip"/>'
    assert compile_bytes(minimal((END, END + store)))
    association = ('</bpmn:extensionElements><bpmn:dataOutputAssociation id="doa">'
                   "<bpmn:targetRef>archive</bpmn:targetRef></bpmn:dataOutputAssociation>")
    data = minimal((END, END + store), ("</bpmn:extensionElements>", association))
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line) == ("task_a", line_of(data, "<bpmn:targetRef>"))


def test_boundary_event_checks():
    no_trigger = ('<bpmn:boundaryEvent id="b" attachedToRef="task_a"/><bpmn:endEvent id="e2"/>'
                  '<bpmn:sequenceFlow id="fb" sourceRef="b" targetRef="e2"/>' + END)
    [problem] = problems_of(minimal((END, no_trigger)))
    assert (problem.element_id, "no trigger") == ("b", "no trigger")
    misplaced = no_trigger.replace('attachedToRef="task_a"/>', 'attachedToRef="end">'
                                   "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H"
                                   "</bpmn:timeDuration></bpmn:timerEventDefinition>"
                                   "</bpmn:boundaryEvent>")
    [problem] = problems_of(minimal((END, misplaced)))
    assert problem.field == "attachedToRef"


def test_missing_message_reference_is_named_not_a_type_error():
    data = minimal((END, '<bpmn:endEvent id="end"><bpmn:messageEventDefinition '
                         'messageRef="nomsg"/></bpmn:endEvent>'))
    found = problems_of(data)  # and, a message end event, that permitflow sends no messages
    assert ("end", "messageRef") in [(p.element_id, p.field) for p in found], found


def test_schema_violations_are_reported_with_lines():
    data = minimal(('isExecutable="true"', 'isExecutable="ya"'))
    [problem] = problems_of(data)
    assert problem.line == line_of(data, 'isExecutable="ya"')
    assert "BPMN 2.0 schema" in problem.message and "bpmn:process" in problem.message


def test_malformed_ids_are_refused():
    data = minimal(('<bpmn:endEvent id="end" />', '<bpmn:endEvent id="9end" />'),
                   ('targetRef="end"', 'targetRef="9end"'))
    [problem] = problems_of(data)
    assert problem.element_id == "9end" and "not a valid XML id" in problem.message


def test_flow_to_an_element_that_is_not_a_flow_node():
    data = minimal(('targetRef="end"', 'targetRef="LaneSet_1"'))
    problems = problems_of(data)
    assert any("is not a task, event or gateway" in p.message for p in problems)


@pytest.mark.parametrize(("xml", "message"), [
    ('<bpmn:serviceTask id="x"/>', "names no topic for an external worker"),
    ('<bpmn:businessRuleTask id="x"/>', "businessRuleTask 'x' calls a DMN decision table"),
])
def test_spiffworkflow_errors_become_located_problems(xml, message):
    data = _after_task(xml)
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line) == ("x", line_of(data, 'id="x"'))
    assert message in problem.message


def test_multi_instance_without_cardinality_is_translated():
    data = minimal(("</bpmn:userTask>", "<bpmn:multiInstanceLoopCharacteristics/>"
                                        "</bpmn:userTask>"))
    [problem] = problems_of(data)
    assert problem.element_id == "task_a" and "cardinality" in problem.message


def test_multi_instance_expressions_are_checked():
    data = minimal(("</bpmn:userTask>", "<bpmn:multiInstanceLoopCharacteristics>"
                    "<bpmn:loopCardinality>().__class__</bpmn:loopCardinality>"
                    "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"))
    [problem] = problems_of(data)
    assert problem.element_id == "task_a" and "loop cardinality" in problem.message


def test_nested_lanes_and_sub_process_steps_take_the_innermost_lane():
    sub = ('<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/>' + TASK_B +
           '<bpmn:endEvent id="se"/><bpmn:sequenceFlow id="s1" sourceRef="ss" targetRef="task_b"/>'
           '<bpmn:sequenceFlow id="s2" sourceRef="task_b" targetRef="se"/></bpmn:subProcess>')
    lanes = ('<bpmn:lane id="Office" name="o"><bpmn:flowNodeRef>task_a</bpmn:flowNodeRef>'
             '<bpmn:flowNodeRef>sub</bpmn:flowNodeRef><bpmn:childLaneSet id="cls">'
             '<bpmn:lane id="Front-Office" name="front-office">'
             "<bpmn:flowNodeRef>task_a</bpmn:flowNodeRef></bpmn:lane></bpmn:childLaneSet>"
             "</bpmn:lane>")
    data = _after_task(sub, "sub")
    data = data.replace(b'<bpmn:lane id="front-office" name="front-office">\n'
                        b"        <bpmn:flowNodeRef>task_a</bpmn:flowNodeRef>\n"
                        b"      </bpmn:lane>", lanes.encode())
    model = compile_bytes(data)
    assert [(s.element_id, s.role) for s in model.steps] == [
        ("task_a", "front-office"), ("task_b", "office")]


def test_unreachable_nodes_are_reported():
    loop = (TASK_B.replace("task_b", "orphan") + '<bpmn:sequenceFlow id="o1" sourceRef="orphan" '
            'targetRef="orphan"/>')
    data = minimal((END, loop + END), ("<bpmn:flowNodeRef>task_a</bpmn:flowNodeRef>",
                   "<bpmn:flowNodeRef>task_a</bpmn:flowNodeRef>"
                   "<bpmn:flowNodeRef>orphan</bpmn:flowNodeRef>"))
    [problem] = problems_of(data)
    assert problem.element_id == "orphan"
    assert "cannot be reached from the start event" in problem.message


def test_event_sub_process_is_not_unreachable():
    sub = ('<bpmn:subProcess id="on_error" triggeredByEvent="true"><bpmn:startEvent id="es">'
           "<bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration>"
           '</bpmn:timerEventDefinition></bpmn:startEvent><bpmn:endEvent id="ee"/>'
           '<bpmn:sequenceFlow id="e1" sourceRef="es" targetRef="ee"/></bpmn:subProcess>')
    model = compile_bytes(minimal((END, END + sub)))
    assert [t.element_id for t in model.timers] == ["es"]


@pytest.mark.parametrize(("error", "message"), [
    (TypeError("got an unexpected keyword argument 'node'"), "TypeError: got an unexpected"),
    (KeyError("value"), "KeyError: 'value'"),
    (RecursionError("maximum recursion depth exceeded"), "too long or too deeply nested"),
])
def test_any_spiffworkflow_exception_becomes_a_problem(monkeypatch, error, message):
    class Exploding:
        def add_bpmn_xml(self, tree, filename=None):
            raise error

    monkeypatch.setattr("engine.workflow.specs._Parser", Exploding)
    [problem] = problems_of(minimal())
    assert message in problem.message and problem.file == "model.bpmn"


@pytest.mark.parametrize(("xml", "message"), [
    ('<bpmn:adHocSubProcess id="x"><bpmn:startEvent id="s"/></bpmn:adHocSubProcess>',
     "ad-hoc sub-processes are not supported"),
    ('<bpmn:intermediateThrowEvent id="x"><bpmn:messageEventDefinition/>'
     "</bpmn:intermediateThrowEvent>", "permitflow sends no messages itself"),
    ('<bpmn:sendTask id="x"/>', "names no topic for an external worker"),
    ('<bpmn:manualTask id="x"><bpmn:extensionElements><camunda:inputOutput>'
     '<camunda:inputParameter name="a">1</camunda:inputParameter></camunda:inputOutput>'
     "</bpmn:extensionElements></bpmn:manualTask>", "does not apply"),
    ('<bpmn:manualTask id="x"><bpmn:extensionElements><camunda:executionListener '
     'class="a.B" event="start"/></bpmn:extensionElements></bpmn:manualTask>',
     "code that permitflow does not run"),
])
def test_constructs_that_would_not_run_as_drawn_are_refused(xml, message):
    problems = problems_of(_after_task(xml))
    assert any(p.element_id == "x" and message in p.message for p in problems), problems


def test_a_timer_start_is_refused_on_the_process_and_located():
    timer = ("<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
             "</bpmn:timerEventDefinition>")
    data = minimal(('<bpmn:startEvent id="start" />',
                    f'<bpmn:startEvent id="start">{timer}</bpmn:startEvent>'))
    found = [(p.element_id, p.message) for p in problems_of(data)]
    assert any(e == "start" and "starts the process by a timer" in m for e, m in found), found
