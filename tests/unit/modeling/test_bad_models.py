"""Every bad upload is refused with ModelInvalidError, each problem located (id + line)."""

from __future__ import annotations

import pytest

from engine.domain.definitions import ModelPackage
from engine.domain.errors import ModelInvalidError
from engine.modeling import compile_model

from .support import BAD, FIXTURES, FORMS, fixture, line_of, located, problems_of


def _bad(name: str) -> bytes:
    return (BAD / name).read_bytes()


@pytest.mark.parametrize(("name", "needle", "message"), [
    ("not_xml.bpmn", None, "not well-formed XML"),
    ("not_bpmn.bpmn", "<svg", "not a BPMN 2.0 file"),
    ("xxe.bpmn", "<!DOCTYPE", "DTDs and entities are not allowed"),
    ("billion_laughs.bpmn", "<!DOCTYPE", "DTDs and entities are not allowed"),
    ("too_deep.bpmn", None, "nested too deeply"),
    ("junk.bin", None, "not well-formed XML"),
])
def test_unreadable_files_give_one_problem(name, needle, message):
    data = _bad(name)
    [problem] = problems_of(data)
    assert message in problem.message
    assert problem.file == "model.bpmn"
    assert problem.line == (line_of(data, needle) if needle else problem.line)
    assert problem.line is not None


def test_xxe_never_reads_the_file():
    [problem] = problems_of(_bad("xxe.bpmn"))
    assert "root:" not in problem.message


def test_empty_and_blank_uploads():
    for data in (b"", b"   \n"):
        [problem] = problems_of(data)
        assert problem.message == "the BPMN file is empty"


def test_oversized_upload():
    data = fixture("minimal.bpmn").replace(b"</bpmn:definitions>",
                                           b"<!--" + b"x" * 5_300_000 + b"--></bpmn:definitions>")
    [problem] = problems_of(data)
    assert "limit is 5,242,880" in problem.message


def test_duplicate_ids_name_both_lines():
    data = _bad("duplicate_ids.bpmn")
    [problem] = problems_of(data)
    first, second = line_of(data, 'id="task_a"'), line_of(data, 'id="task_a"', 2)
    assert (problem.element_id, problem.line) == ("task_a", second)
    assert f"line {first} and line {second}" in problem.message


def test_dangling_flow_and_dangling_node():
    data = _bad("dangling_flow.bpmn")
    problems = problems_of(data)
    task_b = line_of(data, 'id="task_b"')
    flow = line_of(data, "flow_nowhere")
    assert located(problems) == {("task_b", task_b), ("flow_nowhere", flow)}
    assert any("'nowhere', which does not exist" in p.message for p in problems)
    # task_b: nothing leads to it; its only outgoing flow goes nowhere, and an activity
    # without outgoing flow is an implicit end, not dangling.
    assert sum("dangling" in p.message for p in problems) == 1


@pytest.mark.parametrize(("name", "field", "message"), [
    ("missing_sla.bpmn", "sla", 'has no SLA: add <camunda:property name="sla"'),
    ("missing_fee.bpmn", "fee", 'has no fee: add <camunda:property name="fee"'),
])
def test_missing_required_properties(name, field, message):
    data = _bad(name)
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line, problem.field) == (
        "task_a", line_of(data, 'id="task_a"'), field)
    assert message in problem.message


def test_bad_fee_values_say_how_to_write_a_fee():
    data = _bad("bad_fee.bpmn")
    problems = problems_of(data)
    for index, value in enumerate(["Rp 50.000", "50000.0", "-1", "1e6"]):
        problem = next(p for p in problems if p.element_id == f"fee_{index}")
        assert problem.line == line_of(data, f'value="{value}"')
        assert problem.field == "fee"
        assert f"fee {value!r} is not a whole number of rupiah" in problem.message
        assert "write digits only" in problem.message
    assert len(problems) == 4


def test_bad_sla_values_including_the_process_sla():
    data = _bad("bad_sla.bpmn")
    problems = problems_of(data)
    assert len(problems) == 6
    assert all(p.field == "sla" and "is not a working-time duration" in p.message
               for p in problems)
    assert ("izin-minimal", line_of(data, 'value="14 hari"')) in located(problems)
    assert ("sla_3", line_of(data, 'value="P1DT2H"')) in located(problems)


def test_missing_form_file():
    data = _bad("missing_form.bpmn")
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line, problem.field) == (
        "task_a", line_of(data, 'id="task_a"'), "form")
    assert "'nonexistent.json', which is not in the package's forms/" in problem.message


def test_form_that_is_not_json():
    broken = _bad("forms/not_json.json")
    problems = problems_of(fixture("minimal.bpmn"), forms={"application.json": broken})
    [problem] = problems
    assert problem.file == "forms/application.json"
    assert problem.line == 5
    assert "is not valid JSON" in problem.message


def test_form_that_is_not_a_json_schema():
    problems = problems_of(fixture("minimal.bpmn"),
                           forms={"application.json": _bad("forms/not_a_schema.json")})
    assert problems and all(p.file == "forms/application.json" for p in problems)
    assert all("is not a valid JSON Schema" in p.message for p in problems)


def test_unreferenced_bad_form_is_still_a_problem():
    forms = {**FORMS, "spare.json": b"[1, 2]"}
    [problem] = problems_of(fixture("minimal.bpmn"), forms=forms)
    assert problem.file == "forms/spare.json"
    assert "must hold a JSON object" in problem.message


def test_standard_must_be_a_json_object():
    for standard, message in [(b"[]", "must hold a JSON object"), (b"{", "is not valid JSON")]:
        [problem] = problems_of(fixture("minimal.bpmn"), standard=standard)
        assert problem.file == "standard.json"
        assert message in problem.message


def test_step_without_lane():
    data = _bad("no_lane.bpmn")
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line, problem.field) == (
        "task_b", line_of(data, 'id="task_b"'), "role")
    assert "in no lane and has no candidate groups" in problem.message


def test_hostile_script_is_located_on_its_line():
    data = _bad("hostile_script.bpmn")
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line) == ("evil", line_of(data, "__import__"))
    assert "__import__" in problem.message


def test_script_syntax_error_is_located_on_its_line():
    data = _bad("script_syntax.bpmn")
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line) == ("broken", line_of(data, "if total"))
    assert "syntax error" in problem.message


def test_several_faults_are_all_reported_at_once_sorted_by_line():
    data = _bad("many_faults.bpmn")
    problems = problems_of(data)
    assert located(problems) >= {
        ("task_a", line_of(data, 'value="2 hari"')),
        ("task_a", line_of(data, 'value="Rp 5.000"')),
        ("task_b", line_of(data, 'id="task_b"')),
        ("task_a", line_of(data, 'id="task_a"', 2)),
        ("evil", line_of(data, "__import__")),
        ("flow_nowhere", line_of(data, "flow_nowhere")),
    }
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert len(problems) == 7


def test_bpmn_and_form_problems_come_together():
    package = ModelPackage(bpmn=_bad("missing_fee.bpmn"),
                           forms={"application.json": b"{oops"})
    with pytest.raises(ModelInvalidError) as caught:
        compile_model(package)
    assert [p.file for p in caught.value.problems] == ["model.bpmn", "forms/application.json"]
    assert str(caught.value) == "2 problems in model.bpmn and its files"


def test_error_detail_names_the_count_and_file():
    with pytest.raises(ModelInvalidError) as caught:
        compile_model(ModelPackage(bpmn=_bad("bad_fee.bpmn"), forms=FORMS,
                                   bpmn_name="izin.bpmn"))
    assert caught.value.detail == "4 problems in izin.bpmn"
    assert {p.file for p in caught.value.problems} == {"izin.bpmn"}


def test_pathological_form_json():
    [problem] = problems_of(fixture("minimal.bpmn"),
                            forms={"application.json": b"[" * 200_000 + b"]" * 200_000})
    assert problem.file == "forms/application.json"


LANE = '<bpmn:lane id="front-office" name="front-office">'


@pytest.mark.parametrize(("lane", "role"), [
    ('<bpmn:lane id="front-office" name="Petugas loket">', "front-office"),  # id is the role
    ('<bpmn:lane id="Lane_0x1y2z3" name="front-office">', "front-office"),  # Camunda's id
    ('<bpmn:lane id="_937b5086-1d2a-4f4e-9c1b-5a1f3c0e2d11" name="Technical-Team">',
     "technical-team"),
    ('<bpmn:lane id="sid-6A2E8F0B-59C4-4B7E-A2B1-0D9C2B1E7F44" name="cashier">', "cashier"),
])
def test_a_lane_is_a_role_by_its_id_or_else_by_its_name(lane: str, role: str) -> None:
    from .support import compile_bytes, minimal

    model = compile_bytes(minimal((LANE, lane)))
    assert {step.role for step in model.steps} == {role}


@pytest.mark.parametrize(("lane", "said"), [
    ('<bpmn:lane id="_937b5086-1d2a-4f4e-9c1b-5a1f3c0e2d11">', "without a name"),
    ('<bpmn:lane id="Lane_0x1y2z3" name="Petugas Front Office">',
     "named 'Petugas Front Office'"),
])
def test_a_lane_no_user_can_hold_is_refused_where_it_is(lane: str, said: str) -> None:
    from .support import minimal

    data = minimal((LANE, lane))
    problems = problems_of(data)
    assert [(p.field, p.line) for p in problems] == [("role", line_of(data, "<bpmn:lane "))]
    assert said in problems[0].message and "e.g. front-office" in problems[0].message


def _after_task_a(element: str, element_id: str) -> bytes:
    from .support import minimal

    return minimal(
        ('<bpmn:endEvent id="end" />', f'{element}<bpmn:endEvent id="end" />'),
        ('<bpmn:sequenceFlow id="flow_2" sourceRef="task_a" targetRef="end" />',
         f'<bpmn:sequenceFlow id="flow_2" sourceRef="task_a" targetRef="{element_id}" />'
         f'<bpmn:sequenceFlow id="flow_3" sourceRef="{element_id}" targetRef="end" />'),
    )


@pytest.mark.parametrize(("element", "says"), [
    ('<bpmn:serviceTask id="notify" name="Kirim" camunda:class="id.go.Notify" />',
     "serviceTask 'notify' is implemented by camunda:class, Java code that permitflow does not run"),
    ('<bpmn:scriptTask id="notify"><bpmn:property id="p1" name="x"/>'
     '<bpmn:dataInputAssociation id="dia"><bpmn:sourceRef>nothing</bpmn:sourceRef>'
     '<bpmn:targetRef>p1</bpmn:targetRef></bpmn:dataInputAssociation>'
     '<bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>',
     "a data input association of scriptTask 'notify' comes from no data object"),
])
def test_parser_messages_are_plain_and_show_no_python_objects(element: str, says: str) -> None:
    data = _after_task_a(element, "notify")
    [problem] = problems_of(data)
    assert (problem.element_id, problem.line) == ("notify", line_of(data, 'id="notify"'))
    assert says in problem.message
    assert " at 0x" not in problem.message and "operator" not in problem.message


def test_an_error_event_sub_process_inside_a_sub_process_is_refused() -> None:
    data = (FIXTURES / "runtime" / "error_event_subprocess.bpmn").read_text()
    start = data.index('<bpmn:startEvent id="StartEvent_1">')
    handler = data.index('<bpmn:subProcess id="Activity_handle"')
    handler_end = data.index("</bpmn:subProcess>", handler) + len("</bpmn:subProcess>")
    nested = (data[:start] + '<bpmn:subProcess id="outer"><bpmn:startEvent id="o_s"/>'
              '<bpmn:endEvent id="o_e"/><bpmn:sequenceFlow id="o_f" sourceRef="o_s" '
              'targetRef="o_e"/>' + data[handler:handler_end] + "</bpmn:subProcess>"
              + data[start:handler] + data[handler_end:])
    # ("outer" is also dangling here: no flow leads to it; that is said on its own.)
    [problem] = [p for p in problems_of(nested.encode(), forms={})
                 if p.element_id == "Activity_handle"]
    assert "move it to the process level" in problem.message
    assert problem.line == line_of(nested, 'id="Event_err_start"')
