"""Constructs other tools draw, over HTTP (issue #10): upload, start, work every step."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import bearer
from tests.factories import FIXTURES, make_region, make_user

MODELS = FIXTURES / "bpmn" / "runtime"


@pytest.fixture
def admin(app) -> dict[str, str]:
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    _, token = make_user(ctx, "admin", region=None, name="admin")
    return bearer(token)


def upload(client: FlaskClient, headers: dict[str, str], name: str) -> Any:
    bpmn = (MODELS / f"{name}.bpmn").read_bytes()
    return client.post("/api/v1/regions/3273/process-models", headers=headers,
                       content_type="multipart/form-data",
                       data={"bpmn": (io.BytesIO(bpmn), f"{name}.bpmn")})


def run(client: FlaskClient, headers: dict[str, str], name: str, data: dict[str, Any],
        order: list[str], step_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Upload `name`, start it with `data`, complete the steps in `order`; the application."""
    created = upload(client, headers, name)
    assert created.status_code == 201, created.json
    started = client.post("/api/v1/regions/3273/applications", headers=headers,
                          json={"process_key": created.json["key"], "applicant": {}, "data": data})
    assert started.status_code == 201, started.json
    app = started.json
    for element_id in order:
        tasks = client.get(f"/api/v1/applications/{app['id']}", headers=headers).json["tasks"]
        task = next(t for t in tasks if t["state"] == "ready" and t["element_id"] == element_id)
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers,
                           json={"data": step_data or {}})
        assert done.status_code == 200, done.json
        assert all(t["state"] == "ready" for t in done.json["tasks"])  # the bounded answer
        app = done.json
    # The whole application, every task it had, is one GET away.
    full = client.get(f"/api/v1/applications/{app['id']}", headers=headers)
    assert full.status_code == 200
    return full.json


@pytest.mark.parametrize(("name", "order"), [
    ("subprocess_first", ["fill", "check", "approve"]),
    ("transaction", ["register", "survey", "report"]),
])
def test_steps_inside_sub_processes_are_worked_over_http(
    client: FlaskClient, admin: dict[str, str], name: str, order: list[str]
) -> None:
    app = run(client, admin, name, {}, order)
    assert app["status"] == "completed"
    assert [t["element_id"] for t in app["tasks"]] == order


@pytest.mark.parametrize(("name", "element_id", "words"), [
    ("data_object_output", "record", "decision"),
    ("mi_completion_condition", "assess", "approved"),
])
def test_an_error_inside_a_step_puts_the_application_in_error_over_http(
    client: FlaskClient, admin: dict[str, str], name: str, element_id: str, words: str
) -> None:
    app = run(client, admin, name, {}, [element_id])
    assert app["status"] == "error"
    assert app["error"]["element_id"] == element_id and words in app["error"]["message"]


def test_a_lane_no_user_can_hold_is_refused_at_upload_with_its_line(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    bpmn = (MODELS / "transaction.bpmn").read_text()
    bpmn = bpmn.replace('<bpmn:lane id="Lane_2" name="technical-team">',
                        '<bpmn:lane id="_937b5086-1d2a-4f4e-9c1b-5a1f3c0e2d11">')
    response = client.post("/api/v1/regions/3273/process-models", headers=admin,
                           content_type="multipart/form-data",
                           data={"bpmn": (io.BytesIO(bpmn.encode()), "transaction.bpmn")})
    assert response.status_code == 422
    (error,) = response.json["errors"]
    line = next(n for n, text in enumerate(bpmn.splitlines(), 1) if "_937b5086" in text)
    assert (error["element_id"], error["line"], error["field"]) == (
        "_937b5086-1d2a-4f4e-9c1b-5a1f3c0e2d11", line, "role")
    assert "without a name" in error["message"] and " at 0x" not in error["message"]


def test_an_error_event_sub_process_runs_over_http(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    app = run(client, admin, "error_event_subprocess", {}, ["review", "notify"],
              {"rejected": True})
    assert app["status"] == "completed"
    assert [(t["element_id"], t["state"]) for t in app["tasks"]] == [
        ("review", "completed"), ("notify", "completed")]
