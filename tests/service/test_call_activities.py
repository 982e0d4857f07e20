"""Call activities through the service layer: binding, upload checks, mappings, migration."""

from __future__ import annotations

import uuid

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.services import applications, instance_migration, tasks, variables
from tests.conformance.runner import MODELS, model_forms
from tests.factories import make_region, make_user, upload

PAYMENT = "cf-call-payment"


def model(name: str) -> bytes:
    return (MODELS / f"{name}.bpmn").read_bytes()


def publish(ctx: EngineContext, bpmn: bytes | str, name: str = "call_latest") -> None:
    data = bpmn.encode() if isinstance(bpmn, str) else bpmn
    upload(ctx, "3273", data, {n: b for n, b in model_forms(MODELS / f"{name}.bpmn").items()})


@pytest.fixture
def region(ctx: EngineContext) -> str:
    return make_region(ctx, "3273")


def start(ctx: EngineContext, key: str, data: dict | None = None):
    counter = make_user(ctx, "front-office")[0]
    return applications.start_application(ctx, counter, "3273", key, {"name": "Siti"}, data or {})


def work(ctx: EngineContext, app_id: uuid.UUID, element_id: str, data: dict | None = None):
    view = applications.get_application(ctx, SYSTEM, app_id)
    (task,) = [t for t in view.tasks if t.element_id == element_id and t.state == "ready"]
    actor = make_user(ctx, task.role)[0]
    return tasks.complete_task(ctx, actor, task.id, data or {})


def data_of(ctx: EngineContext, app_id: uuid.UUID) -> dict:
    admin = make_user(ctx, "admin", region=None)[0]
    return variables.application_variables(ctx, admin, app_id)["variables"]


def problems(exc: pytest.ExceptionInfo) -> list[tuple[str | None, str]]:
    return [(p.element_id, p.message) for p in exc.value.problems]


def test_an_application_keeps_the_version_bound_at_its_start(ctx: EngineContext, region) -> None:
    publish(ctx, model("call_payment_v1"))
    publish(ctx, model("call_latest"))
    first = start(ctx, "cf-call-latest")
    publish(ctx, model("call_payment_v2"))  # published after the first application started
    second = start(ctx, "cf-call-latest")
    for app in (first, second):
        work(ctx, app.id, "register")
        after = work(ctx, app.id, "pay_fee")
        assert [t.element_id for t in after.tasks if t.state == "ready"] == ["sign"]
    assert data_of(ctx, first.id)["called_version"] == 1
    assert data_of(ctx, second.id)["called_version"] == 2
    rows = applications.get_application(ctx, SYSTEM, first.id).tasks
    (paid,) = [t for t in rows if t.element_id == "pay_fee"]
    assert (paid.role, paid.sla, paid.state) == ("treasurer", "P1D", "completed")


def test_deployment_binding_is_pinned_at_upload(ctx: EngineContext, region) -> None:
    publish(ctx, model("call_payment_v1"))
    deployment = model("call_latest").replace(
        b'calledElement="cf-call-payment"',
        b'calledElement="cf-call-payment" camunda:calledElementBinding="deployment"',
    )
    publish(ctx, deployment)
    publish(ctx, model("call_payment_v2"))
    app = start(ctx, "cf-call-latest")
    work(ctx, app.id, "register")
    work(ctx, app.id, "pay_fee")
    assert data_of(ctx, app.id)["called_version"] == 1


def test_a_call_to_a_key_not_published_in_the_region_is_refused(ctx: EngineContext, region) -> None:
    with pytest.raises(errors.ModelInvalidError) as refused:
        publish(ctx, model("call_latest"))
    [(element, message)] = problems(refused)
    assert element == "pay" and "'cf-call-payment'" in message and "no model" in message
    publish(ctx, model("call_payment_v1"))
    with pytest.raises(errors.ModelInvalidError) as fixed:
        publish(ctx, model("call_fixed_version").replace(
            b'calledElementVersion="1"', b'calledElementVersion="3"'))
    [(element, message)] = problems(fixed)
    assert element == "pay" and "version 3" in message and "not a published version" in message


def test_a_cycle_of_calls_is_refused_at_upload(ctx: EngineContext, region) -> None:
    publish(ctx, model("call_payment_v1"))
    publish(ctx, model("call_latest"))  # cf-call-latest calls cf-call-payment
    calls_back = (
        model("call_latest")
        .replace(b'calledElement="cf-call-payment"', b'calledElement="cf-call-latest"')
        .replace(b'id="cf-call-latest"', b'id="cf-call-payment"')
        .replace(b'processRef="cf-call-latest"', b'processRef="cf-call-payment"')
    )
    with pytest.raises(errors.ModelInvalidError) as refused:
        publish(ctx, calls_back)
    cycle = "cf-call-payment -> cf-call-latest -> cf-call-payment"
    assert any(e == "pay" and cycle in m for e, m in problems(refused)), problems(refused)


def test_a_called_model_with_a_step_id_of_the_caller_is_refused(ctx: EngineContext, region) -> None:
    publish(ctx, model("call_payment_v1"))
    clash = model("call_latest").replace(b"register", b"pay_fee")
    with pytest.raises(errors.ModelInvalidError) as refused:
        publish(ctx, clash)
    [(element, message)] = problems(refused)
    assert element == "pay" and "pay_fee" in message


def test_a_zeebe_call_activity_maps_plain_variables(ctx: EngineContext, region) -> None:
    publish(ctx, model("call_receipt"), "call_receipt")
    zeebe = (
        model("call_mappings")
        .replace(b' calledElement="cf-call-receipt"', b"")
        .replace(b'xmlns:camunda=', b'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda=')
        .replace(
            b'<camunda:in source="applicant_name" target="name" />',
            b'<zeebe:calledElement processId="cf-call-receipt" />'
            b'<zeebe:ioMapping><zeebe:input source="=applicant_name" target="name" />'
            b'<zeebe:output source="=receipt" target="payment_receipt" /></zeebe:ioMapping>',
        )
        .replace(b'<camunda:out source="receipt" target="payment_receipt" />', b"")
    )
    publish(ctx, zeebe, "call_mappings")
    app = start(ctx, "cf-call-mappings", {"applicant_name": "Siti"})
    work(ctx, app.id, "register")
    data = data_of(ctx, app.id)
    assert data["payment_receipt"] == "KW-Siti" and "receipt" not in data and "name" not in data


def test_a_migrated_application_keeps_its_called_version(ctx: EngineContext, region) -> None:
    publish(ctx, model("call_payment_v1"))
    publish(ctx, model("call_latest"))
    app = start(ctx, "cf-call-latest")
    work(ctx, app.id, "register")  # now inside the called model, at pay_fee
    publish(ctx, model("call_payment_v2"))
    publish(ctx, model("call_latest").replace(b'name="Tandatangani izin"', b'name="Teken izin"'))
    report = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "cf-call-latest", 1, 2)
    assert [m["application_id"] for m in report["migrated"]] == [app.id], report
    work(ctx, app.id, "pay_fee")
    after = work(ctx, app.id, "sign")
    assert after.status == "completed" and after.version == 2
    assert data_of(ctx, app.id)["called_version"] == 1


def test_an_officer_of_a_called_models_lane_reads_the_application_in_full(
    ctx: EngineContext, region
) -> None:
    publish(ctx, model("call_payment_v1"))
    publish(ctx, model("call_latest"))
    app = start(ctx, "cf-call-latest")
    treasurer = make_user(ctx, "treasurer")[0]
    assert applications.get_application(ctx, treasurer, app.id).applicant == {"name": "Siti"}
    stranger = make_user(ctx, "cashier")[0]  # reads payments: the application redacted
    assert applications.get_application(ctx, stranger, app.id).applicant == {}


def test_a_called_model_that_starts_only_by_a_message_is_refused(
    ctx: EngineContext, region
) -> None:
    by_message = (
        model("message_start")
        .replace(b"cf-message-start", PAYMENT.encode())
    )
    publish(ctx, by_message, "message_start")
    with pytest.raises(errors.ModelInvalidError) as refused:
        publish(ctx, model("call_latest"))
    [(element, message)] = problems(refused)
    assert element == "pay" and "starts only with a message" in message


MIDDLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="cf-call-middle" name="Prosedur perantara" isExecutable="true">
    <bpmn:startEvent id="m_start" />
    <bpmn:callActivity id="m_call" name="Pembayaran" calledElement="cf-call-payment" />
    <bpmn:endEvent id="m_end" />
    <bpmn:sequenceFlow id="m1" sourceRef="m_start" targetRef="m_call" />
    <bpmn:sequenceFlow id="m2" sourceRef="m_call" targetRef="m_end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_called_model_may_call_another_and_both_are_bound(ctx: EngineContext, region) -> None:
    publish(ctx, model("call_payment_v1"))
    publish(ctx, MIDDLE)
    publish(ctx, model("call_latest").replace(b"cf-call-payment", b"cf-call-middle"))
    app = start(ctx, "cf-call-latest")
    work(ctx, app.id, "register")
    work(ctx, app.id, "pay_fee")
    done = work(ctx, app.id, "sign")
    assert done.status == "completed" and data_of(ctx, app.id)["called_version"] == 1
    with ctx.reader() as uow:
        record = uow.repos.applications.get(app.id)
        assert record is not None and sorted(record.called_versions) == [
            "cf-call-middle", PAYMENT
        ]


def test_a_multi_instance_call_activity_runs_the_called_model_once_per_instance(
    ctx: EngineContext, region
) -> None:
    publish(ctx, model("call_payment_v1"))
    twice = model("call_latest").replace(
        b"</bpmn:callActivity>",
        b"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>"
        b"</bpmn:multiInstanceLoopCharacteristics></bpmn:callActivity>",
    )
    publish(ctx, twice)
    app = start(ctx, "cf-call-latest")
    after = work(ctx, app.id, "register")
    assert [t.element_id for t in after.tasks if t.state == "ready"] == ["pay_fee", "pay_fee"]
    for task in [t for t in after.tasks if t.state == "ready"]:
        tasks.complete_task(ctx, make_user(ctx, "treasurer")[0], task.id, {})
    assert work(ctx, app.id, "sign").status == "completed"


def test_an_escalation_in_the_called_model_reaches_a_boundary_on_the_call(
    ctx: EngineContext, region
) -> None:
    def escalating(bpmn: bytes, definition: bytes, error: bytes) -> bytes:
        return bpmn.replace(definition, b'<bpmn:escalationEventDefinition escalationRef="Esc" />').replace(
            error, b'<bpmn:escalation id="Esc" name="Pembayaran gagal" escalationCode="PAYMENT_FAILED" />'
        )

    publish(ctx, escalating(
        model("call_check_payment"),
        b'<bpmn:errorEventDefinition id="ErrorEventDefinition_ck" errorRef="Error_payment_failed" />',
        b'<bpmn:error id="Error_payment_failed" name="Pembayaran gagal" errorCode="PAYMENT_FAILED" />',
    ), "call_check_payment")
    publish(ctx, escalating(
        model("call_error"),
        b'<bpmn:errorEventDefinition id="ErrorEventDefinition_caught" errorRef="Error_caught" />',
        b'<bpmn:error id="Error_caught" name="Pembayaran gagal" errorCode="PAYMENT_FAILED" />',
    ), "call_error")
    app = start(ctx, "cf-call-error")
    work(ctx, app.id, "register")
    after = work(ctx, app.id, "check_payment", {"approved": False})
    assert [t.element_id for t in after.tasks if t.state == "ready"] == ["reject"]


def test_a_fee_on_a_called_models_step_is_billed_in_the_application(
    ctx: EngineContext, region
) -> None:
    charged = model("call_payment_v1").replace(
        b'<camunda:property name="fee" value="0" />', b'<camunda:property name="fee" value="50000" />'
    )
    publish(ctx, charged)
    publish(ctx, model("call_latest"))
    app = start(ctx, "cf-call-latest")
    after = work(ctx, app.id, "register")
    assert [(f["element_id"], f["amount"], f["status"]) for f in after.fees] == [
        ("pay_fee", 50000, "open")
    ]
    with pytest.raises(errors.FeeUnpaidError):
        work(ctx, app.id, "pay_fee")


def test_a_replica_calls_models_of_its_own_region(ctx: EngineContext, region) -> None:
    from engine.services.replication import replicate_model

    publish(ctx, model("call_payment_v1"))
    publish(ctx, model("call_latest"))
    make_region(ctx, "3510")
    source = {"region": "3273", "key": "cf-call-latest", "version": 1}
    with pytest.raises(errors.ModelInvalidError) as refused:
        replicate_model(ctx, SYSTEM, "3510", "cf-call-latest", source)
    [(element, message)] = problems(refused)
    assert element == "pay" and "region 3510 has no model" in message


def test_a_called_process_drawn_in_the_callers_file_is_the_published_one_that_runs(
    ctx: EngineContext, region
) -> None:
    publish(ctx, model("call_payment_v1"))
    # Camunda examples often draw the called process as a second pool of the caller's file.
    drawn = model("call_payment_v2").split(b"<bpmn:process ", 1)[1].split(b"</bpmn:process>")[0]
    drawn = drawn.replace(b'isExecutable="true"', b'isExecutable="false"')
    drawn = drawn.replace(b"Flow_", b"P_")
    caller = model("call_latest").replace(
        b"</bpmn:process>", b"</bpmn:process>\n  <bpmn:process " + drawn + b"</bpmn:process>", 1
    )
    publish(ctx, caller)
    app = start(ctx, "cf-call-latest")
    work(ctx, app.id, "register")
    work(ctx, app.id, "pay_fee")
    assert data_of(ctx, app.id)["called_version"] == 1  # the region's version 1, not the drawing
