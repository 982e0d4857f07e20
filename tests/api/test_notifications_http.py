"""Notifications over HTTP (admin): channels per region, the outbox, re-queuing a dead letter."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.context import EngineContext
from engine.services.delivery import deliver_due
from tests.api.conftest import bearer
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.support.receivers import Hook, webhook_receiver

SECRET = "http-test-secret-0123456789"


def test_channels_outbox_and_requeue_over_http(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    ctx: EngineContext = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=1))
    counter = bearer(make_user(ctx, "front-office", region="3273")[1])
    base = "/api/v1/regions/3273/notification-channels"

    bad = client.post(base, json={"name": "wa", "kind": "webhook",
                                  "settings": {"url": "gopher://x"}}, headers=admin)
    assert bad.status_code == 422
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json["errors"]} == {"settings.url", "secret"}
    assert client.post(base, json={"name": "x", "kind": "webhook", "settings": {}},
                       headers=counter).status_code == 403

    hook = Hook(SECRET, fail=99)
    with webhook_receiver(hook) as url:
        body = {"name": "Gateway WA", "kind": "webhook", "secret": SECRET,
                "settings": {"url": url}, "events": ["application.received"]}
        added = client.post(base, json=body, headers=admin)
        assert added.status_code == 201, added.json
        assert added.json["secret_set"] is True and "secret" not in added.json
        listed = client.get(base, headers=admin)
        assert [c["id"] for c in listed.json] == [added.json["id"]]
        assert SECRET not in listed.get_data(as_text=True)

        started = client.post("/api/v1/regions/3273/applications",
                              json={"process_key": "tiny", "applicant": {"name": "A"},
                                    "data": {}}, headers=counter)
        assert started.status_code == 201, started.json
        ctx.delivery = type(ctx.delivery)(max_attempts=1)
        assert deliver_due(ctx).dead == 1

    dead = client.get("/api/v1/regions/3273/notifications?status=dead", headers=admin)
    assert dead.status_code == 200 and dead.json["total"] == 1
    (item,) = dead.json["items"]
    assert (item["event"], item["last_error"], item["recipients"]) == (
        "application.received", "webhook: HTTP 500", 0)
    requeued = client.post(f"/api/v1/notifications/{item['id']}/requeue", headers=admin)
    assert requeued.status_code == 200 and requeued.json["status"] == "pending"
    again = client.post(f"/api/v1/notifications/{item['id']}/requeue", headers=admin)
    assert again.status_code == 409
    assert client.get("/api/v1/regions/3273/notifications?status=lost",
                      headers=admin).status_code == 422

    changed = client.put(f"/api/v1/notification-channels/{added.json['id']}",
                         json={**body, "secret": None, "language": "en"}, headers=admin)
    assert changed.status_code == 200 and changed.json["language"] == "en"
    removed = client.delete(f"/api/v1/notification-channels/{added.json['id']}", headers=admin)
    assert removed.status_code == 200 and removed.json["active"] is False
    assert client.delete("/api/v1/notification-channels/999", headers=admin).status_code == 404
