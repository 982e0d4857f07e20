"""Issued documents over HTTP, on both databases: the QR code of a downloaded PDF opens the
verification page, which says genuine; an uploaded PDF with one byte changed is not genuine;
a revoked permit shows as revoked; downloads by tracking code and by application; keys."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urlsplit

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient

from engine.services import applications, tasks
from tests.api.conftest import bearer
from tests.factories import complete_standard, make_region, make_user, upload
from tests.service.test_documents import DATA, FORM, HOLDER, TEMPLATE, permit_bpmn, rendered

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def issued(app: Flask) -> dict[str, str]:
    """One completed application of region 3510 and its document."""
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3510")
    standard = complete_standard(documents={"sip": TEMPLATE})
    upload(ctx, "3510", permit_bpmn(), {"permit.json": json.dumps(FORM).encode()},
           json.dumps(standard).encode())
    officer, token = make_user(ctx, "front-office", region="3510")
    app_view = applications.start_application(ctx, officer, "3510", "sip", {"name": HOLDER}, {})
    tasks.complete_task(ctx, officer, app_view.tasks[0].id, DATA)
    return {"id": str(app_view.id), "code": app_view.tracking_code, "token": token}


def documents_of(client: FlaskClient, issued: dict[str, str]) -> list[dict]:
    answer = client.get(f"/track/{issued['code']}/documents")
    assert answer.status_code == 200
    return answer.get_json()


def test_the_qr_code_of_the_downloaded_pdf_opens_a_page_that_says_genuine(
    client: FlaskClient, issued: dict[str, str]
) -> None:
    (doc,) = documents_of(client, issued)
    pdf = client.get(f"/track/{issued['code']}/documents/{doc['number']}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    image, _ = rendered(pdf.data)
    (url,) = [b.text for b in zxingcpp.read_barcodes(image)]
    page = client.get(urlsplit(url).path, headers=HTML)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-genuine="true"' in text
    assert "ASLI" in text and HOLDER in text and "Berlaku" in text
    english = client.get(urlsplit(url).path + "?lang=en", headers=HTML).get_data(as_text=True)
    assert "GENUINE" in english and "Valid" in english
    as_json = client.get(urlsplit(url).path, headers=JSON).get_json()
    assert as_json["genuine"] is True and as_json["holder_name"] == HOLDER
    assert client.get(f"/api/v1/verify/{doc['number']}").get_json() == as_json
    tracking = client.get(f"/track/{issued['code']}", headers=HTML).get_data(as_text=True)
    assert f'data-document="{doc["number"]}"' in tracking
    assert f'href="/track/{issued["code"]}/documents/{doc["number"]}"' in tracking


def test_an_upload_with_one_byte_changed_is_not_genuine(
    client: FlaskClient, issued: dict[str, str]
) -> None:
    (doc,) = documents_of(client, issued)
    pdf = client.get(f"/track/{issued['code']}/documents/{doc['number']}").data

    def check(data: bytes, path: str = "/api/v1/verify", headers: dict | None = None):
        return client.post(path, data={"file": (io.BytesIO(data), "permit.pdf")},
                           content_type="multipart/form-data", headers=headers or JSON)

    same = check(pdf).get_json()
    assert same["genuine"] is True and same["document"]["number"] == doc["number"]
    changed = pdf[:1000] + bytes([pdf[1000] ^ 0x20]) + pdf[1001:]
    answer = check(changed)
    assert answer.status_code == 200 and answer.get_json()["genuine"] is False
    page = check(changed, "/verify", HTML).get_data(as_text=True)
    assert 'data-genuine="false"' in page and "TIDAK ASLI" in page
    missing = client.post("/api/v1/verify", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["field"] == "file"


def test_a_revoked_permit_shows_as_revoked_on_its_page(
    app: Flask, client: FlaskClient, issued: dict[str, str]
) -> None:
    ctx = app.extensions["permitflow"]
    (doc,) = documents_of(client, issued)
    path = f"/api/v1/documents/{doc['number']}/revoke"
    reason = "Dicabut atas permintaan Dinas Kesehatan: STR tidak berlaku lagi."
    _, supervisor = make_user(ctx, "supervisor", region="3510")
    refused = client.post(path, json={"reason": reason}, headers=bearer(issued["token"]))
    assert refused.status_code == 403
    short = client.post(path, json={"reason": "x"}, headers=bearer(supervisor))
    assert short.status_code == 422 and "reason" in json.dumps(short.get_json())
    done = client.post(path, json={"reason": reason}, headers=bearer(supervisor))
    assert done.status_code == 200 and done.get_json()["status"] == "revoked"
    page = client.get(f"/verify/{doc['number']}", headers=HTML).get_data(as_text=True)
    assert 'data-status="revoked"' in page and "Dicabut" in page and reason in page
    assert client.get(f"/track/{issued['code']}/documents").get_json()[0]["status"] == "revoked"


def test_an_unknown_number_is_not_found_as_a_page_and_as_a_problem(client: FlaskClient) -> None:
    page = client.get("/verify/SIP-3510-2026-000999", headers=HTML)
    assert page.status_code == 404 and "TIDAK DITEMUKAN" in page.get_data(as_text=True)
    problem = client.get("/api/v1/verify/SIP-3510-2026-000999")
    assert problem.status_code == 404 and problem.mimetype == "application/problem+json"
    form = client.get("/periksa", headers=HTML)
    assert form.status_code == 200 and 'name="file"' in form.get_data(as_text=True)
    typed = client.get("/periksa?number= sip-3510-2026-000001 ")
    assert typed.status_code == 302 and typed.location.endswith("/verify/SIP-3510-2026-000001")


def test_officers_of_the_region_download_by_application(
    app: Flask, client: FlaskClient, issued: dict[str, str]
) -> None:
    ctx = app.extensions["permitflow"]
    listing = client.get(f"/api/v1/applications/{issued['id']}/documents",
                         headers=bearer(issued["token"]))
    (doc,) = listing.get_json()
    pdf = client.get(f"/api/v1/applications/{issued['id']}/documents/{doc['number']}",
                     headers=bearer(issued["token"]))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    make_region(ctx, "3273")
    _, stranger = make_user(ctx, "front-office", region="3273")
    other = client.get(f"/api/v1/applications/{issued['id']}/documents/{doc['number']}",
                       headers=bearer(stranger))
    assert other.status_code == 404
    assert client.get(f"/api/v1/applications/{issued['id']}/documents").status_code == 401


def test_signing_keys_are_public_and_rotated_by_an_admin(
    client: FlaskClient, issued: dict[str, str], admin: dict[str, str]
) -> None:
    keys = client.get("/api/v1/regions/3510/signing-keys").get_json()
    assert len(keys) == 1 and len(keys[0]["public_key"]) == 64 and "private" not in str(keys)
    assert client.post("/api/v1/regions/3510/signing-keys",
                       headers=bearer(issued["token"])).status_code == 403
    rotated = client.post("/api/v1/regions/3510/signing-keys", headers=admin)
    assert rotated.status_code == 201 and rotated.get_json()["key_id"] != keys[0]["key_id"]
    after = client.get("/api/v1/regions/3510/signing-keys").get_json()
    assert [k["retired_at"] is None for k in after] == [True, False]


def test_an_officer_downloads_from_the_consoles_application_page(
    client: FlaskClient, issued: dict[str, str]
) -> None:
    from tests.web.test_pages import signed_in

    signed_in(client, issued["token"])
    page = client.get(f"/konsol/permohonan/{issued['id']}").get_data(as_text=True)
    (number,) = re.findall(r'data-document="([^"]+)"', page)
    link = f"/konsol/permohonan/{issued['id']}/dokumen/{number}"
    assert f'href="{link}"' in page
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert client.get(f"{link[:-1]}9").status_code == 404
