"""Documents: regions' signing keys, the permits and letters issued at end events, and
the documents applicants upload."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables.base import Base


class SigningKeyRecord(Base):
    """The public half of a region's Ed25519 document-signing key (issue #14 item 3).

    The private half is a file in the key directory (`engine/documents/_keys.py`), never
    here. A rotated key gets `retired_at` and stays: documents it signed still verify.
    """

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(Integer)
    retired_at: Mapped[datetime | None]


class IssuedDocumentRecord(Base):
    """A permit or letter issued at an end event: its number, the exact PDF, its signature.

    `pdf` is the bytes issued (the applicant and officers download these); `sha256` is their
    hash, signed with `key_id` as `document_templates.signed_statement` (number, hash, type,
    holder, dates).
    """

    __tablename__ = "issued_documents"
    __table_args__ = (Index("ix_issued_documents_sha256", "sha256"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(64))
    element_id: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(64))
    doc_type: Mapped[str] = mapped_column(String(16))
    title_id: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    holder_name: Mapped[str] = mapped_column(String(300))
    facts: Mapped[list[Any]]
    issued_at: Mapped[datetime]
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    signature: Mapped[str] = mapped_column(String(128))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(Integer)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class ApplicationDocumentRecord(Base):
    """A document an applicant (or the counter for them) uploaded for one requirement of the
    service standard (issue #14 item 4). The bytes are in the blob store under `sha256`; a
    re-upload supersedes the row, never replaces it; an officer may mark it rejected with a
    reason; a row is deleted (`deleted_at`, the bytes dropped) only once the service's
    archive rule no longer keeps it."""

    __tablename__ = "application_documents"
    __table_args__ = (
        Index("ix_application_documents_application", "application_id", "requirement"),
        Index("ix_application_documents_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    region_code: Mapped[str] = mapped_column(String(16))
    requirement: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(32))
    # The sender's file name, for display only (base name, no control characters).
    filename: Mapped[str] = mapped_column(String(200))
    store: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime]
    reviewed_by: Mapped[str | None] = mapped_column(String(300))
    reviewed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
