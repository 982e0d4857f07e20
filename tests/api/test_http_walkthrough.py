"""The README walk-through over HTTP: region, users, upload, start, inbox, claim, complete."""

from __future__ import annotations

import io
import json

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer
from tests.factories import FIXTURES, make_user, tiny_bpmn

FORM = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}


def upload(
    client: FlaskClient, headers, bpmn: bytes, forms: dict[str, bytes] | None = None, region="3273"
):
    data = {"bpmn": (io.BytesIO(bpmn), "model.bpmn")}
    if forms:
        data["forms"] = [(io.BytesIO(body), name) for name, body in forms.items()]
    return client.post(
        f"/api/v1/regions/{region}/process-models",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def test_walkthrough(app: Flask, client: FlaskClient, admin) -> None:
    assert (
        client.post(
            "/api/v1/regions", json={"code": "3273", "name": "Kota Bandung"}, headers=admin
        ).status_code
        == 201
    )
    ctx = app.extensions["permitflow"]
    _, analyst = make_user(ctx, "analyst")
    _, officer = make_user(ctx, "front-office")
    form = json.dumps(FORM).encode()
    created = upload(client, bearer(analyst), tiny_bpmn(steps=2, form="f.json"), {"f.json": form})
    assert created.status_code == 201, created.json
    assert created.json["key"] == "tiny" and created.json["version"] == 1

    started = client.post(
        "/api/v1/regions/3273/applications",
        headers=bearer(officer),
        json={"process_key": "tiny", "applicant": {"name": "Siti"}, "data": {}},
    )
    assert started.status_code == 201, started.json
    app_id = started.json["id"]
    assert started.json["status"] == "running" and started.json["tracking_code"]

    inbox = client.get("/api/v1/tasks", headers=bearer(officer)).json
    assert inbox["total"] == 1
    task_id = inbox["items"][0]["id"]
    detail = client.get(f"/api/v1/tasks/{task_id}", headers=bearer(officer)).json
    assert detail["form_schema"] == FORM and detail["sla"] == "P1D" and detail["fee"] == 0
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=bearer(officer)).json["claimed_by"]

    bad = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=bearer(officer), json={"data": {"ok": "yes"}}
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["errors"][0]["field"] == "/ok"

    for _ in range(2):
        task_id = client.get("/api/v1/tasks", headers=bearer(officer)).json["items"][0]["id"]
        done = client.post(
            f"/api/v1/tasks/{task_id}/complete",
            headers=bearer(officer),
            json={"data": {"ok": True}},
        )
        assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"
    again = client.post(
        f"/api/v1/tasks/{task_id}/complete", headers=bearer(officer), json={"data": {"ok": True}}
    )
    assert again.status_code == 409 and again.json["type"] == "task-not-ready"
    one = client.get(f"/api/v1/applications/{app_id}", headers=bearer(officer)).json
    assert [h["action"] for h in one["history"]][-1] == "application.completed"
    listing = client.get("/api/v1/applications?status=completed", headers=bearer(officer)).json
    assert listing["total"] == 1


CAMUNDA = FIXTURES / "bpmn" / "camunda-pbg"
CAMUNDA_STEPS = [  # element id, data; the first check returns the file to the applicant once
    ("submit_application", {"building_function": "hunian", "floor_area": 96.5}),
    ("verify_documents", {"complete": False, "notes": "IMB lama belum dilampirkan"}),
    ("fix_documents", {"building_function": "hunian", "floor_area": 96.5}),
    ("verify_documents", {"complete": True}),
    ("technical_review", {}),
    ("pay_retribution", {"receipt_checked": True}),
    ("sign_permit", {}),
]


def test_camunda_modeler_file_uploads_unchanged_and_runs_to_the_end_over_http(
    app: Flask, client: FlaskClient, admin
) -> None:
    client.post("/api/v1/regions", json={"code": "3273", "name": "Kota Bandung"}, headers=admin)
    bpmn = (CAMUNDA / "model.bpmn").read_bytes()
    forms = {p.name: p.read_bytes() for p in (CAMUNDA / "forms").glob("*.json")}
    created = upload(client, admin, bpmn, forms)
    assert created.status_code == 201, created.json
    key = created.json["key"]
    stored = client.get(f"/api/v1/regions/3273/process-models/{key}/versions/1", headers=admin).json
    assert stored["bpmn"].encode() == bpmn
    started = client.post(
        "/api/v1/regions/3273/applications",
        headers=admin,
        json={"process_key": key, "applicant": {"name": "Budi"}, "data": {}},
    )
    assert started.status_code == 201, started.json
    app_id = started.json["id"]
    for element_id, data in CAMUNDA_STEPS:
        current = client.get(f"/api/v1/applications/{app_id}", headers=admin).json
        ready = {t["element_id"]: t for t in current["tasks"] if t["state"] == "ready"}
        assert element_id in ready, (element_id, sorted(ready))
        task = ready[element_id]
        if task["fee"]:
            refused = client.post(
                f"/api/v1/tasks/{task['id']}/complete", headers=admin, json={"data": data}
            )
            assert refused.status_code == 409 and refused.json["type"] == "fee-unpaid"
            item = next(f for f in current["fees"] if f["element_id"] == element_id)
            paid = client.post(
                f"/api/v1/applications/{app_id}/payments",
                headers=admin,
                json={
                    "fee_item": str(item["fee_item"]),
                    "amount": task["fee"],
                    "reference": "BJB-77001",
                },
            )
            assert paid.status_code == 201, paid.json
        done = client.post(
            f"/api/v1/tasks/{task['id']}/complete", headers=admin, json={"data": data}
        )
        assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"


def test_every_error_is_problem_json(client: FlaskClient, admin) -> None:
    for response, status in [
        (client.get("/api/v1/nowhere"), 404),
        (client.delete("/api/v1/regions", headers=admin), 405),
        (client.get("/api/v1/tasks"), 401),
        (client.get("/api/v1/tasks", headers=bearer("pf_wrong")), 401),
        (client.post("/api/v1/regions", json={"code": 5}, headers=admin), 422),
        (client.get("/api/v1/applications/not-a-uuid", headers=admin), 404),
        (
            client.post(
                "/api/v1/regions/9999/process-models",
                headers=admin,
                data=b"<x/>",
                content_type="application/xml",
            ),
            404,
        ),
    ]:
        assert response.status_code == status, (response.status_code, response.data)
        assert response.mimetype == "application/problem+json"
        body = response.json
        assert body["status"] == status and body["type"] and body["title"]


def test_bad_uploads_answer_422_with_located_problems(client: FlaskClient, admin) -> None:
    client.post("/api/v1/regions", json={"code": "3273", "name": "Kota Bandung"}, headers=admin)
    for body in [
        b"not xml",
        b"<a/>",
        b"",
        b"\x00\xff" * 100,
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        tiny_bpmn(fee="Rp 5.000"),
        tiny_bpmn(script="__import__('os').system('true')"),
    ]:
        response = upload(client, admin, body)
        assert response.status_code == 422, (body[:40], response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["errors"] and all("message" in e for e in response.json["errors"])
    assert client.get("/api/v1/regions", headers=admin).status_code == 200


def test_openapi_document_describes_the_api(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    for path in [
        "/api/v1/regions",
        "/api/v1/regions/{region}/process-models",
        "/api/v1/regions/{region}/applications",
        "/api/v1/applications/{application_id}",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}/complete",
        "/api/v1/regions/{region}/process-models/{key}/versions/{version}/service-standard",
    ]:
        assert path in paths, path
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_a_regions_current_service_standards_are_public(client: FlaskClient, admin) -> None:
    client.post("/api/v1/regions", json={"code": "3273", "name": "Kota Bandung"}, headers=admin)
    upload(client, admin, tiny_bpmn(key="a", fee="5000"))
    upload(client, admin, tiny_bpmn(key="a", fee="7000"))  # version 2 is current
    services = client.get("/api/v1/regions/3273/services").json
    assert [(s["key"], s["version"], s["totals"]["fee"]) for s in services] == [("a", 2, 14000)]
    assert client.get("/api/v1/regions/0000/services").status_code == 404
