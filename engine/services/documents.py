"""Issuing documents at an end event, and the regions' signing keys (issue #14 item 3).

When a run completes the process at an end event whose model declares a `document`, the
same transaction (`apply_outcome`) numbers the document in its region's yearly series of
its type (`number_sequences`, the same gap-free upsert as the SKRD billing codes), renders
the PDF from the template and the process data, signs `signed_statement` (number, the PDF's
SHA-256, type, holder, dates)
with the region's active Ed25519 key, stores the exact bytes and writes `document.issued`
into the audit chain (number, hash, key id, signature). Rolled back with the run, a number
is never lost or taken twice.

A region without a key gets one at its first document (audited `signing_key.created`);
`rotate_key` makes a new one and retires the old, whose public half stays: what it signed
still verifies.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime
from typing import Any

from engine.context import EngineContext
from engine.documents import DocumentContent, DocumentSettings, render_pdf, signature_valid
from engine.domain.actors import ADMIN, Actor
from engine.domain.calendar import WorkingCalendar
from engine.domain.document_templates import (
    DocumentTemplate,
    document_number,
    printable,
    signed_statement,
    template_from_dict,
    value_at,
)
from engine.domain.errors import PermissionDeniedError, SigningKeyUnavailableError
from engine.domain.read_models import SigningKeyView
from engine.persistence.tables import (
    ApplicationRecord,
    IssuedDocumentRecord,
    SigningKeyRecord,
)
from engine.services.access import visible_region
from engine.services.audit import record_event
from engine.unit_of_work import UnitOfWork
from engine.workflow.outcome import Outcome

ALGORITHM = "ed25519"
_DEFAULT_AGENCY = {
    "id": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    "en": "One-stop investment and licensing service",
}


def issue_for_outcome(
    uow: UnitOfWork,
    app: ApplicationRecord,
    documents: dict[str, dict[str, Any]],
    outcome: Outcome,
    *,
    actor: Actor,
    now: datetime,
    calendar: WorkingCalendar,
) -> list[IssuedDocumentRecord]:
    """Issue the document of each end event the completed run reached that declares one.

    Raises: SigningKeyUnavailableError (the run is refused, nothing is written).
    """
    if not outcome.completed or not documents:
        return []
    issued = []
    for element_id, _name in outcome.end_events:
        declared = documents.get(element_id)
        if declared is not None:
            issued.append(_issue(uow, app, element_id, declared, outcome.final_data or {},
                                 actor=actor, now=now, calendar=calendar))
    return issued


def _issue(
    uow: UnitOfWork, app: ApplicationRecord, element_id: str, declared: dict[str, Any],
    data: dict[str, Any], *, actor: Actor, now: datetime, calendar: WorkingCalendar,
) -> IssuedDocumentRecord:
    settings = _settings(uow)
    template = template_from_dict(declared["template"])
    issued_on = now.astimezone(calendar.tz).date()
    sequence = uow.repos.billing.next_number(
        app.region_code, f"doc:{template.doc_type}", issued_on.year
    )
    number = document_number(template.doc_type, app.region_code, issued_on.year, sequence)
    key = uow.repos.documents.active_key(app.region_code) or _new_key(
        uow, settings, app.region_code, actor, now
    )
    region = uow.repos.regions.get(app.region_code)
    agency = declared.get("agency") or _DEFAULT_AGENCY
    content = DocumentContent(
        number=number,
        region_name=region.name if region is not None else app.region_code,
        agency_id=agency["id"], agency_en=agency["en"],
        title_id=template.title_id, title_en=template.title_en,
        body_id=template.body_id, body_en=template.body_en,
        holder_name=_holder(template, data, app),
        facts=tuple((f.label_id, f.label_en, printable(value_at(data, f.source), f.suffix))
                    for f in template.fields),
        issued_on=issued_on, valid_until=_valid_until(template, issued_on),
        verify_url=settings.verify_url(number), key_id=key.key_id,
    )
    pdf = render_pdf(content)
    sha256 = hashlib.sha256(pdf).hexdigest()
    statement = signed_statement(number, sha256, template.doc_type, content.holder_name,
                                 issued_on, content.valid_until)
    signature = settings.keys.sign(key.key_id, statement)
    if not signature_valid(key.public_key, statement, signature):
        raise SigningKeyUnavailableError(
            f"the private key file of {key.key_id} does not match its public key"
        )
    record = IssuedDocumentRecord(
        id=uuid.uuid4(), number=number, region_code=app.region_code, application_id=app.id,
        process_key=app.process_key, element_id=element_id, template=template.name,
        doc_type=template.doc_type, title_id=template.title_id, title_en=template.title_en,
        holder_name=content.holder_name, facts=[list(f) for f in content.facts],
        issued_at=now, issued_on=issued_on, valid_until=content.valid_until, sha256=sha256,
        key_id=key.key_id, signature=signature, pdf=pdf,
    )
    uow.repos.documents.add(record)
    record_event(
        uow, actor=actor, action="document.issued", subject=f"document:{number}", at=now,
        region_code=app.region_code, application_id=app.id,
        data={"number": number, "template": template.name, "type": template.doc_type,
              "element_id": element_id, "sha256": sha256, "key_id": key.key_id,
              "algorithm": ALGORITHM, "signature": signature, "bytes": len(pdf)},
    )
    return record


def _settings(uow: UnitOfWork) -> DocumentSettings:
    if uow.documents is None:
        raise SigningKeyUnavailableError("this process has no signing key directory configured")
    return uow.documents


def _holder(template: DocumentTemplate, data: dict[str, Any], app: ApplicationRecord) -> str:
    """The holder's name from the template's path; the applicant's name as a fallback."""
    value = value_at(data, template.holder)
    if value in (None, ""):
        value = (app.applicant or {}).get("name")
    return printable(value)[:300]


def _valid_until(template: DocumentTemplate, issued_on: date) -> date | None:
    if template.valid_years is None:
        return None
    year = issued_on.year + template.valid_years
    try:
        return issued_on.replace(year=year)
    except ValueError:  # 29 February into a common year
        return issued_on.replace(year=year, day=28)


def _new_key(
    uow: UnitOfWork, settings: DocumentSettings, region: str, actor: Actor, now: datetime,
    retire: list[SigningKeyRecord] | None = None,
) -> SigningKeyRecord:
    made = settings.keys.generate(region)
    for old in retire or []:
        old.retired_at = now
    record = SigningKeyRecord(
        key_id=made.key_id, region_code=region, algorithm=ALGORITHM,
        public_key=made.public_key, created_at=now, created_by=actor.id or None,
    )
    uow.repos.documents.add(record)
    record_event(
        uow, actor=actor, action="signing_key.rotated" if retire else "signing_key.created",
        subject=f"signing_key:{made.key_id}", at=now, region_code=region,
        data={"key_id": made.key_id, "algorithm": ALGORITHM, "public_key": made.public_key,
              "retired": [k.key_id for k in retire or []]},
    )
    return record


def rotate_key(ctx: EngineContext, actor: Actor, region: str) -> SigningKeyView:
    """A new signing key for `region` (admin); the old ones are retired, never deleted.

    Raises: PermissionDeniedError, NotFoundError, SigningKeyUnavailableError.
    """
    if not actor.has_any(ADMIN):
        raise PermissionDeniedError("rotating a region's signing key needs the admin role")
    now = ctx.clock()
    with ctx.uow() as uow:
        visible_region(uow, actor, region)
        current = [k for k in uow.repos.documents.keys(region) if k.retired_at is None]
        record = _new_key(uow, _settings(uow), region, actor, now, retire=current)
        uow.commit()
        return key_view(record)


def region_keys(ctx: EngineContext, region: str) -> list[SigningKeyView]:
    """Public: a region's signing keys, newest first, retired ones included.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        visible_region(uow, None, region)
        return [key_view(k) for k in uow.repos.documents.keys(region)]


def key_view(record: SigningKeyRecord) -> SigningKeyView:
    """A public key as the API shows it."""
    return {
        "key_id": record.key_id, "region": record.region_code, "algorithm": record.algorithm,
        "public_key": record.public_key, "created_at": record.created_at,
        "retired_at": record.retired_at,
    }
