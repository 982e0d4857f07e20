"""If-Match on every update the README's table lists (issue #17 item 5), beyond the ones
`test_etags.py` takes: payments, retry, claim, unclaim, assign and publish. A stale tag
answers 412 problem+json with the current ETag and changes nothing; the fresh tag goes
through. Both databases."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer
from tests.factories import make_user, tiny_bpmn, upload
from tests.ops.scenario import start_body, world

START = "/api/v1/regions/3273/applications"


def _stale(answer: Any, current: str) -> None:
    assert answer.status_code == 412, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["type"] == "precondition-failed"
    assert answer.headers["ETag"] == current


def test_task_updates_check_if_match(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    ctx = app.extensions["permitflow"]
    boss = bearer(make_user(ctx, "supervisor")[1])
    other, _ = make_user(ctx, "front-office", name="Budi")
    started = client.post(START, json=start_body(), headers=w.officer).get_json()
    url = f"/api/v1/tasks/{started['tasks'][0]['id']}"

    def tag() -> str:
        return str(client.get(url, headers=w.officer).headers["ETag"])

    def state() -> tuple[Any, Any]:
        body = client.get(url, headers=w.officer).get_json()
        return body.get("state"), body.get("assignee")

    first = tag()
    assert client.post(f"{url}/claim", headers={**w.officer, "If-Match": first}).status_code == 200
    claimed = state()
    _stale(client.post(f"{url}/unclaim", headers={**w.officer, "If-Match": first}), tag())
    assert state() == claimed
    _stale(client.post(f"{url}/claim", headers={**w.officer, "If-Match": first}), tag())
    _stale(client.post(f"{url}/assign", json={"user_id": other.id},
                       headers={**boss, "If-Match": first}), tag())
    assert state() == claimed
    released = client.post(f"{url}/unclaim", headers={**w.officer, "If-Match": tag()})
    assert released.status_code == 200, released.get_json()
    assigned = client.post(f"{url}/assign", json={"user_id": other.id},
                           headers={**boss, "If-Match": tag()})
    assert assigned.status_code == 200, assigned.get_json()


def test_application_updates_check_if_match(app: Flask, client: FlaskClient) -> None:
    w = world(app, steps=2, fee="1000")
    ctx = app.extensions["permitflow"]
    cashier = bearer(make_user(ctx, "cashier")[1])
    boss = bearer(make_user(ctx, "supervisor")[1])
    started = client.post(START, json=start_body(), headers=w.officer).get_json()
    url = f"/api/v1/applications/{started['id']}"

    def tag() -> str:
        return str(client.get(url, headers=w.officer).headers["ETag"])

    def open_fees() -> list[dict[str, Any]]:
        fees = client.get(f"{url}/fees", headers=cashier).get_json()
        return [f for f in fees if f["status"] == "open"]

    def pay(item: dict[str, Any], reference: str, etag: str) -> Any:
        return client.post(f"{url}/payments", headers={**cashier, "If-Match": etag}, json={
            "fee_item": item["fee_item"], "amount": item["amount"], "reference": reference})

    before = tag()
    (first,) = open_fees()
    assert pay(first, "BJB-0001", before).status_code == 201
    assert tag() != before  # a payment changes the application
    task = started["tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task}/complete", json={"data": {}},
                       headers=w.officer).status_code == 200
    (second,) = open_fees()  # the second step's fee
    _stale(pay(second, "BJB-0002", before), tag())
    assert [f["fee_item"] for f in open_fees()] == [second["fee_item"]]  # still open
    _stale(client.post(f"{url}/retry", headers={**boss, "If-Match": before}), tag())
    assert pay(second, "BJB-0002", tag()).status_code == 201
    assert open_fees() == []


def test_publish_checks_if_match(app: Flask, client: FlaskClient) -> None:
    world(app)
    ctx = app.extensions["permitflow"]
    analyst = bearer(make_user(ctx, "analyst")[1])
    base = "/api/v1/regions/3273/process-models/tiny"
    first = client.get(base, headers=analyst).headers["ETag"]
    retired = client.post(f"{base}/versions/1/retire", headers={**analyst, "If-Match": first})
    assert retired.status_code == 200, retired.get_json()
    _stale(client.post(f"{base}/versions/1/publish", headers={**analyst, "If-Match": first}),
           client.get(base, headers=analyst).headers["ETag"])
    versions = client.get(f"{base}/versions/1", headers=analyst).get_json()
    assert versions["status"] == "retired"  # unchanged
    fresh = client.get(base, headers=analyst).headers["ETag"]
    published = client.post(f"{base}/versions/1/publish", headers={**analyst, "If-Match": fresh})
    assert published.status_code == 200, published.get_json()
    upload(ctx, "3273", tiny_bpmn(steps=3))  # version 2: the model's tag moves again
    assert client.get(base, headers=analyst).headers["ETag"] != fresh
