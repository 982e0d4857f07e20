"""One end-to-end HTTP test per feature (STYLE habit 10): models and their public service
standard, applications and inboxes, claims, payments, cancellation, audit, public tracking,
calendars and the SLA report, each through the Flask test client as a client would use them.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from api.commands import cli
from engine.context import EngineContext
from engine.domain.audit_chain import GENESIS
from engine.domain.audit_roots import Leaf, root_hash
from engine.persistence.tables import EventRecord
from engine.services import worker
from tests.api.conftest import bearer
from tests.factories import ROOT, Clock, make_region, make_user, tiny_bpmn, upload

WIB = timezone(timedelta(hours=7))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)  # a plain working Monday
SIP = ROOT / "process_models" / "3510" / "sip-dokter"
PBG = ROOT / "process_models" / "3273" / "pbg"
FEE = 2_700_000
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


@pytest.fixture
def ctx(app: Flask) -> EngineContext:  # the app's own context, so its clock is the API's
    context: EngineContext = app.extensions["permitflow"]
    return context


@pytest.fixture
def clock(ctx: EngineContext) -> Clock:
    ctx.clock = Clock(MONDAY_10)
    return ctx.clock  # type: ignore[return-value]


class Staff:
    """Region 3273 with one user per role; `h(role)` gives that user's auth header."""

    def __init__(self, ctx: EngineContext) -> None:
        make_region(ctx, "3273")
        # Roles are known ones: the lane "technical-team" exists once a model has it.
        upload(ctx, "3273", tiny_bpmn(key="lanes-tech", role="technical-team"))
        self.ids: dict[str, int] = {}
        self.tokens: dict[str, str] = {}
        for label, roles in {"admin": ("admin",), "analyst": ("analyst",),
                             "officer": ("front-office",), "officer2": ("front-office",),
                             "tech": ("technical-team",), "both": ("front-office", "technical-team"),
                             "supervisor": ("supervisor",), "cashier": ("cashier",)}.items():
            actor, token = make_user(ctx, *roles, region=None if label == "admin" else "3273",
                                     name=f"Pegawai {label.title()}")
            self.ids[label], self.tokens[label] = actor.id, token

    def h(self, label: str) -> dict[str, str]:
        return bearer(self.tokens[label])


@pytest.fixture
def staff(ctx: EngineContext) -> Staff:
    return Staff(ctx)


def start(client: FlaskClient, headers: dict[str, str], key: str, applicant: dict[str, Any] | None = None,
          region: str = "3273") -> dict[str, Any]:
    response = client.post(f"/api/v1/regions/{region}/applications", headers=headers,
                           json={"process_key": key, "applicant": applicant or {}, "data": {}})
    assert response.status_code == 201, response.json
    body: dict[str, Any] = response.json
    return body


def ready(client: FlaskClient, headers: dict[str, str], app_id: str) -> dict[str, Any]:
    tasks = client.get(f"/api/v1/applications/{app_id}", headers=headers).json["tasks"]
    (task,) = [t for t in tasks if t["state"] == "ready"]
    return task


def package_zip(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, f"{directory.name}/{path.relative_to(directory).as_posix()}")
    return buffer.getvalue()


def declared_steps(bpmn: bytes) -> dict[str, tuple[str, str, int]]:
    """element id -> (role, sla, fee), read from the XML itself (an oracle independent of us)."""
    root = etree.fromstring(bpmn)
    ns = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
    lanes = {ref.text.strip(): lane.get("id").lower()
             for lane in root.iterfind(".//bpmn:lane", ns)
             for ref in lane.iterfind("bpmn:flowNodeRef", ns)}
    steps = {}
    for task in root.iterfind(".//bpmn:userTask", ns):
        props = {p.get("name"): p.get("value") for p in task.iterfind(".//camunda:property", ns)}
        # A step with a published fee formula declares no fixed fee: it shows 0.
        steps[task.get("id")] = (lanes[task.get("id")], props["sla"], int(props.get("fee", 0)))
    return steps


# -- models ----------------------------------------------------------------------------------


def test_a_zip_package_uploads_and_its_versions_read_back_byte_exact(
    client: FlaskClient, staff: Staff
) -> None:
    assert client.post("/api/v1/regions", json={"code": "3510", "name": "Kab. Banyuwangi"},
                       headers=staff.h("admin")).status_code == 201
    archive = package_zip(SIP)
    for expected_version in (1, 2):
        created = client.post("/api/v1/regions/3510/process-models", headers=staff.h("admin"),
                              data={"package": (io.BytesIO(archive), "sip-dokter.zip")},
                              content_type="multipart/form-data")
        assert created.status_code == 201, created.json
        body = created.json
        assert (body["key"], body["version"], body["region"]) == ("sip-dokter", expected_version, "3510")
        assert body["title"] == "Surat Izin Praktik Dokter (SIP)" and body["process_sla"] == "P10D"

    listed = client.get("/api/v1/regions/3510/process-models", headers=staff.h("admin")).json
    assert [(m["key"], m["latest_version"], m["title"]) for m in listed] == [
        ("sip-dokter", 2, "Surat Izin Praktik Dokter (SIP)")]
    versions = client.get("/api/v1/regions/3510/process-models/sip-dokter", headers=staff.h("admin")).json
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["bpmn_sha256"] == versions[1]["bpmn_sha256"]
    assert all(v["bpmn"] is None for v in versions)  # listings carry no blobs

    one = client.get("/api/v1/regions/3510/process-models/sip-dokter/versions/1",
                     headers=staff.h("admin")).json
    assert one["bpmn"].encode("utf-8") == (SIP / "model.bpmn").read_bytes()
    assert one["forms"] == {p.name: json.loads(p.read_bytes()) for p in (SIP / "forms").glob("*.json")}
    assert one["standard"] == json.loads((SIP / "standard.json").read_bytes())
    declared = declared_steps((SIP / "model.bpmn").read_bytes())
    assert {s["element_id"]: (s["role"], s["sla"], s["fee"]) for s in one["steps"]} == declared


def test_the_service_standard_is_public_with_steps_in_order_and_totals(
    client: FlaskClient, staff: Staff
) -> None:
    forms = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted((PBG / "forms").glob("*.json"))]
    created = client.post("/api/v1/regions/3273/process-models", headers=staff.h("analyst"),
                          content_type="multipart/form-data", data={
                              "bpmn": (io.BytesIO((PBG / "model.bpmn").read_bytes()), "model.bpmn"),
                              "forms": forms,
                              "standard": (io.BytesIO((PBG / "standard.json").read_bytes()),
                                           "standard.json")})
    assert created.status_code == 201, created.json
    response = client.get("/api/v1/regions/3273/process-models/pbg/versions/1/service-standard")
    assert response.status_code == 200 and response.mimetype == "application/json"
    standard = response.json
    procedure = standard["procedure"]
    assert [s["order"] for s in procedure] == list(range(1, len(procedure) + 1))
    declared = declared_steps((PBG / "model.bpmn").read_bytes())
    assert {s["element_id"]: (s["role"], s["sla"], s["fee"]) for s in procedure} == declared
    assert all(s["name"] for s in procedure)
    assert procedure[0]["role"] == "front-office"
    assert standard["totals"]["fee"] == sum(s["fee"] for s in procedure) == 0  # all in the formula
    (pay,) = [s for s in procedure if "fee_formula" in s]
    assert (pay["element_id"], pay["fee_formula"]["name"]) == ("pay_retribution", "retribusi_pbg")
    (formula,) = standard["totals"]["fee_formulas"]
    assert formula["sha256"] == pay["fee_formula"]["sha256"] and "expression" in formula
    assert standard["totals"]["currency"] == "IDR"
    assert standard["totals"]["legal_sla"] is not None and not standard["totals"]["legal_sla_is_backstop"]
    assert standard["standard"] == json.loads((PBG / "standard.json").read_bytes())
    assert (standard["region"], standard["key"], standard["version"]) == ("3273", "pbg", 1)
    # Public also means: no token needed, and a bad token is not even looked at.
    assert client.get("/api/v1/regions/3273/process-models/pbg/versions/1/service-standard",
                      headers=bearer("pf_wrong")).status_code == 200


# -- applications and inboxes ----------------------------------------------------------------


def test_applications_start_list_and_read_with_filters(
    client: FlaskClient, ctx: EngineContext, staff: Staff, clock: Clock
) -> None:
    upload(ctx, "3273", tiny_bpmn(key="alpha", steps=1, sla="P1D"))
    upload(ctx, "3273", tiny_bpmn(key="beta", steps=2, sla="P1D"))
    officer = staff.h("officer")
    first = start(client, officer, "alpha", {"name": "Siti"})
    assert re.fullmatch(r"PF(-[0-9A-Z]{4}){4}", first["tracking_code"])
    assert (first["status"], first["process_key"], first["version"], first["region"]) == (
        "running", "alpha", 1, "3273")
    (task,) = first["tasks"]
    assert task["state"] == "ready" and task["sla"] == "P1D"
    assert task["due_at"] == "2026-03-03T09:00:00+00:00"  # Tue 16:00 WIB, with its offset
    clock.advance(minutes=1)
    second = start(client, officer, "alpha")
    clock.advance(minutes=1)
    third = start(client, officer, "beta")
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=officer, json={"data": {}})
    assert done.status_code == 200 and done.json["status"] == "completed"

    def ids(query: str, headers: dict[str, str] = officer) -> list[str]:
        response = client.get(f"/api/v1/applications{query}", headers=headers)
        assert response.status_code == 200, response.json
        assert response.json["total"] == len(response.json["items"]) or "limit" in query
        return [a["id"] for a in response.json["items"]]

    assert ids("") == [third["id"], second["id"], first["id"]]  # newest first
    assert ids("?status=running") == [third["id"], second["id"]]
    assert ids("?status=completed") == [first["id"]]
    assert ids("?status=cancelled") == []
    assert ids("?process=beta") == [third["id"]]
    assert ids("?process=alpha&status=running") == [second["id"]]
    assert ids("?overdue=true") == []
    page = client.get("/api/v1/applications?limit=1&offset=1", headers=officer).json
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    assert [a["id"] for a in page["items"]] == [second["id"]]
    clock.now = datetime(2026, 3, 4, 10, 0, tzinfo=WIB)  # past Tue 16:00
    assert ids("?overdue=true") == [third["id"], second["id"]]
    assert ids("?overdue=true&process=beta") == [third["id"]]
    assert ids("", staff.h("supervisor")) == [third["id"], second["id"], first["id"]]

    one = client.get(f"/api/v1/applications/{first['id']}", headers=officer).json
    assert one["status"] == "completed" and one["completed_at"]
    assert [t["state"] for t in one["tasks"]] == ["completed"]
    assert [h["action"] for h in one["history"]] == [
        "application.started", "task.completed", "application.completed"]
    late = client.get(f"/api/v1/applications/{second['id']}", headers=officer).json
    # Its step is late; the application's own process SLA (P5D backstop) is not yet.
    assert late["tasks"][0]["overdue"] and late["due_at"] == "2026-03-09T09:00:00+00:00"


def test_inbox_paging_assignment_and_role_filter(
    client: FlaskClient, ctx: EngineContext, staff: Staff, clock: Clock
) -> None:
    upload(ctx, "3273", tiny_bpmn(key="front", steps=1, role="front-office"))
    upload(ctx, "3273", tiny_bpmn(key="tech", steps=1, role="technical-team"))
    for key in ["front"] * 5 + ["tech"] * 2:
        start(client, staff.h("officer"), key)
        clock.advance(minutes=1)
    both = staff.h("both")

    def inbox(query: str = "", headers: dict[str, str] = both) -> dict[str, Any]:
        response = client.get(f"/api/v1/tasks{query}", headers=headers)
        assert response.status_code == 200, response.json
        body: dict[str, Any] = response.json
        return body

    everything = inbox()
    assert everything["total"] == 7 and len(everything["items"]) == 7
    ready_at = [t["ready_at"] for t in everything["items"]]
    assert ready_at == sorted(ready_at)
    pages = [inbox(f"?limit=3&offset={offset}") for offset in (0, 3, 6)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert all(p["total"] == 7 and p["limit"] == 3 for p in pages)
    assert [t["id"] for p in pages for t in p["items"]] == [t["id"] for t in everything["items"]]
    assert inbox("?offset=7")["items"] == []

    assert inbox("?role=technical-team")["total"] == 2
    assert {t["role"] for t in inbox("?role=technical-team")["items"]} == {"technical-team"}
    assert inbox("?role=front-office")["total"] == 5
    assert inbox("?role=head-of-office")["total"] == 0  # a role the caller does not hold
    assert inbox(headers=staff.h("officer"))["total"] == 5
    assert inbox(headers=staff.h("tech"))["total"] == 2
    assert inbox("?role=technical-team", staff.h("officer"))["total"] == 0

    for task in everything["items"][:2]:
        assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=both).status_code == 200
    mine = inbox("?assigned=me")
    assert mine["total"] == 2
    assert {t["claimed_by"] for t in mine["items"]} == {staff.ids["both"]}
    assert inbox("?assigned=me", staff.h("officer"))["total"] == 0
    # Claimed tasks stay in the role inbox of others (they see who holds them).
    assert inbox(headers=staff.h("officer"))["total"] == 5
    assert client.get("/api/v1/tasks?limit=201", headers=both).status_code == 422


def test_claim_and_unclaim_by_holder_supervisor_and_others(
    client: FlaskClient, ctx: EngineContext, staff: Staff
) -> None:
    upload(ctx, "3273", tiny_bpmn(key="claims", steps=1))
    app = start(client, staff.h("officer"), "claims")
    task_id = app["tasks"][0]["id"]
    url = f"/api/v1/tasks/{task_id}"
    claimed = client.post(f"{url}/claim", headers=staff.h("officer"))
    assert claimed.status_code == 200 and claimed.json["claimed_by"] == staff.ids["officer"]
    assert client.post(f"{url}/claim", headers=staff.h("officer")).json["claimed_by"] == staff.ids["officer"]

    other = staff.h("officer2")
    refused = client.post(f"{url}/claim", headers=other)
    assert refused.status_code == 409 and refused.json["type"] == "task-claimed"
    refused = client.post(f"{url}/complete", headers=other, json={"data": {}})
    assert refused.status_code == 409 and refused.json["type"] == "task-claimed"
    refused = client.post(f"{url}/unclaim", headers=other)
    assert refused.status_code == 403 and refused.json["type"] == "forbidden"
    refused = client.post(f"{url}/claim", headers=staff.h("tech"))  # not the step's role
    assert refused.status_code == 403

    released = client.post(f"{url}/unclaim", headers=staff.h("supervisor"), json={"reason": "Ani cuti"})
    assert released.status_code == 200 and released.json["claimed_by"] is None
    assert client.post(f"{url}/claim", headers=other).json["claimed_by"] == staff.ids["officer2"]
    released = client.post(f"{url}/unclaim", headers=other)  # the holder may release, no body
    assert released.status_code == 200 and released.json["claimed_by"] is None
    audit = client.get(f"/api/v1/applications/{app['id']}/audit", headers=staff.h("officer")).json
    unclaims = [e for e in audit if e["action"] == "task.unclaimed"]
    assert [e["reason"] for e in unclaims] == ["Ani cuti", None]

    assert client.post(f"{url}/complete", headers=other, json={"data": {}}).status_code == 200
    for action in ("claim", "unclaim"):
        late = client.post(f"{url}/{action}", headers=staff.h("officer"))
        assert late.status_code == 409 and late.json["type"] == "task-not-ready", action


# -- fees, payments, audit, cancellation -----------------------------------------------------


@pytest.fixture
def paying(client: FlaskClient, ctx: EngineContext, staff: Staff) -> dict[str, Any]:
    upload(ctx, "3273", tiny_bpmn(key="pbg", steps=2, fee=str(FEE)))
    return start(client, staff.h("officer"), "pbg", {"name": "Budi"})


def test_payments_are_exact_integers_with_unique_references_and_receipts(
    client: FlaskClient, staff: Staff, paying: dict[str, Any]
) -> None:
    app_id, cashier = paying["id"], staff.h("cashier")
    fees_url, pay_url = f"/api/v1/applications/{app_id}/fees", f"/api/v1/applications/{app_id}/payments"
    (item,) = client.get(fees_url, headers=cashier).json
    assert (item["amount"], item["status"], item["currency"], item["receipt_no"]) == (FEE, "open", "IDR", None)
    task = paying["tasks"][0]
    unpaid = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=staff.h("officer"), json={"data": {}})
    assert unpaid.status_code == 409 and unpaid.json["type"] == "fee-unpaid"
    assert unpaid.mimetype == "application/problem+json"

    def pay(amount: Any, reference: str = "BJB-0001", fee_item: str | None = None,
            headers: dict[str, str] = cashier) -> Any:
        return client.post(pay_url, headers=headers, json={
            "fee_item": fee_item or item["fee_item"], "amount": amount, "reference": reference,
            "channel": "virtual_account"})

    for wrong in (FEE + 1, FEE - 1, float(FEE), str(FEE), -FEE, 0, True, None, 2.7e6):
        refused = pay(wrong)
        assert refused.status_code == 422, (wrong, refused.json)
        assert refused.mimetype == "application/problem+json"
        assert [e["field"].lstrip("/") for e in refused.json["errors"]] == ["amount"], (wrong, refused.json)
    assert pay(FEE, headers=staff.h("tech")).status_code == 403
    assert pay(FEE, reference="x").status_code == 422  # too short to be a bank reference
    assert client.get(fees_url, headers=cashier).json[0]["status"] == "open"  # nothing recorded

    paid = pay(FEE)
    assert paid.status_code == 201, paid.json
    receipt = paid.json["receipt_no"]
    assert re.fullmatch(r"3273/2\d{3}/\d{6}", receipt), receipt
    assert paid.json["status"] == "paid" and paid.json["payment"]["reference"] == "BJB-0001"
    assert paid.json["payment"]["amount"] == FEE and paid.json["payment"]["receipt_no"] == receipt
    closed = pay(FEE, reference="BJB-0002")
    assert closed.status_code == 409 and closed.json["type"] == "conflict"
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", headers=staff.h("officer"),
                       json={"data": {}}).status_code == 200

    second = next(i for i in client.get(fees_url, headers=cashier).json if i["status"] == "open")
    duplicate = pay(FEE, reference="BJB-0001", fee_item=second["fee_item"])
    assert duplicate.status_code == 409 and duplicate.json["type"] == "already-exists"
    again = pay(FEE, reference="BJB-0003", fee_item=second["fee_item"])
    assert again.status_code == 201 and again.json["receipt_no"] > receipt
    items = client.get(fees_url, headers=cashier).json
    assert [(i["status"], i["payment"]["reference"]) for i in items] == [
        ("paid", "BJB-0001"), ("paid", "BJB-0003")]
    assert client.post(f"/api/v1/applications/{app_id}/payments", headers=cashier, json={
        "fee_item": str(uuid.uuid4()), "amount": FEE, "reference": "BJB-0004"}).status_code == 404


def test_the_audit_log_is_hash_chained_and_ordered(
    client: FlaskClient, staff: Staff, paying: dict[str, Any]
) -> None:
    app_id = paying["id"]
    item = client.get(f"/api/v1/applications/{app_id}/fees", headers=staff.h("cashier")).json[0]
    client.post(f"/api/v1/applications/{app_id}/payments", headers=staff.h("cashier"), json={
        "fee_item": item["fee_item"], "amount": FEE, "reference": "BJB-0100"})
    task = paying["tasks"][0]
    client.post(f"/api/v1/tasks/{task['id']}/claim", headers=staff.h("officer"))
    client.post(f"/api/v1/tasks/{task['id']}/complete", headers=staff.h("officer"), json={"data": {}})
    events = client.get(f"/api/v1/applications/{app_id}/audit", headers=staff.h("officer")).json
    assert [e["action"] for e in events] == [
        "application.started", "fee.billed", "payment.recorded", "task.claimed", "task.completed",
        "fee.billed"]  # the second step's fee opens with its billing code
    # The application's own chain (issue #16): every event, in order, linked to the one before.
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for earlier, later in itertools.pairwise(events):
        assert re.fullmatch(r"[0-9a-f]{64}", later["hash"]) and later["hash"] != earlier["hash"]
        assert later["prev_hash"] == earlier["hash"]
    assert {e["chain"] for e in events} == {app_id}
    assert events[1]["data"]["amount"] == FEE and events[1]["data"]["billing_code"]
    payment = events[2]
    assert payment["data"]["amount"] == FEE and payment["data"]["reference"] == "BJB-0100"
    assert payment["actor"].startswith(f"user:{staff.ids['cashier']}:")


def test_the_chain_heads_and_region_roots_are_public_and_match_the_last_events(
    client: FlaskClient, ctx: EngineContext, staff: Staff, paying: dict[str, Any]
) -> None:
    heads = client.get("/api/v1/audit/heads")  # no token: meant to be copied anywhere
    assert heads.status_code == 200
    (bandung,) = [h for h in heads.json if h["chain"] == "3273"]  # events of no application
    assert set(bandung) == {"chain", "seq", "hash", "published_at"}
    assert not [h for h in heads.json if h["chain"].startswith("root:")]  # none sealed yet
    worker.run_pass(ctx)
    heads = client.get("/api/v1/audit/heads").json
    (root,) = [h for h in heads if h["chain"] == "root:3273"]
    # The root covers the heads of the region's chains that grew: the application's, whose
    # head is its last event, and the region's own.
    events = client.get(f"/api/v1/applications/{paying['id']}/audit",
                        headers=staff.h("officer")).json
    leaves = sorted([Leaf(paying["id"], events[-1]["seq"], events[-1]["hash"]),
                     Leaf("3273", bandung["seq"], bandung["hash"])])
    assert (root["seq"], root["hash"]) == (1, root_hash("3273", 1, GENESIS, leaves))


def test_a_supervisor_retries_an_application_stopped_by_an_error(
    client: FlaskClient, ctx: EngineContext, staff: Staff
) -> None:
    upload(ctx, "3273", tiny_bpmn(key="hitung", steps=1, script="total = amount * 2"))
    app = start(client, staff.h("officer"), "hitung")
    url = f"/api/v1/applications/{app['id']}/retry"
    running = client.post(url, headers=staff.h("supervisor"), json={"reason": "coba"})
    assert running.status_code == 409 and running.json["type"] == "application-not-in-error"
    assert running.mimetype == "application/problem+json"
    task = app["tasks"][0]
    failed = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=staff.h("officer"),
                         json={"data": {}}).json
    assert failed["status"] == "error"
    refused = client.post(url, headers=staff.h("officer"), json={"reason": "x"})
    assert refused.status_code == 403
    missing = client.post(url, headers=staff.h("supervisor"), json={"data": {"amount": 2}})
    assert missing.status_code == 422 and "reason" in str(missing.json)
    done = client.post(url, headers=staff.h("supervisor"),
                       json={"reason": "luas dilengkapi", "data": {"amount": 2}})
    assert done.status_code == 200 and done.json["status"] == "completed", done.json


def test_a_supervisor_cancels_with_a_reason_and_fee_items_stay_marked(
    client: FlaskClient, staff: Staff, paying: dict[str, Any]
) -> None:
    app_id = paying["id"]
    url = f"/api/v1/applications/{app_id}/cancel"
    assert client.post(url, headers=staff.h("officer"), json={"reason": "ditarik"}).status_code == 403
    assert client.post(url, headers=staff.h("supervisor"), json={"reason": ""}).status_code == 422
    assert client.post(url, headers=staff.h("supervisor"), json={}).status_code == 422
    cancelled = client.post(url, headers=staff.h("supervisor"), json={"reason": "ditarik pemohon"})
    assert cancelled.status_code == 200, cancelled.json
    assert (cancelled.json["status"], cancelled.json["cancelled_reason"]) == ("cancelled", "ditarik pemohon")
    assert [t["state"] for t in cancelled.json["tasks"]] == ["cancelled"]
    (item,) = client.get(f"/api/v1/applications/{app_id}/fees", headers=staff.h("officer")).json
    assert (item["status"], item["cancelled_reason"], item["amount"]) == ("cancelled", "ditarik pemohon", FEE)
    again = client.post(url, headers=staff.h("supervisor"), json={"reason": "lagi"})
    assert again.status_code == 409 and again.json["type"] == "application-not-running"
    late = client.post(f"/api/v1/applications/{app_id}/payments", headers=staff.h("cashier"), json={
        "fee_item": item["fee_item"], "amount": FEE, "reference": "BJB-0200"})
    assert late.status_code == 409
    task = paying["tasks"][0]
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", headers=staff.h("officer"),
                       json={"data": {}}).status_code == 409
    events = client.get(f"/api/v1/applications/{app_id}/audit", headers=staff.h("officer")).json
    assert events[-1]["action"] == "application.cancelled" and events[-1]["reason"] == "ditarik pemohon"
    assert client.get("/api/v1/applications?status=cancelled", headers=staff.h("officer")).json["total"] == 1


# -- public tracking -------------------------------------------------------------------------

PERSONAL = {"name": "Siti Aminah Wulandari", "nik": "3273014501900002",
            "address": "Jl. Braga No. 17, Sumur Bandung", "phone": "081234567890",
            "email": "siti.aminah@example.com"}


def test_tracking_shows_progress_without_any_personal_data(
    client: FlaskClient, ctx: EngineContext, staff: Staff
) -> None:
    upload(ctx, "3273", tiny_bpmn(key="izin", steps=2, fee="150000"))
    app = start(client, staff.h("officer"), "izin", PERSONAL)
    item = client.get(f"/api/v1/applications/{app['id']}/fees", headers=staff.h("cashier")).json[0]
    client.post(f"/api/v1/applications/{app['id']}/payments", headers=staff.h("cashier"), json={
        "fee_item": item["fee_item"], "amount": 150000, "reference": "BJB-7777"})
    done = client.post(f"/api/v1/tasks/{app['tasks'][0]['id']}/complete", headers=staff.h("officer"),
                       json={"data": {**PERSONAL, "catatan": f"diterima dari {PERSONAL['name']}"}})
    assert done.status_code == 200, done.json
    code = app["tracking_code"]
    forbidden = [*PERSONAL.values(), "Siti", "Wulandari", "Braga", "0812", "Pegawai", "BJB-7777"]

    public = client.get(f"/track/{code}")
    assert public.status_code == 200 and public.mimetype == "application/json"
    body = public.json
    assert body["tracking_code"] == code and body["status"] == "running"
    assert [s["name"] for s in body["steps_done"]] == ["Langkah 1"]
    assert [s["name"] for s in body["current_steps"]] == ["Langkah 2"]
    assert body["fees"][0]["status"] == "paid" and body["fees"][0]["receipt_no"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", body["submitted_at"])
    for response in (public, client.get(f"/track/{code}", headers={"Accept": "text/html"}),
                     client.get(f"/track/{code}?lang=en", headers={"Accept": "text/html"})):
        text = response.get_data(as_text=True)
        for personal in forbidden:
            assert personal not in text, personal

    client.delete_cookie("pf_session")  # ?lang=en above is remembered; a new visitor here
    html = client.get(f"/track/{code}", headers={"Accept": "text/html,application/xhtml+xml"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    assert '<html lang="id">' in page and "Lacak permohonan" in page and "Tahap saat ini" in page
    assert "Lunas" in page and "Rp 150.000" in page and "WIB" in page
    english = client.get(f"/track/{code}?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Track application" in english and "Paid" in english
    client.delete_cookie("pf_session")  # the switch is remembered in the session: a new visitor
    by_header = client.get(f"/track/{code}", headers={"Accept": "text/html", "Accept-Language": "en-GB"})
    assert "Track application" in by_header.get_data(as_text=True)
    by_header = client.get(f"/track/{code}", headers={"Accept": "text/html", "Accept-Language": "id-ID,en;q=0.5"})
    assert "Lacak permohonan" in by_header.get_data(as_text=True)
    assert client.get(f"/track/{code.lower()}").status_code == 200  # codes are read aloud


@pytest.mark.parametrize("code", ["PF-0000-0000-0000-0000", "nonsense", "PF-' OR 1=1 --",
                                  "PF-ABCD-EFGH-JKMN-PQRS-TVWX", "PF-0000-0000-0000-0000%0A"])
def test_an_unknown_or_malformed_tracking_code_is_a_404_that_says_nothing(
    client: FlaskClient, code: str
) -> None:
    response = client.get(f"/track/{code}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.json == {"type": "not-found", "title": "Tidak ditemukan", "status": 404,
                             "detail": "no application has this tracking code",
                             "request_id": response.headers["X-Request-Id"]}
    page = client.get(f"/track/{code}", headers={"Accept": "text/html"})  # a person: a page
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Kode lacak tidak ditemukan" in page.get_data(as_text=True)


# -- calendars -------------------------------------------------------------------------------


def test_the_calendar_lists_named_closed_days(client: FlaskClient, staff: Staff) -> None:
    response = client.get("/api/v1/regions/3273/calendar?year=2026", headers=staff.h("officer"))
    assert response.status_code == 200, response.json
    calendar = response.json
    assert (calendar["year"], calendar["timezone"], calendar["opens"], calendar["closes"]) == (
        2026, "Asia/Jakarta", "07:30", "16:00")
    named = {d["day"]: d["reason"] for d in calendar["closed_days"]}
    assert named["2026-03-19"] == "Hari Suci Nyepi"
    assert named["2026-03-21"] == "Hari Raya Idul Fitri"
    cuti = {day for day, reason in named.items() if reason.startswith("Cuti Bersama")}
    assert {"2026-03-18", "2026-03-20", "2026-03-23", "2026-03-24", "2026-12-24"} <= cuti
    assert named["2026-08-17"] == "Hari Kemerdekaan Republik Indonesia"
    assert all(d["day"].startswith("2026-") for d in calendar["closed_days"])
    assert calendar["overrides"] == []


def test_calendar_overrides_are_for_supervisors_and_audited(
    client: FlaskClient, ctx: EngineContext, staff: Staff
) -> None:
    url = "/api/v1/regions/3273/calendar"
    flood = {"year": 2026, "overrides": [
        {"day": "2026-03-16", "kind": "closed", "reason": "Banjir Citarum"},
        {"day": "2026-12-24", "kind": "open", "reason": "Pelayanan tetap buka"}]}
    assert client.put(url, headers=staff.h("officer"), json=flood).status_code == 403
    response = client.put(url, headers=staff.h("supervisor"), json=flood)
    assert response.status_code == 200, response.json
    named = {d["day"]: d["reason"] for d in response.json["closed_days"]}
    assert named["2026-03-16"] == "Banjir Citarum" and "2026-12-24" not in named
    assert [(o["day"], o["kind"]) for o in response.json["overrides"]] == [
        ("2026-03-16", "closed"), ("2026-12-24", "open")]
    due = client.get("/api/v1/regions/3273/calendar/due?from=2026-03-13T10:00:00%2B07:00&sla=P1D").json
    assert due["due_local"] == "2026-03-17T16:00:00+07:00"  # Fri -> Mon is closed now -> Tue

    removed = client.put(url, headers=staff.h("supervisor"), json={"year": 2026, "overrides": []})
    assert removed.status_code == 200 and removed.json["overrides"] == []
    with ctx.uow() as uow:
        events = uow._session.scalars(select(EventRecord).where(
            EventRecord.subject == "calendar:3273").order_by(EventRecord.seq)).all()
        trail = [(e.action, e.reason, e.actor.split(":")[1]) for e in events]
    supervisor = str(staff.ids["supervisor"])
    assert trail == [
        ("calendar.override_added", "Banjir Citarum", supervisor),
        ("calendar.override_added", "Pelayanan tetap buka", supervisor),
        ("calendar.override_removed", "Banjir Citarum", supervisor),
        ("calendar.override_removed", "Pelayanan tetap buka", supervisor),
    ]


@pytest.mark.parametrize(("start_at", "sla", "due_local"), [
    ("2026-03-02T10:00:00+07:00", "P1D", "2026-03-03T16:00:00+07:00"),   # DESIGN §3
    ("2026-03-02T15:00:00+07:00", "PT4H", "2026-03-03T10:30:00+07:00"),  # DESIGN §3
    ("2026-03-17T10:00:00+07:00", "P1D", "2026-03-25T16:00:00+07:00"),   # README: Nyepi, Lebaran
])
def test_the_public_due_time_equals_the_cli_answer(
    client: FlaskClient, staff: Staff, db_url: str, monkeypatch: pytest.MonkeyPatch,
    start_at: str, sla: str, due_local: str,
) -> None:
    response = client.get("/api/v1/regions/3273/calendar/due", query_string={"from": start_at, "sla": sla})
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["due_local"] == due_local
    assert datetime.fromisoformat(answer["due_at"]) == datetime.fromisoformat(due_local)
    monkeypatch.setenv("PERMITFLOW_DATABASE_URL", db_url)
    contexts: list[EngineContext] = []
    real = cli.engine_context
    monkeypatch.setattr(cli, "engine_context", lambda: contexts.append(real()) or contexts[-1])
    try:
        result = CliRunner().invoke(cli.main, ["calendar", "due", "--region", "3273",
                                               "--from", start_at, "--sla", sla])
    finally:
        for context in contexts:
            context.session_factory.kw["bind"].dispose()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"due_at: {answer['due_at']}", f"local:  {answer['due_local']}"]


# -- reports ---------------------------------------------------------------------------------


def test_the_sla_report_over_http(
    client: FlaskClient, ctx: EngineContext, staff: Staff, clock: Clock
) -> None:
    upload(ctx, "3273", tiny_bpmn(key="lapor", steps=1, sla="PT4H"))
    apps = []
    for _ in range(3):
        apps.append(start(client, staff.h("officer"), "lapor"))  # ready Mon 10:00, due 14:00
    for app, hours in zip(apps[:2], (1, 5), strict=True):
        clock.now = MONDAY_10 + timedelta(hours=hours)
        client.post(f"/api/v1/tasks/{app['tasks'][0]['id']}/complete", headers=staff.h("officer"),
                    json={"data": {}})
    clock.now = MONDAY_10 + timedelta(hours=5)
    query = {"from": "2026-03-02T00:00:00+07:00", "to": "2026-03-03T00:00:00+07:00"}
    response = client.get("/api/v1/reports/sla", query_string=query, headers=staff.h("supervisor"))
    assert response.status_code == 200, response.json
    (row,) = response.json["steps"]
    assert row == {"region": "3273", "process_key": "lapor", "element_id": "step_1", "name": "Langkah 1",
                   "count": 2, "on_time_rate": 0.5, "median_hours": 3.0, "p90_hours": 5.0,
                   "overdue_now": 1}
    assert datetime.fromisoformat(response.json["generated_at"]) == clock.now
    assert datetime.fromisoformat(response.json["from"]) == datetime.fromisoformat(query["from"])
    assert client.get("/api/v1/reports/sla", query_string=query, headers=staff.h("officer")).status_code == 403
    backwards = {"from": query["to"], "to": query["from"]}
    assert client.get("/api/v1/reports/sla", query_string=backwards,
                      headers=staff.h("supervisor")).status_code == 422
