"""How a call activity element's variable mappings are read (`call_activities.mappings_of`)."""

from __future__ import annotations

from lxml import etree

from engine.workflow.call_activities import ALL, CallMapping, binding_of, called_key, mappings_of

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
      'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"')


def call(inner: str = "", attrs: str = 'calledElement="bayar"') -> etree._Element:
    return etree.fromstring(
        f"<bpmn:callActivity {NS} id=\"c\" {attrs}><bpmn:extensionElements>{inner}"
        "</bpmn:extensionElements></bpmn:callActivity>"
    )


def test_without_mappings_every_variable_goes_both_ways() -> None:
    assert mappings_of(call()) == (ALL, ALL, [])


def test_camunda_mappings_narrow_and_variables_all_widens() -> None:
    inputs, outputs, problems = mappings_of(call(
        '<camunda:in source="a" target="b" /><camunda:in businessKey="#{k}" />'
        '<camunda:out variables="all" /><camunda:out source="r" target="s" />'
    ))
    assert problems == []
    assert inputs == CallMapping(False, (("a", "b"),))
    assert outputs == CallMapping(True, (("r", "s"),))


def test_a_source_expression_or_a_half_mapping_is_a_problem() -> None:
    _, _, problems = mappings_of(call(
        '<camunda:in sourceExpression="${a}" target="b" /><camunda:out source="r" />'
    ))
    assert len(problems) == 2 and "sourceExpression" in problems[0]


def test_zeebe_inputs_add_to_all_and_outputs_replace_all() -> None:
    node = call(
        '<zeebe:calledElement processId="bayar" propagateAllChildVariables="true" />'
        '<zeebe:ioMapping><zeebe:input source="=a" target="b" />'
        '<zeebe:output source="= r" target="s" /></zeebe:ioMapping>',
        attrs="",
    )
    assert called_key(node) == "bayar" and binding_of(node) == ("latest", None)
    assert mappings_of(node) == (
        CallMapping(True, (("a", "b"),)), CallMapping(False, (("r", "s"),)), []
    )
    silent = call('<zeebe:calledElement processId="bayar" propagateAllChildVariables="false" />',
                  attrs="")
    assert mappings_of(silent)[1] == CallMapping(False)
    feel = call('<zeebe:ioMapping><zeebe:input source="=a + 1" target="b" /></zeebe:ioMapping>')
    assert "plain variable" in mappings_of(feel)[2][0]
