"""Read models: issued documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict


class SigningKeyView(TypedDict):
    key_id: str
    region: str
    algorithm: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None


class DocumentSummary(TypedDict):
    number: str
    type: str
    title: dict[str, str]
    issued_at: datetime
    status: str


class DocumentVerification(TypedDict):
    number: str
    genuine: bool
    status: str
    type: str
    title: dict[str, str]
    holder_name: str
    issued_on: date
    valid_until: date | None
    region: dict[str, str]
    revoked_at: datetime | None
    revoked_reason: str | None
    key_id: str
    key_retired: bool
    sha256: str
    verify_url: str


class UploadVerification(TypedDict):
    genuine: bool
    sha256: str
    reason: str
    document: DocumentVerification | None
