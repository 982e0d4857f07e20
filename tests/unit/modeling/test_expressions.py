"""Conditions and scripts: JUEL and FEEL translation, sandbox check, absolute line numbers."""

from __future__ import annotations

import pytest

from engine.modeling.feel import feel_to_python
from engine.modeling.juel import juel_to_python

from .support import compile_bytes, complete, line_of, minimal, problems_of, ready_steps, start

END = '<bpmn:endEvent id="end" />'


@pytest.mark.parametrize(("juel", "python"), [
    ("${approved}", "approved"),
    ("${ approved }", "approved"),
    ("${amount > 100 && ok}", "amount > 100 and ok"),
    ("${a || !b}", "a or not b"),
    ("${x != null}", "x != None"),
    ("${done == true}", "done == True"),
    ("${status == 'a && b'}", "status == 'a && b'"),
    ('${note != "!"}', 'note != "!"'),
    # Deferred evaluation: Camunda 7 reads it as ${...} in a condition (its own example
    # job-announcement process writes #{approved}; found by the acceptance sweep).
    ("#{approved}", "approved"),
    ("#{!approved}", "not approved"),
])
def test_simple_juel_is_translated(juel, python):
    assert juel_to_python(juel) == python


@pytest.mark.parametrize("text", ["approved", "#x", "${a}${b}", "x == '${y}'"])
def test_other_text_is_not_juel(text):
    assert juel_to_python(text) is None


@pytest.mark.parametrize(("feel", "python"), [
    ("=approved", "approved"),
    ("= approved = true", "approved == True"),
    ("=amount > 1000000 and not(rejected)", "amount > 1000000 and not(rejected)"),
    ("=status != \"=\" or note = null", "status != \"=\" or note == None"),
    ("=a >= 1 and b <= 2", "a >= 1 and b <= 2"),
    ('=kind = "a = b"', 'kind == "a = b"'),
])
def test_simple_feel_is_translated(feel, python):
    assert feel_to_python(feel) == python


@pytest.mark.parametrize("text", ["approved", "${x}", "== x", "x = 1"])
def test_other_text_is_not_feel(text):
    assert feel_to_python(text) is None


def _gateway(condition: str) -> bytes:
    gateway = ('<bpmn:exclusiveGateway id="gw" default="f_else"/>'
               '<bpmn:sequenceFlow id="f_if" sourceRef="gw" targetRef="end">'
               f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>"
               '</bpmn:sequenceFlow><bpmn:sequenceFlow id="f_else" sourceRef="gw" '
               'targetRef="task_a"/>')
    return minimal((END, END + gateway), ('sourceRef="task_a" targetRef="end"',
                                          'sourceRef="task_a" targetRef="gw"'))


def test_translated_juel_runs():
    workflow = start(compile_bytes(_gateway("${amount &gt; 100 &amp;&amp; !rejected}")))
    complete(workflow, "task_a", amount=50, rejected=False)
    assert ready_steps(workflow) == ["task_a"]
    complete(workflow, "task_a", amount=500, rejected=False)
    assert workflow.is_completed()


def test_translated_feel_runs():
    workflow = start(compile_bytes(_gateway("= amount &gt; 100 and not(rejected)")))
    complete(workflow, "task_a", amount=500, rejected=True)
    assert ready_steps(workflow) == ["task_a"]
    complete(workflow, "task_a", amount=500, rejected=False)
    assert workflow.is_completed()


@pytest.mark.parametrize("condition", ["=applicant.age &gt; 17", "=count(items) &gt; 1",
                                       "=x in [1, 2]", "=status = 'ok'", "=if a then b else c"])
def test_untranslatable_feel_asks_for_python(condition):
    [problem] = problems_of(_gateway(condition))
    assert problem.element_id == "f_if"
    assert "the FEEL condition" in problem.message
    assert "conditions are Python expressions" in problem.message


def test_python_condition_with_surrounding_blank_lines_runs():
    workflow = start(compile_bytes(_gateway("\n      amount &gt; 100\n    ")))
    complete(workflow, "task_a", amount=500)
    assert workflow.is_completed()


def test_condition_error_line_counts_from_the_expression():
    data = _gateway("\n\namount &gt;")
    [problem] = problems_of(data)
    assert problem.element_id == "f_if"
    assert problem.line == line_of(data, "<bpmn:conditionExpression>") + 2


@pytest.mark.parametrize("condition", ["${x.getClass()}", "${a eq b}", "${empty list}",
                                       "${applicant.age &gt; 17}", "${items[0]}"])
def test_untranslatable_juel_asks_for_python(condition):
    [problem] = problems_of(_gateway(condition))
    assert problem.element_id == "f_if"
    assert "conditions are Python expressions" in problem.message


def test_hostile_condition():
    problems = problems_of(_gateway("().__class__.__bases__"))
    assert {p.element_id for p in problems} == {"f_if"}


def _script(script: str, script_format: str | None = None) -> bytes:
    fmt = f' scriptFormat="{script_format}"' if script_format is not None else ""
    task = (f'<bpmn:scriptTask id="calc"{fmt}><bpmn:script>{script}</bpmn:script>'
            "</bpmn:scriptTask>")
    return minimal((END, task + END), ('sourceRef="task_a" targetRef="end"',
                                       'sourceRef="task_a" targetRef="calc"'),
                   ("</bpmn:process>", '<bpmn:sequenceFlow id="fc" sourceRef="calc" '
                                       'targetRef="end"/></bpmn:process>'))


def test_script_error_on_its_third_line():
    data = _script("a = 1\nb = 2\nimport os\nc = 3")
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line) == ("calc", line_of(data, "import os"))


def test_good_script_runs():
    workflow = start(compile_bytes(_script("total = 2 * 21")))
    complete(workflow, "task_a")
    assert workflow.is_completed()
    assert workflow.data["total"] == 42


@pytest.mark.parametrize(("script", "fmt", "message"), [
    ("x = 1", "groovy", "scripts are Python"),
    ("", None, "has no script"),
    ("   ", "python", "has no script"),
])
def test_script_task_faults(script, fmt, message):
    [problem] = problems_of(_script(script, fmt))
    assert problem.element_id == "calc" and message in problem.message


def test_spiffarena_pre_script_is_checked():
    data = minimal(("<camunda:properties>",
                    '<spiffworkflow:preScript xmlns:spiffworkflow="http://spiffworkflow.org/'
                    'bpmn/schema/1.0/core">open("/etc/passwd")</spiffworkflow:preScript>'
                    "<camunda:properties>"))
    [problem] = problems_of(data)
    assert problem.element_id == "task_a" and "pre-script" in problem.message


@pytest.mark.parametrize(("condition", "dialect"), [
    ("bpmn:getDataObject('approved')", "an XPath expression"),  # Signavio, ADONIS (MIWG C.1.1)
    ("bpmn:getDataObject('clarified') = 'yes'", "an XPath expression"),
    ("${invoice.approved()}", "a JUEL expression"),
])
def test_a_condition_in_another_expression_language_is_named_as_such(condition, dialect):
    from engine.modeling.expressions import dialect_hint

    hint = dialect_hint(condition)
    assert dialect in hint and "Python" in hint
    assert dialect_hint("approved == True") == ""
