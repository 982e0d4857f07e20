"""Good packages, as Camunda Modeler, bpmn.io/Zeebe and SpiffArena write them, compile and run."""

from __future__ import annotations

import json
import timeit

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from engine.domain.definitions import TimerDefinition
from engine.modeling import compile_model, read_package_dir

from .support import FIXTURES, compile_bytes, complete, fixture, line_of, ready_steps, start


def _compile(directory: str):
    return compile_model(read_package_dir(FIXTURES / directory))


def test_camunda_model_declares_steps_roles_slas_fees_and_forms():
    model = _compile("camunda-pbg")
    assert (model.key, model.title, model.process_sla) == (
        "pbg", "Persetujuan Bangunan Gedung", "P14D")
    steps = {s.element_id: s for s in model.steps}
    assert [s.element_id for s in model.steps] == [
        "submit_application", "verify_documents", "fix_documents", "pay_retribution",
        "technical_review", "sign_permit", "remind_technical_team"]
    assert [s.order for s in model.steps] == list(range(1, 8))
    assert steps["submit_application"].role == "applicant"
    assert steps["submit_application"].applicant_step
    assert steps["technical_review"].role == "technical-team"
    assert steps["sign_permit"].role == "kepala-dinas"  # candidateGroups beats the lane
    assert steps["remind_technical_team"].kind == "manualTask"
    assert steps["pay_retribution"].fee == 250000
    assert steps["remind_technical_team"].sla == "PT2H"
    assert steps["submit_application"].form == "application.json"  # embedded:app:forms/...
    assert steps["fix_documents"].form == "application.json"  # ".json" added
    assert steps["pay_retribution"].form == "payment.json"
    assert steps["verify_documents"].form == "verification.json"  # the form property
    data = fixture("camunda-pbg/model.bpmn")
    assert steps["verify_documents"].line == line_of(data, 'id="verify_documents"')
    assert set(model.forms) == {"application.json", "payment.json", "verification.json"}
    assert model.standard is not None and model.standard["product"].startswith("Persetujuan")
    assert model.bpmn == data  # the original bytes, not the fixed-up copy


def test_camunda_timer_is_recorded_as_iso_text():
    model = _compile("camunda-pbg")
    data = fixture("camunda-pbg/model.bpmn")
    assert model.timers == (TimerDefinition(
        element_id="Timer_review_overdue", kind="duration", expression="PT4H",
        attached_to="technical_review", interrupting=False,
        line=line_of(data, 'id="Timer_review_overdue"'),
    ),)


def test_camunda_model_runs_through_juel_gateway_and_parallel_branches():
    workflow = start(_compile("camunda-pbg"))
    assert ready_steps(workflow) == ["submit_application"]
    complete(workflow, "submit_application")
    complete(workflow, "verify_documents", complete=False)  # ${complete} -> complete
    assert ready_steps(workflow) == ["fix_documents"]
    complete(workflow, "fix_documents")
    complete(workflow, "verify_documents", complete=True)
    assert sorted(ready_steps(workflow)) == ["pay_retribution", "technical_review"]
    complete(workflow, "pay_retribution")
    complete(workflow, "technical_review")
    complete(workflow, "sign_permit")
    assert workflow.is_completed()


def test_camunda_timer_is_named_after_its_id_and_fires():
    workflow = start(_compile("camunda-pbg"))
    complete(workflow, "submit_application")
    complete(workflow, "verify_documents", complete=True)
    waiting = workflow.get_tasks(state=TaskState.WAITING)
    timer = next(t for t in waiting if t.task_spec.name == "Timer_review_overdue")
    assert timer.task_spec.event_definition.name == "Timer_review_overdue"
    assert timer.task_spec.event_definition.expression == '"PT4H"'
    workflow.send_event(BpmnEvent(timer.task_spec.event_definition))
    workflow.do_engine_steps()
    assert "remind_technical_team" in ready_steps(workflow)
    assert "technical_review" in ready_steps(workflow)  # non-interrupting


def test_zeebe_model_reads_zeebe_properties_groups_and_forms():
    model = _compile("zeebe-sip-dokter")
    assert (model.key, model.title, model.process_sla) == (
        "sip-dokter", "Surat Izin Praktik Dokter", "P7D")
    got = [(s.element_id, s.role, s.sla, s.fee, s.form) for s in model.steps]
    assert got == [
        ("register", "front-office", "P1D", 0, "registration.json"),  # formId
        ("verify_str", "verifikator", "PT4H", 0, "verification.json"),  # first group, lower
        ("issue_permit", "kepala-dinas", "P3D", 100000, None),
    ]
    workflow = start(model)
    assert ready_steps(workflow) == ["register"]
    complete(workflow, "register")
    complete(workflow, "verify_str", approved=True)  # the FEEL condition `=approved = true`
    assert ready_steps(workflow) == ["issue_permit"]


def test_spiffarena_model_with_quoted_timer_script_and_prescript():
    model = _compile("spiff-izin-reklame")
    assert model.key == "izin-reklame"
    assert [t.expression for t in model.timers] == ["PT2H"]
    assert model.timers[0].interrupting
    assert [s.kind for s in model.steps].count("task") == 1
    workflow = start(model)
    assert ready_steps(workflow) == ["fill_application"]
    complete(workflow, "fill_application", width=2, height=3, location="Jl. Merdeka")
    complete(workflow, "review_application")
    assert ready_steps(workflow) == ["collect_tax"]  # tax = 25000 * 6 > 0


def test_minimal_model():
    model = compile_bytes(fixture("minimal.bpmn"))
    assert [(s.element_id, s.role, s.order) for s in model.steps] == [
        ("task_a", "front-office", 1)]
    assert model.timers == ()
    assert model.standard is None
    assert ready_steps(start(model)) == ["task_a"]


def test_latin1_and_utf16_files_compile_with_their_characters():
    latin1 = compile_bytes(fixture("latin1.bpmn"))
    assert latin1.title == "Izin Usaha Café"
    assert latin1.steps[0].name == "Pemeriksaan dokumen (café, señor, 5 m²)"
    utf16 = compile_bytes(fixture("utf16.bpmn"))
    assert utf16.title == "Izin \u2014 UTF-16"
    assert utf16.steps[0].name == "Pemeriksaan \u2013 dokumen \u2713"
    assert utf16.bpmn.startswith(b"\xff\xfe") or utf16.bpmn.startswith(b"\xfe\xff")
    assert ready_steps(start(utf16)) == ["task_a"]


def test_compiled_spec_is_plain_json():
    model = _compile("camunda-pbg")
    assert json.loads(json.dumps(model.spec)) == model.spec


def test_steps_and_timers_round_trip_through_their_dicts():
    model = _compile("camunda-pbg")
    for step in model.steps:
        assert type(step).from_dict(json.loads(json.dumps(step.as_dict()))) == step
    for timer in model.timers:
        assert type(timer).from_dict(timer.as_dict()) == timer


def test_compiling_the_camunda_fixture_is_fast():
    package = read_package_dir(FIXTURES / "camunda-pbg")
    compile_model(package)  # warm: XSD and sandbox caches
    per_compile = min(timeit.repeat(lambda: compile_model(package), number=5, repeat=3)) / 5
    assert per_compile < 0.25, f"{per_compile * 1000:.1f} ms per compile"
