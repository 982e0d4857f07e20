"""Applicants' documents over HTTP (issue #14 item 4), on both databases and both stores
(the file system, and S3 on moto's server on loopback, configured as production would be):
the same uploads, downloads, refusals and receipt from each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from engine.persistence.blob_store import digest_of
from engine.services import applications
from tests.api.conftest import bearer
from tests.factories import complete_standard, make_region, make_user, upload
from tests.support import uploaded_files as d
from tests.support.blob_fixtures import S3_CREDENTIALS, new_bucket

LIMIT = 64 * 1024
STANDARD = complete_standard(
    requirements=[
        {"code": "ktp", "name": {"id": "KTP pemohon", "en": "Identity card"}, "mandatory": True},
        {"code": "denah", "name": {"id": "Denah lokasi", "en": "Site plan"}, "mandatory": True},
    ],
    archive={"retention_years": 10},
)


@pytest.fixture(params=["fs", "s3"])
def store_app(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    config = {"DATABASE_URL": db_url, "TESTING": True, "DOCUMENT_MAX_BYTES": LIMIT,
              "DOCUMENT_DIR": str(tmp_path / "documents")}
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_s3")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_CREDENTIALS["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_CREDENTIALS["aws_secret_access_key"])
        config |= {"DOCUMENT_STORE": "s3", "S3_BUCKET": new_bucket(endpoint),
                   "S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1"}
    app = create_app(config)
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.fixture
def world(store_app: Flask) -> dict:
    ctx = store_app.extensions["permitflow"]
    region = make_region(ctx)
    upload(ctx, region, d.model_bpmn("izin", role="technical-team"),
           standard=json.dumps(STANDARD).encode())
    counter, counter_token = make_user(ctx, "front-office")
    _, reviewer_token = make_user(ctx, "technical-team")
    _, cashier_token = make_user(ctx, "cashier")
    app = applications.start_application(ctx, counter, region, "izin", {"name": "Siti"}, {})
    return {"client": store_app.test_client(), "app": app, "ctx": ctx,
            "counter": bearer(counter_token), "reviewer": bearer(reviewer_token),
            "cashier": bearer(cashier_token)}


def put_raw(client: FlaskClient, url: str, data: bytes, **kw):
    return client.put(url, data=data, content_type="application/pdf", **kw)


def test_uploaded_viewed_listed_and_served_the_same_from_each_store(world) -> None:
    client, app = world["client"], world["app"]
    code, pdf, png = app.tracking_code, d.pdf(), d.png()
    # The applicant, by tracking code, with the raw file (its declared type is not trusted).
    answer = put_raw(client, f"/track/{code}/requirements/ktp?filename=KTP%20Siti.pdf", png)
    assert answer.status_code == 201, answer.json
    assert answer.json["media_type"] == "image/png" and answer.json["sha256"] == digest_of(png)
    # The counter, for the applicant, as a multipart form.
    answer = client.put(
        f"/api/v1/applications/{app.id}/requirements/denah", headers=world["counter"],
        data={"file": (__import__("io").BytesIO(pdf), "denah.pdf")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.json
    denah = answer.json

    served = client.get(f"/api/v1/applications/{app.id}/uploads/{denah['id']}/content",
                        headers=world["reviewer"])
    assert served.status_code == 200 and served.data == pdf
    assert served.mimetype == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith('attachment; filename="denah.pdf"')
    # A cashier reads the application's status, not its documents.
    hidden = client.get(f"/api/v1/applications/{app.id}/uploads/{denah['id']}/content",
                        headers=world["cashier"])
    assert hidden.status_code == 404

    receipt = client.get(f"/track/{code}/requirements").json
    assert [(i["requirement"], i["status"]) for i in receipt["items"]] == [
        ("ktp", "received"), ("denah", "received")]
    assert receipt["complete"] and "filename" not in receipt["items"][0]["document"]
    officer_view = client.get(f"/api/v1/applications/{app.id}/requirements",
                              headers=world["reviewer"]).json
    assert officer_view["items"][0]["document"]["filename"] == "KTP Siti.pdf"

    page = client.get(f"/track/{code}", headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert "Tanda terima dokumen persyaratan" in text and digest_of(png)[:12] in text


def test_refused_when_the_type_is_false_or_the_file_too_big_naming_the_document(world) -> None:
    client, code = world["client"], world["app"].tracking_code
    false = put_raw(client, f"/track/{code}/requirements/ktp", b"MZ\x90\x00 not a pdf")
    assert false.status_code == 422 and false.mimetype == "application/problem+json"
    assert false.json["type"] == "document-refused" and false.json["errors"][0]["field"] == "ktp"

    big = put_raw(client, f"/track/{code}/requirements/denah", d.pdf() + b" " * LIMIT)
    assert big.status_code == 413 and big.json["errors"][0]["field"] == "denah"
    # A huge declared length is refused before any of the body is read.
    huge = client.put(f"/track/{code}/requirements/ktp", data=b"%PDF-1.7",
                      environ_overrides={"CONTENT_LENGTH": str(10**12)})
    assert huge.status_code == 413 and huge.json["errors"][0]["field"] == "ktp"

    for data in (b"", d.pdf_with_javascript(), d.jpeg() + d.pdf(), d.png_bomb()):
        answer = put_raw(client, f"/track/{code}/requirements/ktp", data)
        assert answer.status_code == 422, answer.json
        assert answer.json["errors"][0]["field"] == "ktp"
    assert client.get(f"/track/{code}/requirements").json["missing"] == ["ktp", "denah"]


def test_path_traversal_names_choose_nothing(world, tmp_path: Path) -> None:
    client, code = world["client"], world["app"].tracking_code
    bad = put_raw(client, f"/track/{code}/requirements/..%2e", d.pdf())
    assert bad.status_code in (404, 422)
    answer = put_raw(client, f"/track/{code}/requirements/ktp?filename=../../../../tmp/evil.pdf",
                     d.pdf())
    assert answer.status_code == 201
    listed = client.get(f"/api/v1/applications/{world['app'].id}/requirements",
                        headers=world["reviewer"]).json
    assert listed["items"][0]["document"]["filename"] == "evil.pdf"
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert not {"evil.pdf", "ktp", "..%2e"} & written  # stored by hash, if on this disk


def test_rejected_with_a_reason_the_applicant_sees_then_uploaded_again(world) -> None:
    client, app = world["client"], world["app"]
    first = put_raw(client, f"/track/{app.tracking_code}/requirements/ktp", d.jpeg()).json
    url = f"/api/v1/applications/{app.id}/uploads/{first['id']}/reject"
    assert client.post(url, json={"reason": ""}, headers=world["reviewer"]).status_code == 422
    rejected = client.post(url, json={"reason": "Foto KTP buram"}, headers=world["reviewer"])
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    receipt = client.get(f"/track/{app.tracking_code}/requirements").json
    assert receipt["rejected"] == ["ktp"]
    assert receipt["items"][0]["document"]["reason"] == "Foto KTP buram"
    again = put_raw(client, f"/track/{app.tracking_code}/requirements/ktp", d.jpeg((50, 50)))
    assert again.status_code == 201
    assert client.get(f"/track/{app.tracking_code}/requirements").json["rejected"] == []


def test_deletion_is_refused_while_the_archive_rule_keeps_the_document(world, admin) -> None:
    client, app = world["client"], world["app"]
    first = put_raw(client, f"/track/{app.tracking_code}/requirements/ktp", d.pdf()).json
    gone = client.delete(f"/api/v1/applications/{app.id}/uploads/{first['id']}",
                         headers=admin)
    assert gone.status_code == 409 and gone.json["type"] == "document-retained"
