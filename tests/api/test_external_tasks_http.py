"""External tasks over HTTP: fetch-and-lock, extend-lock, failure, bpmn-error, complete."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.context import EngineContext
from tests.api.conftest import bearer
from tests.factories import FIXTURES, make_region, make_user, upload

MODELS = FIXTURES / "bpmn" / "external"


def test_external_tasks_over_http(app: Flask, client: FlaskClient) -> None:
    ctx: EngineContext = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", (MODELS / "external-task.bpmn").read_bytes())
    counter = bearer(make_user(ctx, "front-office", region="3273")[1])
    worker = bearer(make_user(ctx, "external-worker", region="3273")[1])
    ids = []
    for nib in ("1", "2"):
        started = client.post(
            "/api/v1/regions/3273/applications",
            json={"process_key": "external-task", "applicant": {}, "data": {"nib": nib}},
            headers=counter,
        )
        assert started.status_code == 201, started.json
        ids.append(started.json["id"])
    fetch = {"worker_id": "w1", "max_tasks": 5, "topics": [{"name": "oss-check-nib"}]}
    assert (
        client.post(
            "/api/v1/external-tasks/fetch-and-lock", json=fetch, headers=counter
        ).status_code
        == 403
    )
    no_lock = client.post("/api/v1/external-tasks/fetch-and-lock", json=fetch, headers=worker)
    assert no_lock.status_code == 422
    fetched = client.post(
        "/api/v1/external-tasks/fetch-and-lock",
        json={**fetch, "lock_duration": 60000},
        headers=worker,
    )
    assert fetched.status_code == 200, fetched.json
    tasks = {t["application_id"]: t for t in fetched.json}
    assert set(tasks) == set(ids)
    first, second = tasks[ids[0]], tasks[ids[1]]
    assert first["variables"] == {"nib": "1"} and first["topic"] == "oss-check-nib"
    url = "/api/v1/external-tasks/{}/{}"
    extended = client.post(
        url.format(first["id"], "extend-lock"),
        json={"worker_id": "w1", "new_duration": 5000},
        headers=worker,
    )
    assert extended.status_code == 200 and extended.json["worker_id"] == "w1"
    stale = client.post(
        url.format(first["id"], "complete"), json={"worker_id": "w2"}, headers=worker
    )
    assert stale.status_code == 409 and stale.json["type"].endswith("external-task-lock")
    done = client.post(
        url.format(first["id"], "complete"),
        json={"worker_id": "w1", "variables": {"valid": True}},
        headers=worker,
    )
    assert done.status_code == 200 and done.json["status"] == "completed"
    one = client.get(f"/api/v1/applications/{ids[0]}", headers=counter).json
    assert [t["element_id"] for t in one["tasks"]] == ["review"]
    caught = client.post(
        url.format(second["id"], "bpmn-error"),
        json={"worker_id": "w1", "code": "NIB_INVALID", "message": "tidak terdaftar"},
        headers=worker,
    )
    assert caught.status_code == 200 and caught.json["status"] == "completed"
    two = client.get(f"/api/v1/applications/{ids[1]}", headers=counter).json
    assert [t["element_id"] for t in two["tasks"]] == ["fix"]
    gone = client.post(
        url.format(second["id"], "failure"),
        json={"worker_id": "w1", "message": "x", "retries": 0},
        headers=worker,
    )
    assert gone.status_code == 409
    audit = client.get(f"/api/v1/applications/{ids[1]}/audit", headers=counter)
    actions = (
        [e["action"] for e in audit.json["events"]]
        if isinstance(audit.json, dict)
        else [e["action"] for e in audit.json]
    )
    assert "external_task.bpmn_error" in actions
