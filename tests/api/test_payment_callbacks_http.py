"""A simulated bank process pays billed fees through signed callbacks to a live server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.api.conftest import bearer
from tests.factories import ROOT, make_region, make_user, tiny_bpmn, upload

FEE = 443_700
SECRET = "s3cret-shared-with-the-bank-0123456789abcdef"


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def bank(url: str, body: dict[str, Any], *flags: str, secret: str = SECRET) -> tuple[int, dict]:
    """One notification from a separate bank process."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.bank", url, secret, json.dumps(body), *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    answer = json.loads(done.stdout)
    return answer["status"], answer["body"]


@pytest.mark.slow
def test_a_bank_pays_once_and_every_bad_notification_is_refused_and_logged(
    app: Flask, client: FlaskClient, live: str
) -> None:
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="pbg", steps=1, fee=str(FEE)))
    _, admin = make_user(ctx, "admin", region=None, name="admin")
    _, officer = make_user(ctx, "front-office")
    _, supervisor = make_user(ctx, "supervisor")
    added = client.post("/api/v1/regions/3273/payment-channels", headers=bearer(admin),
                        json={"name": "bjb-va", "kind": "virtual_account", "secret": SECRET})
    assert added.status_code == 201 and added.json["secret"] == SECRET
    listed = client.get("/api/v1/regions/3273/payment-channels", headers=bearer(admin)).json
    assert "secret" not in listed[0] and listed[0]["fingerprint"] == added.json["fingerprint"]
    started = client.post("/api/v1/regions/3273/applications", headers=bearer(officer),
                          json={"process_key": "pbg", "applicant": {"name": "Siti"}, "data": {}})
    app_id = started.json["id"]
    (item,) = client.get(f"/api/v1/applications/{app_id}/fees", headers=bearer(officer)).json
    code = item["billing_code"]
    url = f"{live}/api/v1/payment-callbacks/bjb-va"
    paid = {"billing_code": code, "amount": FEE, "reference": "VA-20261207-0001"}

    status, first = bank(url, paid)
    assert status == 200 and first["status"] == "accepted" and first["receipt_no"]
    status, again = bank(url, paid)
    assert (status, again["status"], again["receipt_no"]) == (200, "duplicate", first["receipt_no"])
    status, forged = bank(url, {**paid, "reference": "VA-X-2"}, "--bad-signature")
    assert status == 401 and forged["type"].endswith("unauthenticated")
    status, _stale = bank(url, {**paid, "reference": "VA-X-3"}, "--timestamp-offset", "-3600")
    assert status == 401
    status, wrong = bank(url, {**paid, "reference": "VA-X-4", "amount": FEE + 1})
    assert status == 422 and wrong["errors"][0]["field"] == "amount"
    status, _unknown = bank(url, {**paid, "reference": "VA-X-5", "billing_code": "999"})
    assert status == 404
    status, _ = bank(f"{live}/api/v1/payment-callbacks/no-such-bank", paid)
    assert status == 401

    (item,) = client.get(f"/api/v1/applications/{app_id}/fees", headers=bearer(officer)).json
    assert item["status"] == "paid" and item["receipt_no"] == first["receipt_no"]
    assert item["payment"]["channel"] == "virtual_account"
    events = client.get(f"/api/v1/applications/{app_id}/audit", headers=bearer(supervisor)).json
    assert [e["action"] for e in events].count("payment.recorded") == 1
    # The report's day is the region's (Asia/Jakarta), not the UTC date of paid_at.
    paid_at = datetime.fromisoformat(item["payment"]["paid_at"])
    day = paid_at.astimezone(ZoneInfo("Asia/Jakarta")).date().isoformat()
    report = client.get(f"/api/v1/regions/3273/reconciliation?date={day}",
                        headers=bearer(supervisor))
    assert report.status_code == 200, report.json
    totals = report.json["totals"]
    assert (totals["paid"], totals["unpaid"], totals["duplicates"]) == (FEE, 0, 1)
    refused = [n["reason"] for n in report.json["notifications"] if n["outcome"] == "refused"]
    # bad signature, stale time, wrong amount, unknown code (the unknown channel has no region)
    assert len(refused) == 4 and totals["refused"] == 4
