"""The tracking page tells the citizen the truth (issue #15 item 7): a service that charges
later shows its published fees, a pause says what it waits for, a rejection is not "Selesai",
a cancellation shows its reason. Service layer and HTTP, both databases."""

from __future__ import annotations

import html

from flask import Flask
from flask.testing import FlaskClient

from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.services import applications, tracking
from tests.citizen.helpers import decision_bpmn, work
from tests.factories import upload


def _start(ctx: EngineContext):
    return applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})


def _page(client: FlaskClient, code: str, lang: str = "id") -> str:
    response = client.get(f"/track/{code}?lang={lang}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_a_service_that_charges_later_shows_its_published_fees_not_free(
    app: Flask, ctx: EngineContext
) -> None:
    started = _start(ctx)
    public = tracking.track(ctx, started.tracking_code)
    assert public["fees"] == []  # nothing billed yet...
    assert public["fee_schedule"] == {
        "steps": [{"name": "Bayar retribusi", "fee": 150000}],
        "total": 150000,
    }  # ...but it will charge
    page = _page(app.test_client(), started.tracking_code)
    assert "tidak dipungut biaya" not in page.lower() and "Rp 150.000" in page
    assert "Biaya menurut standar pelayanan" in page


def test_a_free_service_still_says_so(app: Flask, ctx: EngineContext) -> None:
    upload(ctx, "3273", decision_bpmn("izin-gratis", pay_fee=0))
    started = applications.start_application(ctx, SYSTEM, "3273", "izin-gratis", {}, {})
    assert tracking.track(ctx, started.tracking_code)["fee_schedule"]["total"] == 0
    assert "Layanan ini tidak dipungut biaya (Rp 0)." in _page(
        app.test_client(), started.tracking_code
    )


def test_the_payment_pause_says_it_waits_for_payment(app: Flask, ctx: EngineContext) -> None:
    started = _start(ctx)
    assert tracking.track(ctx, started.tracking_code)["waiting_for"] is None
    work(ctx, started.id, "check")
    public = tracking.track(ctx, started.tracking_code)
    assert public["sla_paused"] and public["waiting_for"] == "payment"
    page = _page(app.test_client(), started.tracking_code)
    assert "menunggu pembayaran oleh pemohon" in page and "menunggu kelengkapan" not in page
    assert "waiting for the applicant's payment" in _page(
        app.test_client(), started.tracking_code, "en"
    )


def test_a_rejected_application_is_not_shown_as_issued(app: Flask, ctx: EngineContext) -> None:
    rejected, issued = _start(ctx), _start(ctx)
    for started, decision in ((rejected, "tolak"), (issued, "setuju")):
        work(ctx, started.id, "check")
        work(ctx, started.id, "pay")
        work(ctx, started.id, "decide", {"keputusan": decision})
    no = tracking.track(ctx, rejected.tracking_code)
    yes = tracking.track(ctx, issued.tracking_code)
    assert no["status"] == yes["status"] == "completed"
    assert no["outcome"] == {
        "element_id": "application_rejected",
        "name": "Permohonan ditolak",
        "kind": "rejected",
    }
    assert yes["outcome"] == {
        "element_id": "permit_issued",
        "name": "Izin terbit",
        "kind": "granted",
    }
    client = app.test_client()
    no_page, yes_page = _page(client, rejected.tracking_code), _page(client, issued.tracking_code)
    assert 'data-status="outcome_rejected">Ditolak<' in no_page and "Permohonan ditolak" in no_page
    assert "Selesai: diterbitkan" not in no_page
    assert 'data-status="outcome_granted">Selesai: diterbitkan<' in yes_page
    assert "Izin terbit" in yes_page and "Ditolak" not in yes_page
    assert ">Rejected<" in _page(client, rejected.tracking_code, "en")


def test_a_cancelled_application_shows_its_reason(app: Flask, ctx: EngineContext) -> None:
    started = _start(ctx)
    assert tracking.track(ctx, started.tracking_code)["cancelled_reason"] is None
    applications.cancel_application(ctx, SYSTEM, started.id, "ditarik oleh pemohon")
    public = tracking.track(ctx, started.tracking_code)
    assert public["status"] == "cancelled" and public["cancelled_reason"] == "ditarik oleh pemohon"
    assert public["outcome"] is None
    as_json = app.test_client().get(f"/track/{started.tracking_code}").json
    assert as_json["cancelled_reason"] == "ditarik oleh pemohon"
    page = _page(app.test_client(), started.tracking_code)
    assert "Alasan pembatalan" in page and "ditarik oleh pemohon" in page
