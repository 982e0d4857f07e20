"""Small factory functions for test data: unique values, sensible defaults."""

from __future__ import annotations

import itertools
from pathlib import Path

from engine.context import EngineContext
from engine.domain.actors import SYSTEM, Actor
from engine.domain.definitions import ModelPackage
from engine.domain.views import ModelVersionView
from engine.services import models, regions, users

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
_counter = itertools.count(1)

REGION_NAMES = {
    "3273": ("Kota Bandung", "Asia/Jakarta"),
    "3510": ("Kab. Banyuwangi", "Asia/Jakarta"),
    "5171": ("Kota Denpasar", "Asia/Makassar"),
    "9471": ("Kota Jayapura", "Asia/Jayapura"),
}


def make_region(ctx: EngineContext, code: str = "3273") -> str:
    name, timezone = REGION_NAMES.get(code, (f"Region {code}", "Asia/Jakarta"))
    regions.create_region(ctx, SYSTEM, code, name, timezone)
    return code


def make_user(
    ctx: EngineContext, *roles: str, region: str | None = "3273", name: str | None = None
) -> tuple[Actor, str]:
    """A user with `roles`; returns the actor and its bearer token."""
    created = users.add_user(ctx, SYSTEM, name or f"user{next(_counter)}", list(roles), region)
    # The actor as a request carries it: with the powers its roles hold in its region.
    return users.authenticate(ctx, created.token), created.token


def tiny_bpmn(
    key: str = "tiny",
    *,
    steps: int = 2,
    sla: str = "P1D",
    fee: str = "0",
    role: str = "front-office",
    script: str | None = None,
    form: str | None = None,
) -> bytes:
    """A straight line of `steps` user tasks in one lane, optionally followed by a script task."""
    ids = [f"step_{i}" for i in range(1, steps + 1)]
    form_prop = f'<camunda:property name="form" value="{form}"/>' if form else ""
    tasks = "".join(
        f'<bpmn:userTask id="{i}" name="Langkah {n}"><bpmn:extensionElements><camunda:properties>'
        f'<camunda:property name="sla" value="{sla}"/><camunda:property name="fee" value="{fee}"/>'
        f"{form_prop}</camunda:properties></bpmn:extensionElements></bpmn:userTask>"
        for n, i in enumerate(ids, 1)
    )
    chain = ["start", *ids] + (["script"] if script else []) + ["end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}"/>'
        for n, (a, b) in enumerate(itertools.pairwise(chain))
    )
    script_el = (
        f'<bpmn:scriptTask id="script"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
        if script
        else ""
    )
    refs = "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="{key}" name="Izin {key}" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="{role}" name="Petugas">{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>{tasks}{script_el}
    <bpmn:endEvent id="end"/>{flows}
  </bpmn:process>
</bpmn:definitions>""".encode()


def upload(
    ctx: EngineContext, region: str, bpmn: bytes, forms: dict[str, bytes] | None = None,
    standard: bytes | None = None,
) -> ModelVersionView:
    return models.upload_model(
        ctx, SYSTEM, region, ModelPackage(bpmn=bpmn, forms=forms or {}, standard=standard)
    )


def complete_standard(**changes: object) -> dict:
    """A standard.json with all 14 components (the model gives procedure, time limit and
    fees) and a decree number; `changes` replace or (with None) drop keys."""
    standard: dict = {
        "region": {"code": "3273", "name": "Kota Bandung"},
        "agency": {"id": "DPMPTSP Kota Bandung (uji)", "en": "DPMPTSP Bandung (test)"},
        "requirements": [{"code": "ktp", "name": {"id": "KTP", "en": "Identity card"}}],
        "product": {"id": "Surat izin", "en": "Permit"},
        "complaints": {"channels": [{"type": "sp4n-lapor", "url": "https://www.lapor.go.id"}]},
        "legal_basis": ["Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik"],
        "facilities": [{"id": "Loket pelayanan", "en": "Service counter"}],
        "competence": [{"role": "front-office", "id": "Petugas loket", "en": "Counter staff"}],
        "internal_supervision": {"id": "Atasan langsung", "en": "Line supervision"},
        "staffing": [{"role": "front-office", "count": 2}],
        "service_guarantee": {"id": "Maklumat pelayanan", "en": "Service pledge"},
        "security_guarantee": {"id": "Data pribadi dilindungi", "en": "Personal data protected"},
        "performance_evaluation": {"id": "SKM setiap tahun", "en": "Yearly survey"},
        "decree": {"number": "TEST/SP/3273/1", "date": "2026-01-02"},
    }
    for key, value in changes.items():
        if value is None:
            standard.pop(key, None)
        else:
            standard[key] = value
    return standard


class Clock:
    """A settable clock for EngineContext.clock (aware datetimes)."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)


TIMER_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="escalation" name="Izin dengan eskalasi" isExecutable="true">
    <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P10D"/></camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="front-office"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="head-of-office"><bpmn:flowNodeRef>escalated</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review" name="Periksa berkas">
      <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="PT8H"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="too_slow" name="Terlalu lama" attachedToRef="review">
      <bpmn:timerEventDefinition id="td"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT4H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="escalated" name="Keputusan kepala kantor">
      <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end_ok"/>
    <bpmn:endEvent id="end_escalated"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end_ok"/>
    <bpmn:sequenceFlow id="f3" sourceRef="too_slow" targetRef="escalated"/>
    <bpmn:sequenceFlow id="f4" sourceRef="escalated" targetRef="end_escalated"/>
  </bpmn:process>
</bpmn:definitions>"""


APPLICANT_LOOP_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://permitflow.test">
  <bpmn:process id="loop" name="Izin dengan perbaikan berkas" isExecutable="true">
    <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P3D"/></camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="front-office"><bpmn:flowNodeRef>check</bpmn:flowNodeRef><bpmn:flowNodeRef>complete_gw</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="applicant"><bpmn:flowNodeRef>fix</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="check" name="Periksa kelengkapan">
      <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="complete_gw" default="f_incomplete"/>
    <bpmn:userTask id="fix" name="Lengkapi berkas">
      <bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P5D"/><camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="complete_gw"/>
    <bpmn:sequenceFlow id="f_complete" sourceRef="complete_gw" targetRef="end">
      <bpmn:conditionExpression>complete == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_incomplete" sourceRef="complete_gw" targetRef="fix"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fix" targetRef="check"/>
  </bpmn:process>
</bpmn:definitions>"""
