"""`PERMITFLOW_DATABASE_READ_URL` on PostgreSQL (issue #17 item 6): the read-only use cases
(inbox, tracking, catalog, reports, calendars, sign-in) served over HTTP by a session that
refuses writes as a hot standby does (`default_transaction_read_only`, SQLSTATE 25006),
while every write still goes to the primary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, text

from api import create_app
from tests.api.conftest import bearer
from tests.factories import make_region, make_user, tiny_bpmn, upload

READ_ONLY = "%20-cdefault_transaction_read_only%3Don"  # appended to the URL's options


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    assert "options=" in db_url  # the test schema's search_path: a standby of the same data
    app = create_app(
        {"DATABASE_URL": db_url, "DATABASE_READ_URL": db_url + READ_ONLY, "TESTING": True}
    )
    yield app
    ctx = app.extensions["permitflow"]
    ctx.session_factory.kw["bind"].dispose()
    ctx.replica.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_reads_are_served_by_a_read_only_server_and_writes_by_the_primary(app: Flask) -> None:
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    officer = bearer(make_user(ctx, "front-office")[1])
    boss = bearer(make_user(ctx, "supervisor")[1])
    with ctx.replica.connect() as conn:  # the read URL's sessions refuse writes
        assert conn.execute(text("SHOW default_transaction_read_only")).scalar_one() == "on"
    replica_checkouts: list[int] = []
    event.listen(ctx.replica, "checkout", lambda *_: replica_checkouts.append(1))
    client = app.test_client()

    started = client.post("/api/v1/regions/3273/applications", headers=officer,
                          json={"process_key": "tiny", "applicant": {"name": "S"}, "data": {}})
    assert started.status_code == 201, started.get_json()
    app_id, code = started.get_json()["id"], started.get_json()["tracking_code"]
    complaint = client.post(f"/track/{code}/complaints", json={"text": "Lama sekali"})
    assert complaint.status_code == 201, complaint.get_json()  # a public write: the primary

    reads = {
        "inbox": ("/api/v1/tasks", officer),
        "applications": ("/api/v1/applications", officer),
        "tracking": (f"/track/{code}", {}),
        "catalog": ("/layanan/3273", {}),
        "sla report": ("/api/v1/reports/sla?from=2020-01-01T00:00:00Z&to=2099-01-01T00:00:00Z",
                       boss),
        "skm report": ("/api/v1/reports/skm", boss),
        "complaints": ("/api/v1/complaints", boss),
        "calendar": ("/api/v1/regions/3273/calendar", boss),
        "audit": (f"/api/v1/applications/{app_id}/audit", boss),
    }
    for name, (url, headers) in reads.items():
        before = len(replica_checkouts)
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, (name, answer.get_json(silent=True))
        assert len(replica_checkouts) > before, f"{name} did not read the read URL"
    assert client.get("/api/v1/complaints", headers=boss).get_json()["total"] == 1
    # The standby refuses writes: had a write been routed to it, it would answer 25006 (503).
    assert client.post(f"/api/v1/applications/{app_id}/cancel", headers=boss,
                       json={"reason": "permohonan ganda"}).status_code == 200
    assert client.get(f"/track/{code}").get_json()["status"] == "cancelled"
