"""Small models and helpers for the citizen's-rights tests (issue #15)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.services import applications, payments, tasks

WIB = timezone(timedelta(hours=7))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)  # a plain working Monday


def _props(**values: str) -> str:  # Camunda Modeler's extension properties
    inner = "".join(f'<camunda:property name="{k}" value="{v}"/>' for k, v in values.items())
    return f"<bpmn:extensionElements><camunda:properties>{inner}</camunda:properties></bpmn:extensionElements>"


def decision_bpmn(
    key: str = "izin-keputusan", *, pay_fee: int = 150000, process_props: str = "", sla: str = "P5D"
) -> bytes:
    """Check (front office, free) -> pay (applicant, `pay_fee`) -> decide (head) -> issued or
    rejected by `keputusan == "tolak"`, each an end event of its own."""
    values = {"sla": sla} if sla else {}
    process_ext = _props(**values).replace(
        "</camunda:properties>", f"{process_props}</camunda:properties>"
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="{key}" name="Izin contoh keputusan" isExecutable="true">{process_ext}
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="front-office"><bpmn:flowNodeRef>check</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="applicant"><bpmn:flowNodeRef>pay</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="head-of-office"><bpmn:flowNodeRef>decide</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="check" name="Periksa berkas">{_props(sla="P1D", fee="0")}</bpmn:userTask>
    <bpmn:userTask id="pay" name="Bayar retribusi">{_props(sla="P3D", fee=str(pay_fee))}</bpmn:userTask>
    <bpmn:userTask id="decide" name="Keputusan">{_props(sla="P2D", fee="0")}</bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="to_issued"/>
    <bpmn:endEvent id="permit_issued" name="Izin terbit"/>
    <bpmn:endEvent id="application_rejected" name="Permohonan ditolak"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="pay"/>
    <bpmn:sequenceFlow id="f3" sourceRef="pay" targetRef="decide"/>
    <bpmn:sequenceFlow id="f4" sourceRef="decide" targetRef="gw"/>
    <bpmn:sequenceFlow id="to_rejected" sourceRef="gw" targetRef="application_rejected">
      <bpmn:conditionExpression>keputusan == "tolak"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_issued" sourceRef="gw" targetRef="permit_issued"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def ready_task(ctx: EngineContext, app_id, element_id: str):
    view = applications.get_application(ctx, SYSTEM, app_id)
    return next(t for t in view.tasks if t.element_id == element_id and t.state == "ready")


def work(ctx: EngineContext, app_id, element_id: str, data: dict | None = None) -> None:
    """Complete the ready step `element_id` (paying its fee first when it has one)."""
    task = ready_task(ctx, app_id, element_id)
    for item in payments.fee_items(ctx, SYSTEM, app_id):
        if item["element_id"] == element_id and item["status"] == "open":
            payments.record_payment(
                ctx, SYSTEM, app_id, item["fee_item"], item["amount"], f"REF-{task.id.hex[:10]}"
            )
    tasks.complete_task(ctx, SYSTEM, task.id, data or {})
