"""Timers: ISO-8601 text as Camunda writes it, SpiffArena expressions, and their faults."""

from __future__ import annotations

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.modeling.timers import iso_problem

from .support import BAD, compile_bytes, line_of, located, minimal, problems_of, start

END = '<bpmn:endEvent id="end" />'


def _with_timer(child: str, text: str, event_id: str = "wait", name: str = "Tunggu") -> bytes:
    """minimal.bpmn with an intermediate timer between task_a and the end event."""
    timer = (f'<bpmn:intermediateCatchEvent id="{event_id}" name="{name}">'
             f"<bpmn:timerEventDefinition><bpmn:{child}>{text}</bpmn:{child}>"
             "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    return minimal((END, timer + END), ('targetRef="end"', f'targetRef="{event_id}"'),
                   ("</bpmn:process>", f'<bpmn:sequenceFlow id="ft" sourceRef="{event_id}" '
                                       'targetRef="end"/></bpmn:process>'))


@pytest.mark.parametrize(("child", "text", "kind", "expression"), [
    ("timeDuration", "P2D", "duration", "P2D"),
    ("timeDuration", "PT4H", "duration", "PT4H"),
    ("timeDuration", " P1DT2H ", "duration", "P1DT2H"),
    ("timeDuration", "P2W", "duration", "P2W"),
    ("timeCycle", "R3/PT1H", "cycle", "R3/PT1H"),
    ("timeCycle", "R/P1D", "cycle", "R/P1D"),
    ("timeCycle", "R2/2027-01-31T09:00:00+07:00/P1D", "cycle",
     "R2/2027-01-31T09:00:00+07:00/P1D"),
    ("timeDate", "2027-01-31T09:00:00+07:00", "date", "2027-01-31T09:00:00+07:00"),
    ("timeDate", "2027-01-31T02:00:00Z", "date", "2027-01-31T02:00:00Z"),
    ("timeDuration", '"PT2H"', "duration", "PT2H"),
    ("timeDuration", 'f"PT{hours}H"', "duration", 'f"PT{hours}H"'),
    ("timeDuration", "review_deadline", "duration", "review_deadline"),
])
def test_accepted_timers(child, text, kind, expression):
    model = compile_bytes(_with_timer(child, text))
    [timer] = model.timers
    assert (timer.element_id, timer.kind, timer.expression) == ("wait", kind, expression)
    assert timer.attached_to is None and timer.interrupting


def test_plain_iso_is_quoted_for_spiffworkflow_and_the_timer_waits():
    workflow = start(compile_bytes(_with_timer("timeDuration", "PT4H")))
    from .support import complete
    complete(workflow, "task_a")
    [waiting] = workflow.get_tasks(state=TaskState.WAITING)
    definition = waiting.task_spec.event_definition
    assert (definition.name, definition.expression) == ("wait", '"PT4H"')
    assert "event_value" in waiting.internal_data  # evaluated without an error


def test_timers_sharing_a_name_get_distinct_names_in_the_spec():
    data = _with_timer("timeDuration", "PT1H", "wait", "Tunggu")
    second = ('<bpmn:intermediateCatchEvent id="wait2" name="Tunggu"><bpmn:timerEventDefinition>'
              "<bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition>"
              "</bpmn:intermediateCatchEvent>")
    data = data.replace(b'targetRef="end"/></bpmn:process>',
                        b'targetRef="wait2"/>' + second.encode() +
                        b'<bpmn:sequenceFlow id="ft2" sourceRef="wait2" targetRef="end"/>'
                        b"</bpmn:process>")
    model = compile_bytes(data)
    names = {spec["name"]: spec["event_definition"]["name"]
             for spec in model.spec["process"]["task_specs"].values()
             if "event_definition" in spec and spec["event_definition"].get("expression")}
    assert names == {"wait": "wait", "wait2": "wait2"}
    assert b'name="Tunggu"' in model.bpmn  # the stored XML stays as uploaded


def test_timer_faults_are_all_located():
    data = (BAD / "timer_faults.bpmn").read_bytes()
    problems = problems_of(data)
    assert located(problems) == {
        ("timer_naive_date", line_of(data, "<bpmn:timeDate")),
        ("timer_empty", line_of(data, 'id="timer_empty"')),
        ("timer_bad_duration", line_of(data, "PT4X")),
        ("timer_bad_expression", line_of(data, 'f"PT{hours}H')),
        ("timer_cron", line_of(data, "0 0 9 * * ?")),
    }
    naive = next(p for p in problems if p.element_id == "timer_naive_date")
    assert "give the offset, e.g. 2027-01-31T09:00:00+07:00" in naive.message
    cron = next(p for p in problems if p.element_id == "timer_cron")
    assert "'0 0 9 * * ?' is a cron expression" in cron.message and "R/PT5M" in cron.message


def test_hostile_timer_expression():
    [problem] = problems_of(_with_timer("timeDuration", "__import__('os').getcwd()"))
    assert problem.element_id == "wait"


def test_quoted_constant_is_validated_as_iso():
    [problem] = problems_of(_with_timer("timeDate", '"2027-01-31"'))
    assert "no UTC offset" in problem.message


def test_boundary_timer_records_its_host_and_interruption():
    data = minimal((END, '<bpmn:boundaryEvent id="late" attachedToRef="task_a" '
                         'cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                         "P3D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
                         '<bpmn:endEvent id="late_end"/><bpmn:sequenceFlow id="fl" '
                         'sourceRef="late" targetRef="late_end"/>' + END))
    [timer] = compile_bytes(data).timers
    assert (timer.attached_to, timer.interrupting) == ("task_a", False)


def test_cancel_activity_must_be_true_or_false():
    data = minimal((END, '<bpmn:boundaryEvent id="late" attachedToRef="task_a" '
                         'cancelActivity="1"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                         "P3D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
                         '<bpmn:endEvent id="late_end"/><bpmn:sequenceFlow id="fl" '
                         'sourceRef="late" targetRef="late_end"/>' + END))
    [problem] = problems_of(data)
    assert (problem.element_id, problem.field) == ("late", "cancelActivity")


@pytest.mark.parametrize(("text", "kind"), [
    ("P", "duration"), ("PT", "duration"), ("P1W2D", "duration"), ("PT1H2", "duration"),
    ("R3/P", "cycle"), ("R3", "cycle"), ("R3/PT1H/PT2H", "cycle"),
    ("R3/2027-01-31T09:00:00/PT1H", "cycle"), ("2027-13-01T00:00:00Z", "date"),
])
def test_iso_problems(text, kind):
    assert iso_problem(text, kind) is not None
