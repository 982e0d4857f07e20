"""Messages and process data over HTTP: `POST /api/v1/messages`, `GET .../variables`."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.context import EngineContext
from tests.api.conftest import bearer
from tests.factories import FIXTURES, make_region, make_user, upload

MODELS = FIXTURES / "bpmn" / "messages"


def _setup(app: Flask) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    ctx: EngineContext = app.extensions["permitflow"]
    make_region(ctx, "3273")
    for name in ("message-catch", "message-start"):
        upload(ctx, "3273", (MODELS / f"{name}.bpmn").read_bytes())
    counter = bearer(make_user(ctx, "front-office", region="3273")[1])
    bank = bearer(make_user(ctx, "integration", region="3273")[1])
    other = bearer(make_user(ctx, "cashier", region="3273")[1])
    return counter, bank, other


def test_messages_over_http(app: Flask, client: FlaskClient) -> None:
    counter, bank, cashier = _setup(app)
    started = client.post(
        "/api/v1/regions/3273/applications",
        json={"process_key": "message-catch", "applicant": {}, "data": {"nib": "77"}},
        headers=counter,
    )
    assert started.status_code == 201, started.json
    app_id = started.json["id"]
    body = {"name": "payment-confirmed", "correlation": {"nib": "77"}, "data": {"paid": 1}}
    refused = client.post("/api/v1/messages", json=body, headers=cashier)
    assert refused.status_code == 403
    delivered = client.post("/api/v1/messages", json={**body, "message_id": "m-1"}, headers=bank)
    assert delivered.status_code == 200, delivered.json
    assert delivered.json["id"] == app_id
    assert [t["element_id"] for t in delivered.json["tasks"]] == ["review"]
    again = client.post("/api/v1/messages", json={**body, "message_id": "m-1"}, headers=bank)
    assert again.status_code == 200 and again.json["id"] == app_id
    missing = client.post("/api/v1/messages", json=body, headers=bank)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    assert missing.json["type"].endswith("message-not-correlated")

    variables = client.get(f"/api/v1/applications/{app_id}/variables", headers=counter)
    assert variables.status_code == 200
    assert variables.json["variables"] == {"nib": "77", "paid": 1}
    assert client.get(f"/api/v1/applications/{app_id}/variables", headers=bank).status_code in (
        403,
        404,
    )


def test_message_start_and_ambiguity_over_http(app: Flask, client: FlaskClient) -> None:
    counter, bank, _ = _setup(app)
    plain = client.post(
        "/api/v1/regions/3273/applications",
        json={"process_key": "message-start", "applicant": {}, "data": {}},
        headers=counter,
    )
    assert plain.status_code == 409 and plain.json["type"].endswith("starts-by-message")
    started = client.post(
        "/api/v1/messages", json={"name": "oss-application-submitted"}, headers=bank
    )
    assert started.status_code == 200 and started.json["process_key"] == "message-start"
    for _ in range(2):
        client.post(
            "/api/v1/regions/3273/applications",
            json={"process_key": "message-catch", "applicant": {}, "data": {}},
            headers=counter,
        )
    several = client.post("/api/v1/messages", json={"name": "payment-confirmed"}, headers=bank)
    assert several.status_code == 409 and several.json["type"].endswith("message-ambiguous")
    bad = client.post("/api/v1/messages", json={"data": {}}, headers=bank)
    assert bad.status_code == 422
