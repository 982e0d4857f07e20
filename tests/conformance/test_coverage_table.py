"""`docs/bpmn-coverage.md` stays true: each row's proof is checked against what the engine does.

*runs* rows name scenarios (not expected to fail) or tests that exist; *refused* rows name a
probe model that an upload must answer with `422`, the element located and the quoted message;
*ignored* and *gap* rows name a probe that is accepted today (when one is refused or runs, its
row must move); *pending* rows name scenarios that are expected to fail until their branch lands.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from api import create_app
from engine.domain.actors import SYSTEM
from engine.services import users
from tests.conformance.runner import HERE, SCENARIOS, load_scenarios
from tests.factories import ROOT

TABLE = ROOT / "docs" / "bpmn-coverage.md"
STATUSES = ("runs", "refused", "pending", "ignored", "gap")


@dataclass(frozen=True)
class Row:
    element: str
    status: str
    proofs: list[str]
    message: str | None


def rows() -> list[Row]:
    """The table rows of the coverage document."""
    found = []
    for line in TABLE.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("element", "---") or not line.startswith("|"):
            continue
        status = cells[1].split(":")[0].split(" ")[0]
        quoted = re.search(r'"([^"]+)"', cells[2])
        found.append(Row(cells[0], status, re.findall(r"`([^`]+)`", cells[2]),
                         quoted.group(1) if quoted else None))
    return found


def _proofs(kind: str, *statuses: str) -> list[tuple[Row, str]]:
    return [(row, p.split(":", 1)[1]) for row in rows() if row.status in statuses
            for p in row.proofs if p.startswith(f"{kind}:")]


# --- probes: one construct (id `x` unless said) between a start and an end event ---------------

STEP = ('<bpmn:extensionElements><camunda:properties><camunda:property name="sla" value="P1D"/>'
        '<camunda:property name="fee" value="0"/></camunda:properties></bpmn:extensionElements>')
TASK = f'<bpmn:userTask id="x">{STEP}</bpmn:userTask>'


def _boundary(definition: str, attrs: str = "", roots: str = "") -> dict[str, str]:
    return {"body": f'<bpmn:userTask id="a">{STEP}</bpmn:userTask><bpmn:boundaryEvent id="x" '
                    f'attachedToRef="a"{attrs}>{definition}</bpmn:boundaryEvent>'
                    '<bpmn:endEvent id="e2" />',
            "chain": "start a end", "flows": '<bpmn:sequenceFlow id="fb" sourceRef="x" '
                                               'targetRef="e2" />', "roots": roots}


def _end(definition: str, roots: str = "") -> dict[str, str]:
    return {"body": f'<bpmn:userTask id="a">{STEP}</bpmn:userTask><bpmn:endEvent id="x">'
                    f"{definition}</bpmn:endEvent>", "chain": "start a x", "roots": roots,
            "end": ""}


def _start(definition: str, roots: str = "") -> dict[str, str]:
    return {"start": f'<bpmn:startEvent id="start">{definition}</bpmn:startEvent>',
            "body": TASK, "roots": roots, "located": "start"}


MESSAGE = '<bpmn:message id="M" name="pesan" />'
SIGNAL = '<bpmn:signal id="S" name="sinyal" />'
COMPENSATE = "<bpmn:compensateEventDefinition />"
CONDITION = ('<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">'
             "ready == True</bpmn:condition></bpmn:conditionalEventDefinition>")

PROBES: dict[str, dict[str, str]] = {
    "timer_start": _start('<bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:'
                          'tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'),
    "signal_start": _start('<bpmn:signalEventDefinition signalRef="S" />', SIGNAL),
    "conditional_start": _start(CONDITION),
    "error_end_top": _end('<bpmn:errorEventDefinition errorRef="E" />',
                          '<bpmn:error id="E" name="galat" errorCode="E1" />'),
    "escalation_end": _end('<bpmn:escalationEventDefinition escalationRef="E" />',
                           '<bpmn:escalation id="E" name="eskalasi" escalationCode="E1" />'),
    "message_end": _end('<bpmn:messageEventDefinition messageRef="M" />', MESSAGE),
    "compensation_end": _end(COMPENSATE),
    "none_throw": {"body": '<bpmn:intermediateThrowEvent id="x" />'},
    "timer_without_offset": {"body": '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition>'
                                     '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">2027-01-31T09:00:00'
                                     "</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"},
    "message_throw": {"body": '<bpmn:intermediateThrowEvent id="x"><bpmn:messageEventDefinition '
                              'messageRef="M" /></bpmn:intermediateThrowEvent>', "roots": MESSAGE},
    "compensation_throw": {"body": f'<bpmn:intermediateThrowEvent id="x">{COMPENSATE}'
                                   "</bpmn:intermediateThrowEvent>"},
    "boundary_without_trigger": _boundary(""),
    "compensation_boundary": _boundary(COMPENSATE),
    "missing_signal_ref": {"body": '<bpmn:intermediateCatchEvent id="x"><bpmn:signalEventDefinition '
                                   'signalRef="nowhere" /></bpmn:intermediateCatchEvent>'},
    "step_without_fee": {"body": '<bpmn:userTask id="x"><bpmn:extensionElements><camunda:properties>'
                                 '<camunda:property name="sla" value="P1D"/></camunda:properties>'
                                 "</bpmn:extensionElements></bpmn:userTask>"},
    "script_syntax": {"body": '<bpmn:scriptTask id="x"><bpmn:script>a = (</bpmn:script></bpmn:scriptTask>'},
    "service_task": {"body": '<bpmn:serviceTask id="x" />'},
    "send_task": {"body": '<bpmn:sendTask id="x" />'},
    "business_rule_task": {"body": '<bpmn:businessRuleTask id="x" camunda:decisionRef="d" />'},
    "call_activity": {"body": '<bpmn:callActivity id="x" calledElement="lain" />'},
    "call_activity_no_key": {"body": '<bpmn:callActivity id="x" />'},
    "call_self": {"body": '<bpmn:callActivity id="x" calledElement="probe" />'},
    "call_source_expression": {"body": '<bpmn:callActivity id="x" calledElement="lain"><bpmn:'
                                       'extensionElements><camunda:in sourceExpression="${a}" '
                                       'target="b" /></bpmn:extensionElements></bpmn:callActivity>'},
    "empty_subprocess": {"body": '<bpmn:subProcess id="x" />'},
    "adhoc": {"body": f'<bpmn:adHocSubProcess id="x"><bpmn:userTask id="a">{STEP}</bpmn:userTask>'
                      "</bpmn:adHocSubProcess>"},
    "implicit_split": {"body": TASK + '<bpmn:endEvent id="e2" />',
                       "flows": '<bpmn:sequenceFlow id="fb" sourceRef="x" targetRef="e2" />'},
    "mi_expression_collection": {"body": f'<bpmn:userTask id="x">{STEP}<bpmn:multiInstanceLoopCharacteristics '
                                         'camunda:collection="${applicant.documents}" camunda:elementVariable="d" />'
                                         "</bpmn:userTask>"},
    "gateway_flow_without_condition": {
        "body": '<bpmn:exclusiveGateway id="x" default="f1" /><bpmn:endEvent id="e2" />',
        "flows": '<bpmn:sequenceFlow id="fx" sourceRef="x" targetRef="e2" />', "located": "fx"},
    "xpath_condition": {
        "body": '<bpmn:exclusiveGateway id="x" default="f1" /><bpmn:endEvent id="e2" />',
        "flows": '<bpmn:sequenceFlow id="fx" sourceRef="x" targetRef="e2"><bpmn:conditionExpression>'
                 "bpmn:getDataObject('approved')</bpmn:conditionExpression></bpmn:sequenceFlow>",
        "located": "fx"},
    "condition_after_task": {"body": TASK, "located": "f1",
                             "condition": "<bpmn:conditionExpression>ok == True</bpmn:conditionExpression>"},
    "complex_gateway": {"body": '<bpmn:complexGateway id="x" />'},
    "data_store": {"body": f'<bpmn:userTask id="x">{STEP}<bpmn:dataOutputAssociation id="d">'
                           "<bpmn:targetRef>ds</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:userTask>"
                           '<bpmn:dataStoreReference id="ds" />'},
    "data_store_root": {"body": TASK, "roots": '<bpmn:dataStore id="x" name="Arsip" />'},
    "camunda_input_output": {"body": '<bpmn:userTask id="x"><bpmn:extensionElements><camunda:properties>'
                                     '<camunda:property name="sla" value="P1D"/><camunda:property name="fee" '
                                     'value="0"/></camunda:properties><camunda:inputOutput><camunda:inputParameter '
                                     'name="a">1</camunda:inputParameter></camunda:inputOutput>'
                                     "</bpmn:extensionElements></bpmn:userTask>"},
    "message_flow": {"body": TASK, "collaboration": (
        '<bpmn:collaboration id="c"><bpmn:participant id="p1" processRef="probe" />'
        '<bpmn:participant id="p2" name="Bank" /><bpmn:messageFlow id="mf" sourceRef="x" '
        'targetRef="p2" /></bpmn:collaboration>')},
    "text_annotation": {"body": TASK, "artifacts": (
        '<bpmn:textAnnotation id="t"><bpmn:text>catatan</bpmn:text></bpmn:textAnnotation>'
        '<bpmn:association id="as" sourceRef="x" targetRef="t" />'
        '<bpmn:group id="g" categoryValueRef="cv" />'),
        "roots": '<bpmn:category id="c"><bpmn:categoryValue id="cv" value="kelompok" /></bpmn:category>'},
    "camunda_assignee": {"body": f'<bpmn:userTask id="x" camunda:assignee="budi" camunda:candidateUsers='
                                 f'"budi,siti" camunda:dueDate="2027-01-01">{STEP}</bpmn:userTask>'},
    "camunda_listener": {"body": '<bpmn:userTask id="x"><bpmn:extensionElements><camunda:properties>'
                                 '<camunda:property name="sla" value="P1D"/><camunda:property name="fee" '
                                 'value="0"/></camunda:properties><camunda:taskListener event="create" '
                                 'class="id.go.Notify" /></bpmn:extensionElements></bpmn:userTask>'},
    "camunda_execution_listener": {"body": '<bpmn:userTask id="x"><bpmn:extensionElements>'
                                           '<camunda:properties><camunda:property name="sla" '
                                           'value="P1D"/><camunda:property name="fee" value="0"/>'
                                           '</camunda:properties><camunda:executionListener '
                                           'event="start" expression="${x}" />'
                                           "</bpmn:extensionElements></bpmn:userTask>"},
    "documentation": {"body": '<bpmn:userTask id="x"><bpmn:documentation>Periksa KTP</bpmn:documentation>'
                              f"{STEP}</bpmn:userTask>"},
}
MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  {collaboration}{roots}
  <bpmn:process id="probe" name="Uji elemen" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="front-office">{refs}</bpmn:lane></bpmn:laneSet>
    {start}{body}{end}{flows}{artifacts}
  </bpmn:process>
</bpmn:definitions>"""


def probe_model(name: str) -> bytes:
    """The probe model `name`: its element between a start and an end event."""
    spec = {"start": '<bpmn:startEvent id="start" />', "end": '<bpmn:endEvent id="end" />',
            "chain": "start x end", "roots": "", "collaboration": "", "artifacts": "",
            "flows": "", "condition": "", **PROBES[name]}
    chain = spec["chain"].split()
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}">{spec["condition"]}'
        "</bpmn:sequenceFlow>" for i, (a, b) in enumerate(itertools.pairwise(chain)))
    steps = re.findall(r'<bpmn:(?:userTask|adHocSubProcess) id="(\w+)"', spec["body"])
    refs = "".join(f"<bpmn:flowNodeRef>{s}</bpmn:flowNodeRef>" for s in steps)
    return MODEL.format(**{**spec, "flows": flows + spec["flows"], "refs": refs}).encode()


@pytest.fixture
def client_and_token(db_url: str) -> Iterator[tuple[Any, str, Flask]]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    ctx = app.extensions["permitflow"]
    admin = users.add_user(ctx, SYSTEM, "admin", ["admin"], None).token
    client = app.test_client()
    made = client.post("/api/v1/regions", json={"code": "3273", "name": "Kota Bandung"},
                       headers={"Authorization": f"Bearer {admin}"})
    assert made.status_code == 201
    yield client, admin, app
    ctx.session_factory.kw["bind"].dispose()


def _upload(client: Any, token: str, name: str) -> Any:
    return client.post(
        "/api/v1/regions/3273/process-models", headers={"Authorization": f"Bearer {token}"},
        data={"bpmn": (io.BytesIO(probe_model(name)), f"{name}.bpmn")},
        content_type="multipart/form-data",
    )


# --- the checks -------------------------------------------------------------------------


def test_the_table_uses_known_statuses_and_every_row_has_proof() -> None:
    table = rows()
    assert len(table) > 60
    for row in table:
        assert row.status in STATUSES, row
        assert row.proofs or row.status == "pending", row
        if row.status == "refused":
            assert row.message and any(p.startswith("probe:") for p in row.proofs), row


def test_every_runs_row_names_a_scenario_or_test_that_exists_and_passes() -> None:
    scenarios = {s.name: s for s in load_scenarios()}
    for row, name in _proofs("scenario", "runs"):
        assert name in scenarios, f"{row.element}: no scenario {name}"
        assert scenarios[name].xfail is None, f"{row.element}: {name} is expected to fail"
    for row, test_id in _proofs("test", "runs", "ignored"):
        path, test = test_id.split("::")
        assert (ROOT / path).is_file(), f"{row.element}: no file {path}"
        assert f"def {test}(" in (ROOT / path).read_text("utf-8"), f"{row.element}: no {test_id}"


def test_every_pending_row_names_scenarios_expected_to_fail() -> None:
    scenarios = {s.name: s for s in load_scenarios()}
    for row, name in _proofs("scenario", "pending"):
        assert name in scenarios and scenarios[name].xfail, f"{row.element}: {name}"


def test_every_scenario_is_in_the_table() -> None:
    named = {name for _, name in _proofs("scenario", *STATUSES)}
    assert {p.stem for p in SCENARIOS.glob("*.json")} - named == set()


def test_every_probe_the_table_names_exists() -> None:
    named = {name for _, name in _proofs("probe", *STATUSES)}
    assert named <= set(PROBES), sorted(named - set(PROBES))


def test_every_refused_row_is_refused_at_upload_with_its_element_located(
    client_and_token: tuple[Any, str, Flask],
) -> None:
    client, token, _ = client_and_token
    for row, name in _proofs("probe", "refused"):
        answer = _upload(client, token, name)
        assert answer.status_code == 422, (row.element, answer.json)
        located = PROBES[name].get("located", "x")
        assert any(e.get("element_id") == located and row.message in e["message"]
                   for e in answer.json["errors"]), (row.element, answer.json["errors"])


def test_every_ignored_or_gap_row_is_accepted_today(
    client_and_token: tuple[Any, str, Flask],
) -> None:
    client, token, _ = client_and_token
    for row, name in _proofs("probe", "ignored", "gap"):
        answer = _upload(client, token, name)
        assert answer.status_code == 201, (row.element, answer.json)


def test_probes_that_run_to_their_end(client_and_token: tuple[Any, str, Flask]) -> None:
    client, token, app = client_and_token
    counter = users.add_user(app.extensions["permitflow"], SYSTEM, "loket", ["front-office"],
                             "3273").token
    assert _upload(client, token, "none_throw").status_code == 201
    started = client.post("/api/v1/regions/3273/applications",
                          headers={"Authorization": f"Bearer {counter}"},
                          json={"process_key": "probe", "applicant": {"name": "Siti"}, "data": {}})
    assert started.status_code == 201 and started.json["status"] == "completed", started.json


def test_the_readme_links_the_table() -> None:
    assert "docs/bpmn-coverage.md" in (ROOT / "README.md").read_text("utf-8")
    assert HERE.name == "conformance"


def test_the_gap_attributes_are_accepted_with_a_located_warning(
    client_and_token: tuple[Any, str, Flask],
) -> None:
    """camunda:assignee, candidateUsers and due dates are not applied: the upload says so, on
    the element and its line, and still accepts the model (a *gap* row)."""
    client, token, _ = client_and_token
    answer = _upload(client, token, "camunda_assignee")
    assert answer.status_code == 201, answer.json
    warnings = answer.json["warnings"]
    assert [(w["element_id"], w["field"]) for w in warnings] == [
        ("x", "camunda:assignee"), ("x", "camunda:candidateUsers"), ("x", "camunda:dueDate")]
    line = next(i for i, text in enumerate(probe_model("camunda_assignee").decode().splitlines(),
                                           start=1) if 'camunda:assignee="budi"' in text)
    assert {w["line"] for w in warnings} == {line}
    assert "camunda:assignee='budi'" in warnings[0]["message"]
    assert "not apply" in warnings[0]["message"]
    plain = _upload(client, token, "documentation")
    assert plain.status_code == 201 and plain.json["warnings"] == []
