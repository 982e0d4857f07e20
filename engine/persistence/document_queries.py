"""Issued documents and the regions' public signing keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from engine.persistence.base import BaseRepository
from engine.persistence.tables import IssuedDocumentRecord, SigningKeyRecord


class DocumentRepository(BaseRepository):
    def by_number(
        self, number: str, *, for_update: bool = False
    ) -> IssuedDocumentRecord | None:
        query = select(IssuedDocumentRecord).where(IssuedDocumentRecord.number == number)
        return self.session.scalars(query.with_for_update() if for_update else query).first()

    def by_sha256(self, sha256: str) -> IssuedDocumentRecord | None:
        return self.session.scalars(
            select(IssuedDocumentRecord).where(IssuedDocumentRecord.sha256 == sha256)
        ).first()

    def for_application(self, application_id: uuid.UUID) -> Sequence[IssuedDocumentRecord]:
        return self.session.scalars(
            select(IssuedDocumentRecord)
            .where(IssuedDocumentRecord.application_id == application_id)
            .order_by(IssuedDocumentRecord.issued_at, IssuedDocumentRecord.number)
        ).all()

    def key(self, key_id: str) -> SigningKeyRecord | None:
        return self.session.get(SigningKeyRecord, key_id)

    def keys(self, region_code: str) -> Sequence[SigningKeyRecord]:
        """A region's keys: the active first, then the retired, last retired first (they
        still verify what they signed)."""
        return self.session.scalars(
            select(SigningKeyRecord)
            .where(SigningKeyRecord.region_code == region_code)
            .order_by(
                SigningKeyRecord.retired_at.is_not(None),
                SigningKeyRecord.retired_at.desc(),
                SigningKeyRecord.created_at.desc(),
                SigningKeyRecord.key_id,
            )
        ).all()

    def active_key(self, region_code: str) -> SigningKeyRecord | None:
        """The key that signs the region's new documents: its newest not retired."""
        return self.session.scalars(
            select(SigningKeyRecord)
            .where(SigningKeyRecord.region_code == region_code,
                   SigningKeyRecord.retired_at.is_(None))
            .order_by(SigningKeyRecord.created_at.desc(), SigningKeyRecord.key_id)
        ).first()
