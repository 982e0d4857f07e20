"""ETag and If-Match (issue #17 item 4): a stale If-Match answers 412 and changes nothing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.context import EngineContext
from engine.services import applications, tasks
from engine.services.etags import Kind, current_etag
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.ops.scenario import APPLICANT, start_body, world

START = "/api/v1/regions/3273/applications"


def test_a_stale_if_match_on_a_task_is_412_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)
    started = client.post(START, json=start_body(), headers=w.officer).get_json()
    task = started["tasks"][0]["id"]
    read = client.get(f"/api/v1/tasks/{task}", headers=w.officer)
    tag = read.headers["ETag"]
    assert client.get(f"/api/v1/tasks/{task}", headers=w.officer).headers["ETag"] == tag
    unchanged = client.get(f"/api/v1/tasks/{task}", headers={**w.officer, "If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    # Someone claims it: the task changed, the tag read before is stale.
    assert client.post(f"/api/v1/tasks/{task}/claim", headers=w.officer).status_code == 200
    stale = client.post(
        f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers={**w.officer, "If-Match": tag}
    )
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    assert stale.get_json()["type"] == "precondition-failed"
    fresh = client.get(f"/api/v1/tasks/{task}", headers=w.officer).headers["ETag"]
    assert stale.headers["ETag"] == fresh != tag
    app_view = client.get(f"/api/v1/applications/{started['id']}", headers=w.officer).get_json()
    assert [t["state"] for t in app_view["tasks"] if t["id"] == task] == ["ready"]
    done = client.post(
        f"/api/v1/tasks/{task}/complete",
        json={"data": {}},
        headers={**w.officer, "If-Match": fresh},
    )
    assert done.status_code == 200
    # No If-Match: no precondition (428 is never asked for).
    nxt = next(t["id"] for t in done.get_json()["tasks"] if t["state"] == "ready")
    plain = client.post(f"/api/v1/tasks/{nxt}/complete", json={"data": {}}, headers=w.officer)
    assert plain.status_code == 200, plain.get_json()


def test_application_etag_moves_with_every_change(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    started = client.post(START, json=start_body(), headers=w.officer).get_json()
    url = f"/api/v1/applications/{started['id']}"
    before = client.get(url, headers=w.officer).headers["ETag"]
    task = started["tasks"][0]["id"]
    client.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=w.officer)
    after = client.get(url, headers=w.officer).headers["ETag"]
    assert after != before
    ctx = app.extensions["permitflow"]
    _, boss = make_user(ctx, "supervisor", region="3273")
    stale = client.post(
        f"{url}/cancel",
        json={"reason": "duplikat"},
        headers={"Authorization": f"Bearer {boss}", "If-Match": before},
    )
    assert stale.status_code == 412
    assert client.get(url, headers=w.officer).get_json()["status"] == "running"


def test_calendar_and_model_updates_check_if_match(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    ctx = app.extensions["permitflow"]
    _, boss = make_user(ctx, "supervisor", region="3273")
    _, analyst = make_user(ctx, "analyst", region="3273")
    sup = {"Authorization": f"Bearer {boss}"}
    url = "/api/v1/regions/3273/calendar"
    tag = client.get(url, headers=sup).headers["ETag"]
    closed = {"year": 2026, "overrides": [{"day": "2026-03-16", "kind": "closed", "reason": "Banjir"}]}
    first = client.put(url, json=closed, headers={**sup, "If-Match": tag})
    assert first.status_code == 200
    again = client.put(url, json={"year": 2026, "overrides": []}, headers={**sup, "If-Match": tag})
    assert again.status_code == 412
    assert client.get(url, headers=sup).get_json()["overrides"] != []
    models = {"Authorization": f"Bearer {analyst}"}
    base = "/api/v1/regions/3273/process-models/tiny"
    model_tag = client.get(f"{base}/versions/1", headers=models).headers["ETag"]
    assert client.get(base, headers=models).headers["ETag"] == model_tag
    upload(ctx, "3273", tiny_bpmn(steps=3))  # version 2: the model changed
    retire = client.post(f"{base}/versions/1/retire", headers={**models, "If-Match": model_tag})
    assert retire.status_code == 412
    assert w.officer  # the officer's world stays as it was


def test_another_regions_resource_is_404_whatever_the_if_match(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)
    task = client.post(START, json=start_body(), headers=w.officer).get_json()["tasks"][0]["id"]
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3510")
    _, other = make_user(ctx, "front-office", region="3510")
    answer = client.post(
        f"/api/v1/tasks/{task}/complete",
        json={"data": {}},
        headers={"Authorization": f"Bearer {other}", "If-Match": '"stale"'},
    )
    assert answer.status_code == 404


def test_service_etags_follow_the_version_counters(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    actor, _ = make_user(ctx, "front-office", region="3273")
    view = applications.start_application(ctx, actor, "3273", "tiny", dict(APPLICANT), {})
    app_tag = current_etag(ctx, actor, Kind.APPLICATION, str(view.id))
    task_tag = current_etag(ctx, actor, Kind.TASK, str(view.tasks[0].id))
    tasks.claim_task(ctx, actor, view.tasks[0].id)
    assert current_etag(ctx, actor, Kind.TASK, str(view.tasks[0].id)) != task_tag
    tasks.complete_task(ctx, actor, view.tasks[0].id, {})
    assert current_etag(ctx, actor, Kind.APPLICATION, str(view.id)) != app_tag
    assert current_etag(ctx, actor, Kind.CALENDAR, "9999") is None
    assert current_etag(ctx, actor, Kind.MODEL, "3273", "absent") is None
