"""Applicants' documents through the use cases (issue #14 item 4), on both databases and
both stores (the file system and S3 on moto's server): uploaded by tracking code or at the
counter, viewed by the step's officer, refused when false or too big, on the receipt,
rejected with a reason and uploaded again, kept while the archive rule keeps them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.persistence.blob_store import BlobStore, digest_of
from engine.services import applicant_documents as documents
from engine.services import applications, audit
from tests.factories import Clock, complete_standard, make_region, make_user, tiny_bpmn, upload
from tests.support import uploaded_files as d

STANDARD = complete_standard(
    requirements=[
        {"code": "ktp", "name": {"id": "KTP pemohon", "en": "Identity card"}, "mandatory": True},
        {"code": "denah", "name": {"id": "Denah lokasi", "en": "Site plan"}, "mandatory": True},
        {"code": "foto", "name": {"id": "Foto", "en": "Photo"}, "mandatory": False},
    ],
    archive={"retention_years": 5},
)


@pytest.fixture
def setup(ctx: EngineContext, blob_store: BlobStore):
    ctx.blobs, ctx.document_max_bytes = blob_store, 64 * 1024
    ctx.clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    region = make_region(ctx)
    upload(ctx, region, d.model_bpmn("izin", role="technical-team"),
           standard=json.dumps(STANDARD).encode())
    upload(ctx, region, tiny_bpmn("lain", role="other-team"))
    counter, _ = make_user(ctx, "front-office")
    reviewer, _ = make_user(ctx, "technical-team")
    stranger, _ = make_user(ctx, "other-team")
    app = applications.start_application(ctx, counter, region, "izin", {"name": "Siti"}, {})
    return {"app": app, "counter": counter, "reviewer": reviewer, "stranger": stranger}


def test_uploaded_by_code_viewed_by_the_officer_and_audited(ctx, setup, blob_store) -> None:
    app, pdf = setup["app"], d.pdf()
    view = documents.upload_by_code(ctx, app.tracking_code, "ktp", pdf, "../../etc/ktp.pdf")
    assert view["sha256"] == digest_of(pdf) and view["media_type"] == "application/pdf"
    assert "filename" not in view  # the public answer carries no file name
    assert blob_store.get(digest_of(pdf)) == pdf  # kept by hash in this store

    got = documents.download(ctx, setup["reviewer"], app.id, view["id"])
    assert (got.content, got.media_type, got.filename) == (pdf, "application/pdf", "ktp.pdf")

    trail = audit.application_events(ctx, SYSTEM, app.id)
    events = {e.action: e for e in trail if e.action.startswith("document.")}
    assert events["document.uploaded"].data["sha256"] == digest_of(pdf)
    assert events["document.viewed"].actor == setup["reviewer"].label


def test_officers_without_a_step_in_the_model_see_nothing(ctx, setup) -> None:
    app = setup["app"]
    view = documents.upload_for(ctx, setup["counter"], app.id, "ktp", d.png(), "ktp.png")
    with pytest.raises(errors.NotFoundError):
        documents.download(ctx, setup["stranger"], app.id, view["id"])
    with pytest.raises(errors.NotFoundError):
        documents.receipt_for(ctx, setup["stranger"], app.id)
    with pytest.raises(errors.PermissionDeniedError):  # reads it, but may not upload for them
        documents.upload_for(ctx, setup["reviewer"], app.id, "ktp", d.png(), None)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"MZ\x90\x00 a program named ktp.pdf", errors.DocumentRefusedError),
        (b"", errors.DocumentRefusedError),
        (d.pdf_with_javascript(), errors.DocumentRefusedError),
        (d.png(size=(400, 400)) + b"\x00" * 70_000, errors.DocumentTooLargeError),
    ],
    ids=["false-type", "zero-bytes", "javascript", "too-big"],
)
def test_false_or_too_big_is_refused_and_nothing_is_kept(ctx, setup, data, error) -> None:
    app = setup["app"]
    with pytest.raises(error) as caught:
        documents.upload_by_code(ctx, app.tracking_code, "ktp", data, "ktp.pdf")
    assert caught.value.problems[0].field == "ktp"
    assert documents.receipt_by_code(ctx, app.tracking_code)["missing"] == ["ktp", "denah", "foto"]


def test_an_unknown_requirement_or_a_bad_code_is_refused(ctx, setup) -> None:
    code = setup["app"].tracking_code
    with pytest.raises(errors.InvalidInputError) as caught:
        documents.upload_by_code(ctx, code, "paspor", d.pdf(), None)
    assert caught.value.problems[0].field == "requirement"
    with pytest.raises(errors.InvalidInputError):
        documents.upload_by_code(ctx, code, "../ktp", d.pdf(), None)
    with pytest.raises(errors.NotFoundError):
        documents.upload_by_code(ctx, "PF-NOPE", "ktp", d.pdf(), None)


def test_the_receipt_lists_what_was_received_rejected_and_missing(ctx, setup) -> None:
    app, code = setup["app"], setup["app"].tracking_code
    ktp = documents.upload_by_code(ctx, code, "ktp", d.pdf(), "ktp.pdf")
    documents.upload_by_code(ctx, code, "denah", d.jpeg(), "denah.jpg")
    receipt = documents.receipt_by_code(ctx, code)
    assert [(i["requirement"], i["status"]) for i in receipt["items"]] == [
        ("ktp", "received"), ("denah", "received"), ("foto", "missing")]
    assert receipt["complete"] and receipt["missing"] == ["foto"]

    documents.reject(ctx, setup["reviewer"], app.id, ktp["id"], "KTP tidak terbaca")
    receipt = documents.receipt_by_code(ctx, code)
    assert not receipt["complete"] and receipt["rejected"] == ["ktp"]
    assert receipt["items"][0]["document"]["reason"] == "KTP tidak terbaca"

    again = documents.upload_by_code(ctx, code, "ktp", d.png(), "ktp.png")
    receipt = documents.receipt_for(ctx, setup["counter"], app.id)
    assert receipt["complete"] and receipt["items"][0]["document"]["id"] == again["id"]
    assert [h["status"] for h in receipt["history"]] == ["rejected", "received", "received"]


def test_a_second_upload_supersedes_the_first_and_the_same_bytes_are_stored_once(
    ctx, setup, blob_store
) -> None:
    app, code, pdf = setup["app"], setup["app"].tracking_code, d.pdf()
    documents.upload_by_code(ctx, code, "ktp", pdf, None)
    documents.upload_by_code(ctx, code, "denah", pdf, None)
    documents.upload_by_code(ctx, code, "ktp", d.jpeg(), None)
    history = documents.receipt_for(ctx, setup["counter"], app.id)["history"]
    assert [(h["requirement"], h["status"]) for h in history] == [
        ("ktp", "superseded"), ("denah", "received"), ("ktp", "received")]
    assert history[0]["sha256"] == history[1]["sha256"]


def test_nothing_is_deleted_while_the_archive_rule_keeps_it(ctx, setup, blob_store) -> None:
    app, pdf = setup["app"], d.pdf()
    view = documents.upload_by_code(ctx, app.tracking_code, "ktp", pdf, None)
    with pytest.raises(errors.DocumentRetainedError, match="open"):
        documents.delete(ctx, SYSTEM, app.id, view["id"])
    applications.cancel_application(ctx, SYSTEM, app.id, "ditarik pemohon")
    with pytest.raises(errors.ApplicationNotRunningError):
        documents.upload_by_code(ctx, app.tracking_code, "denah", pdf, None)
    ctx.clock.advance(days=365 * 5 - 2)
    with pytest.raises(errors.DocumentRetainedError, match="until 2031"):
        documents.delete(ctx, SYSTEM, app.id, view["id"])
    with pytest.raises(errors.PermissionDeniedError):
        documents.delete(ctx, setup["counter"], app.id, view["id"])
    assert blob_store.get(digest_of(pdf)) == pdf

    ctx.clock.advance(days=3)
    assert documents.delete(ctx, SYSTEM, app.id, view["id"])["deleted_at"] == ctx.clock()
    with pytest.raises(errors.DocumentStoreError):
        blob_store.get(digest_of(pdf))
    with pytest.raises(errors.NotFoundError):
        documents.download(ctx, SYSTEM, app.id, view["id"])


def test_a_stored_document_changed_behind_the_engine_is_not_served(ctx, setup, tmp_path) -> None:
    from engine.persistence.blob_store import FileSystemBlobStore

    ctx.blobs = store = FileSystemBlobStore(tmp_path / "tampered")
    app, pdf = setup["app"], d.pdf()
    view = documents.upload_by_code(ctx, app.tracking_code, "ktp", pdf, None)
    path = store._path(digest_of(pdf))
    path.chmod(0o640)
    path.write_bytes(pdf.replace(b"200", b"300"))
    with pytest.raises(errors.DocumentStoreError, match="no longer matches"):
        documents.download(ctx, setup["reviewer"], app.id, view["id"])
