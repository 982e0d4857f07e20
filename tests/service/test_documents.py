"""Issued documents at the service layer, on both databases (issue #14 item 3): a completed
application's PDF with a QR code that decodes to its verification page, which says genuine;
one changed byte is not genuine; revocation; key rotation; numbers under concurrency."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
import zxingcpp

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.services import applications, audit, documents, tasks, verification
from tests.factories import Clock, complete_standard, make_region, make_user, tiny_bpmn, upload
from tests.service.test_concurrency import race

HOLDER = "dr. Ayu Lestari"
FORM = {
    "type": "object",
    "properties": {
        "holder": {"type": "object", "properties": {"name": {"type": "string"}}},
        "practice": {"type": "object", "properties": {"address": {"type": "string"},
                                                      "speciality": {"type": "string"}}},
    },
}
TEMPLATE = {
    "type": "SIP",
    "title": {"id": "Surat Izin Praktik Dokter", "en": "Physician's Practice Licence"},
    "body": {"id": "Pemerintah daerah memberikan izin praktik kepada:",
             "en": "The regional government licenses to practise:"},
    "holder": "holder.name",
    "valid_years": 5,
    "fields": [
        {"label": {"id": "Tempat praktik", "en": "Practice address"}, "from": "practice.address"},
        {"label": {"id": "Kekhususan", "en": "Speciality"}, "from": "practice.speciality"},
    ],
}
DATA = {"holder": {"name": HOLDER},
        "practice": {"address": "Jl. Ahmad Yani No. 7, Banyuwangi", "speciality": "umum"}}


def permit_bpmn(key: str = "sip") -> bytes:
    """One step, then the end event that issues the `sip` document (process SLA P5D)."""
    return tiny_bpmn(key=key, steps=1, form="permit.json").replace(
        b'isExecutable="true">',
        b'isExecutable="true"><bpmn:extensionElements><camunda:properties>'
        b'<camunda:property name="sla" value="P5D"/></camunda:properties>'
        b"</bpmn:extensionElements>",
    ).replace(
        b'<bpmn:endEvent id="end"/>',
        b'<bpmn:endEvent id="end"><bpmn:extensionElements><camunda:properties>'
        b'<camunda:property name="document" value="sip"/></camunda:properties>'
        b"</bpmn:extensionElements></bpmn:endEvent>",
    )


@pytest.fixture
def clock(ctx: EngineContext) -> Clock:
    ctx.clock = Clock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))  # 10:00 in Asia/Jakarta
    return ctx.clock


@pytest.fixture
def region(ctx: EngineContext, clock: Clock) -> str:
    make_region(ctx, "3510")
    standard = complete_standard(
        agency={"id": "DPMPTSP Kabupaten Banyuwangi", "en": "One-stop office"},
        documents={"sip": TEMPLATE})
    upload(ctx, "3510", permit_bpmn(), {"permit.json": json.dumps(FORM).encode()},
           json.dumps(standard).encode())
    return "3510"


def issue(ctx: EngineContext, region: str, data: dict | None = None) -> tuple[uuid.UUID, str]:
    """Start and complete one application; its (application id, document number)."""
    officer, _ = make_user(ctx, "front-office", region=region)
    app = applications.start_application(ctx, officer, region, "sip", {"name": HOLDER}, {})
    tasks.complete_task(ctx, officer, app.tasks[0].id, data or DATA)
    (doc,) = verification.application_documents(ctx, SYSTEM, app.id)
    return app.id, doc["number"]


def pdf_of(ctx: EngineContext, app_id: uuid.UUID, number: str) -> bytes:
    name, pdf = verification.application_pdf(ctx, SYSTEM, app_id, number)
    assert name == f"{number}.pdf"
    return pdf


def rendered(pdf: bytes) -> tuple[Any, str]:
    """The first page as an image (PDFium, 144 dpi) and its text."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        textpage = page.get_textpage()
        image, text = page.render(scale=2).to_pil(), textpage.get_text_range()
        textpage.close()
        page.close()
        return image, text
    finally:
        document.close()


def test_a_completed_application_yields_a_pdf_whose_qr_code_opens_its_genuine_page(
    ctx: EngineContext, region: str, tmp_path: Path
) -> None:
    app_id, number = issue(ctx, region)
    assert number == "SIP-3510-2026-000001"
    pdf = pdf_of(ctx, app_id, number)
    image, printed = rendered(pdf)
    image.save(tmp_path / "page.png")
    decoded = [b.text for b in zxingcpp.read_barcodes(image)]
    assert decoded == [f"http://127.0.0.1:8000/verify/{number}"]
    for text in (HOLDER, number, "Jl. Ahmad Yani No. 7, Banyuwangi", "SURAT IZIN PRAKTIK",
                 "7 Desember 2026", "7 Desember 2031", "DPMPTSP KABUPATEN BANYUWANGI"):
        assert text in printed, text

    found = verification.verify_number(ctx, decoded[0].rsplit("/", 1)[1])
    assert found["genuine"] is True and found["status"] == "valid"
    assert found["holder_name"] == HOLDER and found["type"] == "SIP"
    assert str(found["issued_on"]) == "2026-12-07" and str(found["valid_until"]) == "2031-12-07"
    upload_check = verification.verify_upload(ctx, pdf)
    assert upload_check["genuine"] is True and upload_check["document"]["number"] == number

    events = {e.action: e for e in audit.application_events(ctx, SYSTEM, app_id)}
    issued = events["document.issued"].data
    assert issued["sha256"] == hashlib.sha256(pdf).hexdigest() == found["sha256"]
    assert issued["key_id"] == found["key_id"] and len(issued["signature"]) == 128
    assert audit.verify_audit(ctx) == []


def test_the_same_pdf_with_one_byte_changed_is_not_genuine(
    ctx: EngineContext, region: str
) -> None:
    app_id, number = issue(ctx, region)
    pdf = pdf_of(ctx, app_id, number)
    middle = len(pdf) // 2
    changed = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:]
    answer = verification.verify_upload(ctx, changed)
    assert answer["genuine"] is False and answer["document"] is None
    assert answer["sha256"] == hashlib.sha256(changed).hexdigest()
    with pytest.raises(errors.InvalidInputError) as refused:
        verification.verify_upload(ctx, b"GIF89a not a pdf")
    assert refused.value.problems[0].field == "file"


@pytest.mark.parametrize(("column", "value"), [
    ("holder_name", "Someone Else"), ("sha256", "0" * 64), ("doc_type", "PBG"),
    ("valid_until", None),
])
def test_a_register_row_changed_behind_the_engines_back_is_not_genuine(
    ctx: EngineContext, region: str, column: str, value: object
) -> None:
    _, number = issue(ctx, region)
    assert verification.verify_number(ctx, number)["genuine"] is True
    with ctx.uow() as uow:
        setattr(uow.repos.documents.by_number(number), column, value)
        uow.commit()
    assert verification.verify_number(ctx, number)["genuine"] is False


def test_a_revoked_permit_shows_as_revoked_with_its_reason(
    ctx: EngineContext, region: str
) -> None:
    app_id, number = issue(ctx, region)
    supervisor, _ = make_user(ctx, "supervisor", region=region)
    officer, _ = make_user(ctx, "front-office", region=region)
    make_region(ctx, "3273")
    elsewhere, _ = make_user(ctx, "supervisor", region="3273")
    reason = "Izin dicabut: tempat praktik tidak sesuai dengan yang dimohonkan."
    with pytest.raises(errors.PermissionDeniedError):
        verification.revoke(ctx, officer, number, reason)
    with pytest.raises(errors.NotFoundError):
        verification.revoke(ctx, elsewhere, number, reason)
    with pytest.raises(errors.InvalidInputError) as short:
        verification.revoke(ctx, supervisor, number, "no")
    assert short.value.problems[0].field == "reason"
    revoked = verification.revoke(ctx, supervisor, number, reason)
    assert revoked["status"] == "revoked" and revoked["revoked_reason"] == reason
    found = verification.verify_number(ctx, number)
    assert found["status"] == "revoked" and found["genuine"] is True  # genuine, not valid
    with pytest.raises(errors.ConflictError):
        verification.revoke(ctx, supervisor, number, reason)
    events = [e for e in audit.application_events(ctx, SYSTEM, app_id)
              if e.action == "document.revoked"]
    assert [(e.reason, e.actor) for e in events] == [(reason, f"user:{supervisor.id}:{supervisor.name}")]


def test_a_document_signed_before_a_key_rotation_still_verifies(
    ctx: EngineContext, region: str
) -> None:
    first_app, first = issue(ctx, region)
    old_key = verification.verify_number(ctx, first)["key_id"]
    new_key = documents.rotate_key(ctx, SYSTEM, region)
    assert new_key["key_id"] != old_key
    _, second = issue(ctx, region)
    after = verification.verify_number(ctx, second)
    before = verification.verify_number(ctx, first)
    assert after["key_id"] == new_key["key_id"] and after["genuine"] and not after["key_retired"]
    assert before["key_id"] == old_key and before["genuine"] and before["key_retired"]
    assert verification.verify_upload(ctx, pdf_of(ctx, first_app, first))["genuine"] is True
    keys = documents.region_keys(ctx, region)
    assert [k["key_id"] for k in keys] == [new_key["key_id"], old_key]
    assert keys[1]["retired_at"] is not None and keys[0]["retired_at"] is None
    with pytest.raises(errors.PermissionDeniedError):
        documents.rotate_key(ctx, make_user(ctx, "supervisor", region=region)[0], region)


def test_document_numbers_are_unique_and_gapless_under_concurrent_issuing(
    ctx: EngineContext, region: str
) -> None:
    officer, _ = make_user(ctx, "front-office", region=region)
    started = [applications.start_application(ctx, officer, region, "sip", {"name": f"A{i}"}, {})
               for i in range(8)]
    outcomes = race(lambda i: tasks.complete_task(ctx, officer, started[i].tasks[0].id, DATA),
                    threads=8)
    assert all(o.error is None for o in outcomes), [o.trace for o in outcomes if o.error][:1]
    numbers = sorted(d["number"] for app in started
                     for d in verification.application_documents(ctx, SYSTEM, app.id))
    assert numbers == [f"SIP-3510-2026-{n:06d}" for n in range(1, 9)]
    assert len(documents.region_keys(ctx, region)) >= 1
    assert all(verification.verify_number(ctx, n)["genuine"] for n in numbers)


def test_a_cashier_opens_the_application_without_its_documents(
    ctx: EngineContext, region: str
) -> None:
    # The console's application page lists the documents; a cashier (redacted view) was
    # answered 404 for the whole page, and could not record a payment there.
    app_id, _ = issue(ctx, region)
    cashier, _ = make_user(ctx, "cashier", region=region)
    assert applications.get_application(ctx, cashier, app_id).id == app_id
    assert verification.application_documents(ctx, cashier, app_id) == []
    with pytest.raises(errors.NotFoundError):
        verification.application_pdf(ctx, cashier, app_id, "SIP-0000-2026-000001")


def test_a_permit_past_its_validity_shows_as_expired(
    ctx: EngineContext, region: str, clock: Clock
) -> None:
    _, number = issue(ctx, region)
    clock.now += timedelta(days=5 * 366)
    assert verification.verify_number(ctx, number)["status"] == "expired"


def test_the_applicant_downloads_by_tracking_code(ctx: EngineContext, region: str) -> None:
    officer, _ = make_user(ctx, "front-office", region=region)
    app = applications.start_application(ctx, officer, region, "sip", {"name": HOLDER}, {})
    tasks.complete_task(ctx, officer, app.tasks[0].id, DATA)
    (listed,) = verification.documents_by_tracking_code(ctx, app.tracking_code.lower())
    name, pdf = verification.pdf_by_tracking_code(ctx, app.tracking_code, listed["number"])
    assert name.endswith(".pdf") and pdf.startswith(b"%PDF-")
    with pytest.raises(errors.NotFoundError):
        verification.pdf_by_tracking_code(ctx, "PF-NOPE-NOPE-NOPE-NOPE", listed["number"])


def test_without_its_private_key_nothing_is_issued_and_the_step_stays_open(
    ctx: EngineContext, region: str, tmp_path: Path
) -> None:
    _, first = issue(ctx, region)
    key_id = verification.verify_number(ctx, first)["key_id"]
    (ctx.documents.keys.directory / region / f"{key_id}.pem").unlink()
    officer, _ = make_user(ctx, "front-office", region=region)
    app = applications.start_application(ctx, officer, region, "sip", {"name": HOLDER}, {})
    with pytest.raises(errors.SigningKeyUnavailableError) as refused:
        tasks.complete_task(ctx, officer, app.tasks[0].id, DATA)
    assert "-----" not in str(refused.value)  # names the key id, never key material
    again = applications.get_application(ctx, SYSTEM, app.id)
    assert again.status == "running" and again.tasks[0].state == "ready"
    assert verification.application_documents(ctx, SYSTEM, app.id) == []
