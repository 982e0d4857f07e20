"""Idempotency-Key on the other writes issue #17 item 4 names (pay, messages, callbacks), on
both databases: a retry makes the change once; a refused callback claims nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer
from tests.factories import FIXTURES, make_region, make_user, tiny_bpmn, upload

FEE = 443_700
SECRET = "s3cret-shared-with-the-bank-0123456789abcdef"
START = "/api/v1/regions/3273/applications"


def _paying(app: Flask, client: FlaskClient) -> tuple[dict[str, str], dict[str, str], str]:
    """A region with a one-step fee model; the officer's and cashier's headers, and an
    application whose fee is open."""
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="pbg", steps=1, fee=str(FEE)))
    officer = bearer(make_user(ctx, "front-office")[1])
    cashier = bearer(make_user(ctx, "cashier")[1])
    started = client.post(START, headers=officer,
                          json={"process_key": "pbg", "applicant": {"name": "S"}, "data": {}})
    assert started.status_code == 201, started.get_json()
    return officer, cashier, started.get_json()["id"]


def _receipts(client: FlaskClient, headers: dict[str, str], app_id: str) -> list[str | None]:
    fees = client.get(f"/api/v1/applications/{app_id}/fees", headers=headers).get_json()
    return [item["receipt_no"] for item in fees]


def _events(app: Flask, client: FlaskClient, app_id: str, action: str) -> int:
    boss = bearer(make_user(app.extensions["permitflow"], "supervisor")[1])
    events = client.get(f"/api/v1/applications/{app_id}/audit", headers=boss).get_json()
    return [e["action"] for e in events].count(action)


def test_a_retried_payment_is_recorded_once(app: Flask, client: FlaskClient) -> None:
    officer, cashier, app_id = _paying(app, client)
    (item,) = client.get(f"/api/v1/applications/{app_id}/fees", headers=officer).get_json()
    pay = {"fee_item": item["fee_item"], "amount": FEE, "reference": "BJB-0001",
           "channel": "virtual_account"}
    url = f"/api/v1/applications/{app_id}/payments"
    headers = {**cashier, "Idempotency-Key": "pay-0001"}
    first = client.post(url, json=pay, headers=headers)
    again = client.post(url, json=pay, headers=headers)
    assert first.status_code == again.status_code == 201, first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    # Without the key the same payment is refused: the item is paid (the retry was not).
    assert client.post(url, json=pay, headers=cashier).status_code == 409
    changed = client.post(url, json={**pay, "reference": "BJB-0002"}, headers=headers)
    assert changed.status_code == 422
    assert changed.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert _receipts(client, officer, app_id) == [first.get_json()["receipt_no"]]
    assert _events(app, client, app_id, "payment.recorded") == 1


def test_a_retried_message_is_delivered_once(app: Flask, client: FlaskClient) -> None:
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", (FIXTURES / "bpmn" / "messages" / "message-catch.bpmn").read_bytes())
    counter = bearer(make_user(ctx, "front-office")[1])
    bank = bearer(make_user(ctx, "integration")[1])
    started = client.post(START, headers=counter, json={
        "process_key": "message-catch", "applicant": {}, "data": {"nib": "77"}}).get_json()
    body = {"name": "payment-confirmed", "correlation": {"nib": "77"}, "data": {"paid": 1}}
    headers = {**bank, "Idempotency-Key": "msg-0001"}
    first = client.post("/api/v1/messages", json=body, headers=headers)
    again = client.post("/api/v1/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == 200, first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_data() == first.get_data()
    # The process took the message once: with no message_id, only the key stops a second.
    assert client.post("/api/v1/messages", json=body, headers=bank).status_code == 404
    assert _events(app, client, started["id"], "message.correlated") == 1


def _signed(body: bytes, *, offset: int = 0) -> dict[str, str]:
    stamp = str(int(time.time()) + offset)
    mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Permitflow-Timestamp": stamp,
            "X-Permitflow-Signature": f"sha256={mac}"}


def test_a_refused_callback_claims_nothing_and_a_retried_one_settles_once(
    app: Flask, client: FlaskClient
) -> None:
    officer, _, app_id = _paying(app, client)
    admin = bearer(make_user(app.extensions["permitflow"], "admin", region=None)[1])
    added = client.post("/api/v1/regions/3273/payment-channels", headers=admin,
                        json={"name": "bjb-va", "kind": "virtual_account", "secret": SECRET})
    assert added.status_code == 201
    (item,) = client.get(f"/api/v1/applications/{app_id}/fees", headers=officer).get_json()
    body = json.dumps({"billing_code": item["billing_code"], "amount": FEE,
                       "reference": "VA-20261207-0001"}).encode()
    url = "/api/v1/payment-callbacks/bjb-va"

    # The bank's clock is an hour off: refused (and kept for reconciliation), but the
    # refusal is not the change the key guards, so the corrected retry with the key runs.
    stale = client.post(url, data=body, headers={**_signed(body, offset=-3600),
                                                 "Idempotency-Key": "cb-0001"})
    assert stale.status_code == 401 and "Idempotent-Replayed" not in stale.headers
    first = client.post(url, data=body, headers={**_signed(body), "Idempotency-Key": "cb-0001"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "accepted" and "Idempotent-Replayed" not in first.headers
    again = client.post(url, data=body, headers={**_signed(body), "Idempotency-Key": "cb-0001"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert _receipts(client, officer, app_id) == [first.get_json()["receipt_no"]]
    assert _events(app, client, app_id, "payment.recorded") == 1


def test_public_callers_do_not_collide_on_their_keys(app: Flask, client: FlaskClient) -> None:
    """Two banks numbering their keys alike, two citizens whose apps reuse a key: each
    public path has its keys to itself (a retry still replays on its own path)."""
    officer, _, first_app = _paying(app, client)
    second_app = client.post(START, headers=officer, json={
        "process_key": "pbg", "applicant": {"name": "T"}, "data": {}}).get_json()["id"]
    admin = bearer(make_user(app.extensions["permitflow"], "admin", region=None)[1])
    for name in ("bjb-va", "bri-va"):
        added = client.post("/api/v1/regions/3273/payment-channels", headers=admin,
                            json={"name": name, "kind": "virtual_account", "secret": SECRET})
        assert added.status_code == 201
    receipts = []
    for channel, app_id in (("bjb-va", first_app), ("bri-va", second_app)):
        (item,) = client.get(f"/api/v1/applications/{app_id}/fees", headers=officer).get_json()
        body = json.dumps({"billing_code": item["billing_code"], "amount": FEE,
                           "reference": f"{channel}-0001"}).encode()
        paid = client.post(f"/api/v1/payment-callbacks/{channel}", data=body,
                           headers={**_signed(body), "Idempotency-Key": "1"})
        assert paid.status_code == 200, paid.get_json()
        assert paid.get_json()["status"] == "accepted"
        receipts.append(paid.get_json()["receipt_no"])
        again = client.post(f"/api/v1/payment-callbacks/{channel}", data=body,
                            headers={**_signed(body), "Idempotency-Key": "1"})
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json()["receipt_no"] == paid.get_json()["receipt_no"]
    assert len(set(receipts)) == 2

    codes = [client.get(f"/api/v1/applications/{a}", headers=officer).get_json()["tracking_code"]
             for a in (first_app, second_app)]
    filed = [client.post(f"/track/{code}/complaints", json={"text": "Lama sekali"},
                         headers={"Idempotency-Key": "k"}) for code in codes]
    assert [f.status_code for f in filed] == [201, 201]
    assert filed[0].get_json()["number"] != filed[1].get_json()["number"]
