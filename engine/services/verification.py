"""Checking, revoking and handing out issued documents (issue #14 item 3).

Genuine means: the stored bytes still hash to the recorded SHA-256 and the region's public
key (`key_id`, kept after rotation) verifies the signature of `number|sha256`. An uploaded
PDF is genuine only when its own SHA-256 is that of an issued document that is genuine: one
changed byte anywhere makes it unknown. Status: `valid`, `revoked` (with the reason), or
`expired` (past `valid_until` in the region's time zone).
"""

from __future__ import annotations

import hashlib
import uuid
from zoneinfo import ZoneInfo

from engine.context import EngineContext
from engine.documents import signature_valid
from engine.domain.actors import ADMIN, SUPERVISOR, Access, Actor
from engine.domain.document_templates import is_document_number, signed_statement
from engine.domain.errors import ConflictError, InvalidInputError, NotFoundError
from engine.domain.problems import Problem
from engine.domain.read_models import DocumentSummary, DocumentVerification, UploadVerification
from engine.persistence.tables import IssuedDocumentRecord
from engine.services.access import application_access, require_roles, visible_application
from engine.services.audit import record_event
from engine.unit_of_work import UnitOfWork

MIN_REASON, MAX_REASON = 10, 1000
MAX_PDF_BYTES = 10 * 1024 * 1024
_UNKNOWN = "no such document"


def verify_number(ctx: EngineContext, number: str) -> DocumentVerification:
    """Public: what the register says of document `number`, and whether it is genuine.

    Raises: NotFoundError (the same for a malformed and an unknown number).
    """
    number = (number or "").strip().upper()
    if not is_document_number(number):
        raise NotFoundError(f"{_UNKNOWN}: {number[:48]!r}")
    with ctx.reader() as uow:
        record = uow.repos.documents.by_number(number)
        if record is None:
            raise NotFoundError(f"{_UNKNOWN}: {number!r}")
        return _verification(ctx, uow, record)


def verify_upload(ctx: EngineContext, pdf: bytes) -> UploadVerification:
    """Public: whether `pdf` is exactly a document issued here (hash and signature).

    Raises: InvalidInputError when the upload is empty, too large or not a PDF.
    """
    if not pdf or len(pdf) > MAX_PDF_BYTES or not pdf.startswith(b"%PDF-"):
        raise InvalidInputError("the upload is not a PDF document", [Problem(
            f"upload the PDF as issued (a file starting with %PDF-, at most "
            f"{MAX_PDF_BYTES:,} bytes)", field="file")])
    sha256 = hashlib.sha256(pdf).hexdigest()
    with ctx.reader() as uow:
        record = uow.repos.documents.by_sha256(sha256)
        if record is None:
            return {"genuine": False, "sha256": sha256, "document": None,
                    "reason": "no document was issued with exactly this content: it was "
                              "changed, or it was not issued here"}
        found = _verification(ctx, uow, record)
    reason = ("exactly the document issued under this number" if found["genuine"]
              else "the register's record of this document fails its signature check")
    return {"genuine": found["genuine"], "sha256": sha256, "reason": reason,
            "document": found}


def revoke(ctx: EngineContext, actor: Actor, number: str, reason: str) -> DocumentVerification:
    """Revoke a document (a supervisor of its region, or an admin), with the reason.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError, ConflictError.
    """
    require_roles(actor, SUPERVISOR, ADMIN, action="revoking an issued document")
    reason = (reason or "").strip()
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InvalidInputError("a revocation needs its reason", [Problem(
            f"the reason must be {MIN_REASON}-{MAX_REASON} characters", field="reason")])
    now = ctx.clock()
    with ctx.uow() as uow:
        record = uow.repos.documents.by_number(number.strip().upper(), for_update=True)
        if record is None or not actor.sees_region(record.region_code):
            raise NotFoundError(f"{_UNKNOWN}: {number[:48]!r}")
        if record.revoked_at is not None:
            raise ConflictError(f"document {record.number} was revoked already")
        record.revoked_at, record.revoked_by, record.revoked_reason = now, actor.id, reason
        record_event(
            uow, actor=actor, action="document.revoked", subject=f"document:{record.number}",
            at=now, region_code=record.region_code, application_id=record.application_id,
            reason=reason, data={"number": record.number, "sha256": record.sha256},
        )
        uow.commit()
        return _verification(ctx, uow, record)


def documents_by_tracking_code(ctx: EngineContext, code: str) -> list[DocumentSummary]:
    """Public by tracking code: the documents issued to the application.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        return [_summary(ctx, uow, d) for d in _tracked(uow, code)]


def pdf_by_tracking_code(ctx: EngineContext, code: str, number: str) -> tuple[str, bytes]:
    """The applicant's download: (file name, PDF bytes) of one of its documents.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        for document in _tracked(uow, code):
            if document.number == number.strip().upper():
                return f"{document.number}.pdf", document.pdf
    raise NotFoundError(f"{_UNKNOWN} for this tracking code")


def application_documents(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID
) -> list[DocumentSummary]:
    """The documents issued to an application: all of them to whoever reads the application
    in full, none to a reader of its redacted view (a cashier: holder and facts are personal
    data), so that the application page still opens for them.

    Raises: NotFoundError (the actor does not see the application at all).
    """
    with ctx.reader() as uow:
        app = visible_application(uow, actor, application_id, at_least=Access.REDACTED)
        if application_access(uow, actor, app) is not Access.FULL:
            return []
        return [_summary(ctx, uow, d) for d in uow.repos.documents.for_application(app.id)]


def application_pdf(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID, number: str
) -> tuple[str, bytes]:
    """An officer's download of one of the application's documents.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        app = visible_application(uow, actor, application_id)
        for document in uow.repos.documents.for_application(app.id):
            if document.number == number.strip().upper():
                return f"{document.number}.pdf", document.pdf
    raise NotFoundError(f"{_UNKNOWN} in this application")


def _tracked(uow: UnitOfWork, code: str) -> list[IssuedDocumentRecord]:
    app = uow.repos.applications.by_tracking_code((code or "").strip().upper()[:32])
    if app is None:
        raise NotFoundError("no application has this tracking code")
    return list(uow.repos.documents.for_application(app.id))


def _status(ctx: EngineContext, uow: UnitOfWork, record: IssuedDocumentRecord) -> str:
    if record.revoked_at is not None:
        return "revoked"
    if record.valid_until is not None:
        region = uow.repos.regions.get(record.region_code)
        zone = ZoneInfo(region.timezone) if region is not None else None
        if ctx.clock().astimezone(zone).date() > record.valid_until:
            return "expired"
    return "valid"


def _summary(ctx: EngineContext, uow: UnitOfWork, record: IssuedDocumentRecord) -> DocumentSummary:
    return {"number": record.number, "type": record.doc_type,
            "title": {"id": record.title_id, "en": record.title_en},
            "issued_at": record.issued_at, "status": _status(ctx, uow, record)}


def _verification(
    ctx: EngineContext, uow: UnitOfWork, record: IssuedDocumentRecord
) -> DocumentVerification:
    key = uow.repos.documents.key(record.key_id)
    intact = hashlib.sha256(record.pdf).hexdigest() == record.sha256
    genuine = intact and key is not None and signature_valid(
        key.public_key,
        signed_statement(record.number, record.sha256, record.doc_type, record.holder_name,
                         record.issued_on, record.valid_until),
        record.signature,
    )
    region = uow.repos.regions.get(record.region_code)
    return {
        "number": record.number, "genuine": genuine, "status": _status(ctx, uow, record),
        "type": record.doc_type, "title": {"id": record.title_id, "en": record.title_en},
        "holder_name": record.holder_name,
        "issued_on": record.issued_on, "valid_until": record.valid_until,
        "region": {"code": record.region_code,
                   "name": region.name if region is not None else record.region_code,
                   "timezone": region.timezone if region is not None else "Asia/Jakarta"},
        "revoked_at": record.revoked_at, "revoked_reason": record.revoked_reason,
        "key_id": record.key_id, "key_retired": key is None or key.retired_at is not None,
        "sha256": record.sha256, "verify_url": ctx.documents.verify_url(record.number),
    }

