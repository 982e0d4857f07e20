"""Structured logs with request ids (issue #17 item 2), over HTTP and at the service layer."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.observability import JsonFormatter
from engine.context import EngineContext
from engine.domain import correlation
from engine.domain.actors import SYSTEM
from engine.persistence.tables import EventRecord
from engine.services import regions
from tests.ops.scenario import APPLICANT, start_body, world


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records]


def test_one_json_line_per_request_with_its_id(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(app)
    caplog.set_level(logging.INFO)
    answer = client.post(
        "/api/v1/regions/3273/applications",
        json=start_body(),
        headers={**w.officer, "X-Request-Id": "lb-7f3a.1"},
    )
    assert answer.status_code == 201
    assert answer.headers["X-Request-Id"] == "lb-7f3a.1"
    [line] = [x for x in _lines(caplog) if x["logger"] == "permitflow.access"]
    assert line["request_id"] == "lb-7f3a.1"
    assert line["route"] == "/api/v1/regions/<region>/applications"
    assert (line["method"], line["status"], line["region"]) == ("POST", 201, "3273")
    assert isinstance(line["actor"], int) and line["actor"] > 0
    assert isinstance(line["duration_ms"], float)


def test_a_missing_or_unusable_request_id_is_made_and_echoed_in_problems(
    client: FlaskClient,
) -> None:
    for given in (None, "x" * 129, "bad id\twith spaces", "ünïcode"):
        headers = {"X-Request-Id": given} if given else {}
        answer = client.get(f"/api/v1/applications/{uuid.uuid4()}", headers=headers)
        assert answer.status_code == 401
        rid = answer.headers["X-Request-Id"]
        assert rid != given and len(rid) == 32
        assert answer.get_json()["request_id"] == rid


def test_audit_events_name_the_request(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    started = client.post(
        "/api/v1/regions/3273/applications",
        json=start_body(),
        headers={**w.officer, "X-Request-Id": "req-start-1"},
    ).get_json()
    events = client.get(f"/api/v1/applications/{started['id']}/audit", headers=w.officer)
    items = events.get_json()
    started_event = next(e for e in items if e["action"] == "application.started")
    assert started_event["data"]["request_id"] == "req-start-1"


def test_events_carry_the_request_id_only_inside_a_request(ctx: EngineContext) -> None:
    regions.create_region(ctx, SYSTEM, "3273", "Kota Bandung", "Asia/Jakarta")
    token = correlation.request_id.set("svc-req-9")
    try:
        regions.create_region(ctx, SYSTEM, "3510", "Kab. Banyuwangi", "Asia/Jakarta")
    finally:
        correlation.request_id.reset(token)
    with ctx.session_factory() as session:
        data = [e.data for e in session.scalars(select(EventRecord).order_by(EventRecord.id))]
    assert [d.get("request_id") for d in data] == [None, "svc-req-9"]


def test_no_personal_data_in_any_log_line(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(app)
    caplog.set_level(logging.DEBUG)
    started = client.post(
        "/api/v1/regions/3273/applications", json=start_body(), headers=w.officer
    ).get_json()
    code = started["tracking_code"]
    client.get(f"/track/{code}")
    client.get(f"/track/{code}?name=Siti+Aminah")
    task = started["tasks"][0]["id"]
    client.post(f"/api/v1/tasks/{task}/complete", json={"data": {"nik": "bad"}}, headers=w.officer)
    client.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=w.officer)
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "permitflow.access" in text
    for secret in (*APPLICANT.values(), "Siti", code, w.token, "Dewi"):
        assert secret not in text, secret
