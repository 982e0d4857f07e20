"""The receipt (*tanda terima*) of an application's documents, and the archive rule.

The requirements are the service standard's (`standard.json` `requirements`: code, name,
mandatory); the archive rule is its `archive.retention_years`: documents are kept while the
application is open and for that many years after it ended (completed or cancelled). A
standard without the rule keeps them for good.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from engine.domain.statuses import OPEN_STATUSES, DocumentStatus
from engine.persistence.tables import ApplicationDocumentRecord, ApplicationRecord
from engine.unit_of_work import UnitOfWork


class ReceiptItem(TypedDict):
    requirement: str
    name: dict[str, Any]
    mandatory: bool
    status: str  # received, rejected or missing
    document: dict[str, Any] | None


class Receipt(TypedDict, total=False):
    tracking_code: str
    title: str
    issued_at: datetime
    items: list[ReceiptItem]
    complete: bool
    missing: list[str]
    rejected: list[str]
    retention_years: int | None
    kept_until: datetime | None
    history: list[dict[str, Any]]


def document_view(document: ApplicationDocumentRecord, *, public: bool) -> dict[str, Any]:
    """One upload; the public view leaves out the file name and who uploaded it."""
    view: dict[str, Any] = {
        "id": document.id,
        "requirement": document.requirement,
        "sha256": document.sha256,
        "size": document.size,
        "media_type": document.media_type,
        "status": document.status,
        "reason": document.reason,
        "uploaded_at": document.uploaded_at,
    }
    if not public:
        view |= {
            "filename": document.filename,
            "store": document.store,
            "uploaded_by": document.uploaded_by,
            "reviewed_by": document.reviewed_by,
            "reviewed_at": document.reviewed_at,
            "deleted_at": document.deleted_at,
        }
    return view


def retention_years(standard: dict[str, Any]) -> int | None:
    """The archive rule's years (None: the standard states none, so nothing is deleted)."""
    years = (standard.get("archive") or {}).get("retention_years")
    return years if isinstance(years, int) and not isinstance(years, bool) and years > 0 else None


def kept_until(app: ApplicationRecord, standard: dict[str, Any]) -> datetime | None:
    """Until when the archive rule keeps the application's documents (None: for as long as
    it is open, or for good when the standard states no rule)."""
    years = retention_years(standard)
    if years is None or app.status in OPEN_STATUSES:
        return None
    ended = app.completed_at or app.updated_at
    try:
        return ended.replace(year=ended.year + years)
    except ValueError:  # 29 February into a common year
        return ended.replace(year=ended.year + years, day=28)


def uploadable(standard: dict[str, Any]) -> list[dict[str, Any]]:
    """The standard's requirements a document is uploaded for: those with a code (checked
    at model upload; one written as plain text is only listed)."""
    requirements = standard.get("requirements")
    if not isinstance(requirements, list):
        return []
    return [r for r in requirements if isinstance(r, dict) and isinstance(r.get("code"), str)]


def receipt(
    uow: UnitOfWork, app: ApplicationRecord, now: datetime, *, public: bool
) -> Receipt:
    """Each requirement of the standard with its current upload (the newest one not
    superseded or deleted): received, rejected (with the reason), or missing."""
    version = uow.repos.models.version_by_id(app.model_version_id)
    standard = (version.standard if version is not None else None) or {}
    rows = uow.repos.applicant_documents.of_application(app.id)
    uploads = [d for d in rows if d.deleted_at is None]
    current: dict[str, ApplicationDocumentRecord] = {}
    for document in uploads:  # oldest first: the newest wins
        if document.status != DocumentStatus.SUPERSEDED:
            current[document.requirement] = document
    items: list[ReceiptItem] = []
    for requirement in uploadable(standard):
        code = str(requirement["code"])
        found = current.get(code)
        items.append(
            {
                "requirement": code,
                "name": requirement.get("name") or {},
                "mandatory": bool(requirement.get("mandatory", True)),
                "status": found.status if found is not None else "missing",
                "document": document_view(found, public=public) if found is not None else None,
            }
        )
    result: Receipt = {
        "tracking_code": app.tracking_code,
        "title": app.title,
        "issued_at": now,
        "items": items,
        "complete": all(
            i["status"] == DocumentStatus.RECEIVED for i in items if i["mandatory"]
        ),
        "missing": [i["requirement"] for i in items if i["status"] == "missing"],
        "rejected": [i["requirement"] for i in items if i["status"] == DocumentStatus.REJECTED],
        "retention_years": retention_years(standard),
        "kept_until": kept_until(app, standard),
    }
    if not public:
        result["history"] = [document_view(d, public=False) for d in uploads]
    return result
