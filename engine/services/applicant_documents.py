"""Applicants' documents (issue #14 item 4): uploaded for the requirements of the service
standard, proved by content, kept by hash, reviewed by the step's officers, listed on the
receipt (*tanda terima*), deleted only when the service's archive rule lets go of them.

Who does what:
- the applicant, by tracking code (public; the code is the applicant's own), or the counter
  for them (the power acts-for-applicant), or the applicant's own account: upload while the
  application is open; a new upload for a requirement supersedes the earlier one;
- officers who read the application in full (the roles with steps in its model version,
  supervisors, the counter, admins): list, download, and mark a document rejected with a
  reason the applicant sees on the receipt;
- admins: delete a document whose archive period has ended (refused before).

Every upload, view, rejection and deletion is an audit event carrying the document's SHA-256.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ACTS_FOR_APPLICANT, ADMIN, SYSTEM_ACTOR_ID, Actor
from engine.domain.definitions import APPLICANT_ROLES
from engine.domain.document_content import inspect
from engine.domain.errors import (
    ApplicationNotRunningError,
    DocumentRetainedError,
    DocumentStoreError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from engine.domain.formats import TRACKING_CODE
from engine.domain.problems import Problem
from engine.domain.statuses import OPEN_STATUSES, DocumentStatus
from engine.persistence.blob_store import BlobStore, digest_of
from engine.persistence.tables import ApplicationDocumentRecord, ApplicationRecord
from engine.services.access import require_roles, visible_application
from engine.services.applicant_receipt import (
    Receipt,
    document_view,
    kept_until,
    receipt,
    uploadable,
)
from engine.services.audit import record_event
from engine.unit_of_work import UnitOfWork

REQUIREMENT_CODE = re.compile(r"[a-z0-9_]{1,64}")
MAX_REASON = 2_000
MAX_FILENAME = 200
# Who the audit log names for an upload made with the tracking code alone.
APPLICANT_BY_CODE = Actor(SYSTEM_ACTOR_ID, "applicant (tracking code)", None, frozenset())


@dataclass(frozen=True, slots=True)
class Download:
    """A document's bytes as stored, with the type proved at upload."""

    content: bytes
    media_type: str
    filename: str
    sha256: str


def check_requirement(requirement: str) -> str:
    """The requirement code, if it is one in form. Raises: InvalidInputError."""
    if not REQUIREMENT_CODE.fullmatch(requirement or ""):
        raise InvalidInputError(
            "a requirement code is lowercase letters, digits and _",
            [Problem("not a requirement code", field="requirement")],
        )
    return requirement


def upload_by_code(
    ctx: EngineContext, code: str, requirement: str, data: bytes, filename: str | None
) -> dict[str, Any]:
    """Public: the applicant uploads a document for `requirement` by tracking code.

    Raises: NotFoundError, InvalidInputError, DocumentRefusedError, DocumentTooLargeError,
    ApplicationNotRunningError, DocumentStoreError.
    """
    check_requirement(requirement)
    content = inspect(data, field=requirement, max_bytes=ctx.document_max_bytes)
    with ctx.uow() as uow:
        app = _by_code(uow, code, for_update=True)
        return _store(ctx, uow, APPLICANT_BY_CODE, app, requirement, data, content, filename)


def upload_for(
    ctx: EngineContext,
    actor: Actor,
    application_id: uuid.UUID,
    requirement: str,
    data: bytes,
    filename: str | None,
) -> dict[str, Any]:
    """The counter (for the applicant) or the applicant's own account uploads a document.

    Raises: as `upload_by_code`, and PermissionDeniedError.
    """
    check_requirement(requirement)
    content = inspect(data, field=requirement, max_bytes=ctx.document_max_bytes)
    with ctx.uow() as uow:
        app = visible_application(uow, actor, application_id, for_update=True)
        own = bool(actor.roles & APPLICANT_ROLES) and app.created_by == actor.id
        if not (actor.holds(ACTS_FOR_APPLICANT) or own):
            raise PermissionDeniedError(
                "uploading documents needs the power acts-for-applicant, or the applicant's "
                "own account"
            )
        return _store(ctx, uow, actor, app, requirement, data, content, filename)


def receipt_by_code(ctx: EngineContext, code: str) -> Receipt:
    """Public: the receipt (tanda terima) of the application with tracking code `code`: each
    requirement received, rejected (with the reason) or missing. No file names: the public
    view carries no personal data. Raises: NotFoundError."""
    with ctx.reader() as uow:
        app = _by_code(uow, code)
        return receipt(uow, app, ctx.clock(), public=True)


def receipt_for(ctx: EngineContext, actor: Actor, application_id: uuid.UUID) -> Receipt:
    """The receipt with every upload (history too) for officers who read the application in
    full. Raises: NotFoundError."""
    with ctx.reader() as uow:
        app = visible_application(uow, actor, application_id)
        return receipt(uow, app, ctx.clock(), public=False)


def download(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID, document_id: int
) -> Download:
    """A document's bytes for an officer who reads the application in full; the view is an
    audit event. Raises: NotFoundError, DocumentStoreError."""
    with ctx.uow() as uow:
        app = visible_application(uow, actor, application_id)
        document = _document(uow, app, document_id)
        content = _blobs(ctx).get(document.sha256)
        _audit(uow, actor, "document.viewed", app, document, ctx.clock())
        uow.commit()
        return Download(content, document.media_type, document.filename, document.sha256)


def reject(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID, document_id: int, reason: str
) -> dict[str, Any]:
    """An officer marks a received document rejected, saying why (the applicant sees the
    reason on the receipt and uploads again).

    Raises: NotFoundError, PermissionDeniedError, InvalidInputError, ConflictError.
    """
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInputError(
            f"say why the document is rejected (1-{MAX_REASON} characters)",
            [Problem("a reason is required", field="reason")],
        )
    if actor.applicant_only:
        raise PermissionDeniedError("an applicant cannot reject documents")
    now = ctx.clock()
    with ctx.uow() as uow:
        app = visible_application(uow, actor, application_id, for_update=True)
        document = _document(uow, app, document_id, for_update=True)
        if document.status != DocumentStatus.RECEIVED:
            raise InvalidInputError(
                f"only a received document can be rejected; this one is {document.status}",
                [Problem("not a received document", field="document_id")],
            )
        document.status, document.reason = DocumentStatus.REJECTED, reason
        document.reviewed_by, document.reviewed_at = actor.label, now
        _audit(uow, actor, "document.rejected", app, document, now, reason=reason)
        uow.commit()
        return document_view(document, public=False)


def delete(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID, document_id: int
) -> dict[str, Any]:
    """Delete a document whose archive period has ended (admin): the row is kept, marked
    deleted (returned), and the bytes are dropped unless another kept row refers to them.

    Raises: NotFoundError, PermissionDeniedError, DocumentRetainedError, DocumentStoreError.
    """
    require_roles(actor, ADMIN, action="deleting a document")
    now = ctx.clock()
    with ctx.uow() as uow:
        app = visible_application(uow, actor, application_id, for_update=True)
        document = _document(uow, app, document_id, for_update=True)
        standard = _standard(uow, app)
        until = kept_until(app, standard)
        if until is None or until > now:
            raise DocumentRetainedError(_retained_detail(app, standard, until))
        document.deleted_at = now
        _audit(uow, actor, "document.deleted", app, document, now)
        kept = uow.repos.applicant_documents.kept_references(document.sha256, document.id)
        unreferenced = not kept
        view = document_view(document, public=False)
        uow.commit()
    if unreferenced:  # after the commit: a failed commit must not lose the bytes
        _blobs(ctx).delete(view["sha256"])
    return view


def _store(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    requirement: str,
    data: bytes,
    content: Any,
    filename: str | None,
) -> dict[str, Any]:
    if app.status not in OPEN_STATUSES:
        raise ApplicationNotRunningError(
            f"the application is {app.status}: documents are taken while it is open"
        )
    codes = {r["code"] for r in uploadable(_standard(uow, app))}
    if requirement not in codes:
        raise InvalidInputError(
            f"the service standard has no requirement {requirement!r}",
            [Problem(f"expected one of: {', '.join(sorted(codes))}",
                     field="requirement")],
        )
    store = _blobs(ctx)
    sha256 = digest_of(data)
    store.put(sha256, data, content.media_type)  # before the row: never a row without bytes
    now = ctx.clock()
    for earlier in uow.repos.applicant_documents.of_application(app.id):
        if earlier.requirement == requirement and earlier.status == DocumentStatus.RECEIVED:
            earlier.status = DocumentStatus.SUPERSEDED
    document = ApplicationDocumentRecord(
        application_id=app.id,
        region_code=app.region_code,
        requirement=requirement,
        sha256=sha256,
        size=content.size,
        media_type=content.media_type,
        filename=safe_filename(filename, requirement, content.media_type),
        store=store.name,
        status=DocumentStatus.RECEIVED,
        uploaded_by=actor.label,
        uploaded_at=now,
    )
    uow.repos.applicant_documents.add(document)
    uow.flush()
    _audit(uow, actor, "document.uploaded", app, document, now)
    uow.commit()
    return document_view(document, public=actor is APPLICANT_BY_CODE)


def safe_filename(name: str | None, requirement: str, media_type: str) -> str:
    """The sender's file name for display: its base name only, without control or format
    characters, bounded; else `<requirement>.<ext>`. Never used to choose a path."""
    from engine.domain.document_content import EXTENSIONS

    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    return base[:MAX_FILENAME] or f"{requirement}.{EXTENSIONS[media_type]}"


def _by_code(uow: UnitOfWork, code: str, *, for_update: bool = False) -> ApplicationRecord:
    code = (code or "").strip().upper()
    app = uow.repos.applications.by_tracking_code(code) if TRACKING_CODE.matches(code) else None
    if app is None:
        raise NotFoundError("no application has this tracking code")
    if for_update:
        locked = uow.repos.applications.get(app.id, for_update=True)
        assert locked is not None
        return locked
    return app


def _document(
    uow: UnitOfWork, app: ApplicationRecord, document_id: int, *, for_update: bool = False
) -> ApplicationDocumentRecord:
    document = uow.repos.applicant_documents.get(app.id, document_id, for_update=for_update)
    if document is None or document.deleted_at is not None:
        raise NotFoundError(f"document {document_id} not found")
    return document


def _standard(uow: UnitOfWork, app: ApplicationRecord) -> dict[str, Any]:
    version = uow.repos.models.version_by_id(app.model_version_id)
    return (version.standard if version is not None else None) or {}


def _blobs(ctx: EngineContext) -> BlobStore:
    if ctx.blobs is None:
        raise DocumentStoreError("no document store is configured")
    store: BlobStore = ctx.blobs
    return store


def _retained_detail(app: ApplicationRecord, standard: dict[str, Any], until: Any) -> str:
    if app.status in OPEN_STATUSES:
        return "the application is open: its documents are kept"
    if until is None:
        return "the service standard states no archive rule: its documents are kept"
    return f"the archive rule keeps the document until {until.isoformat()}"


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    app: ApplicationRecord,
    document: ApplicationDocumentRecord,
    at: datetime,
    reason: str | None = None,
) -> None:
    record_event(
        uow,
        actor=actor,
        action=action,
        subject=f"document:{document.id}",
        at=at,
        region_code=app.region_code,
        application_id=app.id,
        reason=reason,
        data={
            "requirement": document.requirement,
            "sha256": document.sha256,
            "size": document.size,
            "media_type": document.media_type,
            "store": document.store,
        },
    )
