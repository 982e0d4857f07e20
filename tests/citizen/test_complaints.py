"""Complaints (issue #15 item 2): filed by tracking code, answered by a supervisor within the
region's complaint SLA, visible on the tracking page without personal data. Service and HTTP,
both databases."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask

from api import create_app
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from engine.services import applications, complaints, tracking
from tests.citizen.helpers import MONDAY_10, WIB, decision_bpmn
from tests.factories import Clock, make_region, make_user, upload

SECRET_TEXT = "Petugas meminta uang rokok Rp 50.000 kepada Siti Aminah"
CONTACT = "siti.aminah@example.com / 081234567890"


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.fixture
def ctx(app: Flask) -> EngineContext:
    context: EngineContext = app.extensions["permitflow"]
    context.clock = Clock(MONDAY_10)
    for region in ("3273", "3510"):
        make_region(context, region)
    upload(context, "3273", decision_bpmn())
    return context


def _start(ctx: EngineContext):
    return applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})


def test_a_complaint_is_filed_answered_in_its_sla_and_published_without_personal_data(
    ctx: EngineContext,
) -> None:
    started = _start(ctx)
    filed = complaints.file_complaint(ctx, started.tracking_code.lower(), SECRET_TEXT, CONTACT)
    assert filed["number"].startswith("ADU-") and filed["status"] == "open"
    # The region's default complaint SLA, P5D: Mon 10:00 -> the 5th working day's closing.
    assert filed["due_at"] == datetime(2026, 3, 9, 16, 0, tzinfo=WIB)

    supervisor, _ = make_user(ctx, "supervisor", region="3273")
    inbox = complaints.complaint_inbox(ctx, supervisor)
    assert [c["number"] for c in inbox["items"]] == [filed["number"]]
    assert inbox["items"][0]["text"] == SECRET_TEXT and inbox["items"][0]["contact"] == CONTACT
    other, _ = make_user(ctx, "supervisor", region="3510")
    assert complaints.complaint_inbox(ctx, other)["items"] == []  # another region's
    with pytest.raises(NotFoundError):
        complaints.answer_complaint(ctx, other, filed["number"], "bukan wilayah kami")
    officer, _ = make_user(ctx, "front-office", region="3273")
    with pytest.raises(PermissionDeniedError):
        complaints.answer_complaint(ctx, officer, filed["number"], "x")

    ctx.clock = Clock(MONDAY_10 + timedelta(days=2))
    answer = "Terima kasih. Petugas telah diperiksa Inspektorat; tidak ada biaya di luar tarif."
    answered = complaints.answer_complaint(ctx, supervisor, filed["number"], answer)
    assert answered["status"] == "answered" and not answered["overdue"]
    with pytest.raises(ConflictError):
        complaints.answer_complaint(ctx, supervisor, filed["number"], "lagi")
    assert complaints.complaint_inbox(ctx, supervisor)["items"] == []  # open ones only

    public = tracking.track(ctx, started.tracking_code)
    (shown,) = public["complaints"]
    assert shown["answer"] == answer and shown["status"] == "answered" and not shown["overdue"]
    flat = repr(public)
    assert "Siti" not in flat and "rokok" not in flat and "081234567890" not in flat

    counts = {s["key"]: s["complaints"] for s in catalog_services(ctx, "3273")}
    assert counts["izin-keputusan"] == {"filed": 1, "answered": 1, "answered_in_time": 1}


def catalog_services(ctx: EngineContext, region: str) -> list[dict]:
    from engine.services import standards

    return standards.region_services(ctx, region)


def test_a_region_sets_its_own_complaint_sla(ctx: EngineContext) -> None:
    admin, _ = make_user(ctx, "admin", region=None)
    assert complaints.set_complaint_sla(ctx, admin, "3273", "p2d") == "P2D"
    with pytest.raises(InvalidInputError):
        complaints.set_complaint_sla(ctx, admin, "3273", "two days")
    filed = complaints.file_complaint(ctx, _start(ctx).tracking_code, "Lama sekali")
    assert filed["due_at"] == datetime(2026, 3, 4, 16, 0, tzinfo=WIB)  # Tue, Wed


def test_bad_complaints_are_refused_and_nothing_is_written(ctx: EngineContext) -> None:
    started = _start(ctx)
    with pytest.raises(NotFoundError):
        complaints.file_complaint(ctx, "PF-0000-0000-0000-0000", "teks")
    for text in ("", "   ", "x" * (complaints.MAX_TEXT + 1)):
        with pytest.raises(InvalidInputError):
            complaints.file_complaint(ctx, started.tracking_code, text)
    assert tracking.track(ctx, started.tracking_code)["complaints"] == []


def test_complaints_over_http(app: Flask, ctx: EngineContext) -> None:
    client = app.test_client()
    started = _start(ctx)
    code = started.tracking_code
    assert client.post(f"/track/{code}/complaints", json={"text": ""}).status_code == 422
    assert client.post("/track/PF-0000-0000-0000-0000/complaints",
                       json={"text": "x"}).status_code == 404
    response = client.post(f"/track/{code}/complaints", json={"text": SECRET_TEXT,
                                                              "contact": CONTACT})
    assert response.status_code == 201, response.json
    number = response.json["number"]
    _, token = make_user(ctx, "supervisor", region="3273")
    auth = {"Authorization": f"Bearer {token}"}
    inbox = client.get("/api/v1/complaints", headers=auth).json
    assert inbox["total"] == 1 and inbox["items"][0]["text"] == SECRET_TEXT
    assert client.get("/api/v1/complaints").status_code == 401
    answered = client.post(f"/api/v1/complaints/{number}/answer", headers=auth,
                           json={"answer": "Sudah ditindaklanjuti."})
    assert answered.status_code == 200 and answered.json["status"] == "answered"
    assert client.post(f"/api/v1/complaints/{number}/answer", headers=auth,
                       json={"answer": "lagi"}).status_code == 409
    page = html.unescape(client.get(f"/track/{code}", headers={"Accept": "text/html"})
                         .get_data(as_text=True))
    assert number in page and "Sudah ditindaklanjuti." in page and "lapor.go.id" in page
    assert "rokok" not in page and "siti.aminah" not in page
    catalogue = html.unescape(client.get("/layanan/3273").get_data(as_text=True))
    assert "1 / 1 dijawab tepat waktu" in catalogue and "rokok" not in catalogue
    as_json = client.get(f"/track/{code}").json
    assert as_json["complaints"][0]["answer"] == "Sudah ditindaklanjuti."
    assert "text" not in as_json["complaints"][0] and "contact" not in as_json["complaints"][0]


def test_a_complaint_answered_late_is_shown_late_and_counted_so(ctx: EngineContext) -> None:
    filed = complaints.file_complaint(ctx, _start(ctx).tracking_code, "Belum ada kabar")
    supervisor, _ = make_user(ctx, "supervisor", region="3273")
    ctx.clock = Clock(filed["due_at"] + timedelta(minutes=1))
    assert complaints.complaint_inbox(ctx, supervisor)["items"][0]["overdue"]
    answered = complaints.answer_complaint(ctx, supervisor, filed["number"], "Maaf, terlambat.")
    assert answered["overdue"]
    counts = {s["key"]: s["complaints"] for s in catalog_services(ctx, "3273")}
    assert counts["izin-keputusan"] == {"filed": 1, "answered": 1, "answered_in_time": 0}


def test_the_complaint_sla_over_http(app: Flask, ctx: EngineContext) -> None:
    client = app.test_client()
    url = "/api/v1/regions/3273/complaint-sla"
    admin = {"Authorization": f"Bearer {make_user(ctx, 'admin', region=None)[1]}"}
    officer = {"Authorization": f"Bearer {make_user(ctx, 'supervisor', region='3273')[1]}"}
    assert client.put(url, json={"sla": "P2D"}, headers=officer).status_code == 403
    assert client.put(url, json={"sla": "P2D"}).status_code == 401
    bad = client.put(url, json={"sla": "dua hari"}, headers=admin)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert [e["field"] for e in bad.json["errors"]] == ["sla"]
    assert client.put("/api/v1/regions/9999/complaint-sla", json={"sla": "P2D"},
                      headers=admin).status_code == 404
    done = client.put(url, json={"sla": "p2d"}, headers=admin)
    assert done.status_code == 200 and done.json == {"sla": "P2D"}
    filed = client.post(f"/track/{_start(ctx).tracking_code}/complaints", json={"text": "Lama"})
    assert datetime.fromisoformat(filed.json["due_at"]) == datetime(2026, 3, 4, 16, 0, tzinfo=WIB)


def test_the_inbox_lists_the_soonest_due_first(ctx: EngineContext) -> None:
    admin, _ = make_user(ctx, "admin", region=None)
    slow = complaints.file_complaint(ctx, _start(ctx).tracking_code, "Pertama, P5D")
    complaints.set_complaint_sla(ctx, admin, "3273", "P1D")
    ctx.clock = Clock(MONDAY_10 + timedelta(hours=1))
    quick = complaints.file_complaint(ctx, _start(ctx).tracking_code, "Kedua, P1D")
    assert quick["due_at"] < slow["due_at"]
    supervisor, _ = make_user(ctx, "supervisor", region="3273")
    inbox = complaints.complaint_inbox(ctx, supervisor)["items"]
    assert [c["number"] for c in inbox] == [quick["number"], slow["number"]]
