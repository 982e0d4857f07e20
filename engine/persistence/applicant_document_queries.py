"""Applicants' documents: the rows of one application, and who else refers to a blob."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from engine.persistence.base import BaseRepository
from engine.persistence.tables import ApplicationDocumentRecord


class ApplicantDocumentRepository(BaseRepository):
    def of_application(self, application_id: uuid.UUID) -> Sequence[ApplicationDocumentRecord]:
        """Every upload of the application (superseded, rejected and deleted ones too), in
        the order they came."""
        return self.session.scalars(
            select(ApplicationDocumentRecord)
            .where(ApplicationDocumentRecord.application_id == application_id)
            .order_by(ApplicationDocumentRecord.id)
        ).all()

    def get(
        self, application_id: uuid.UUID, document_id: int, *, for_update: bool = False
    ) -> ApplicationDocumentRecord | None:
        query = select(ApplicationDocumentRecord).where(
            ApplicationDocumentRecord.application_id == application_id,
            ApplicationDocumentRecord.id == document_id,
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def kept_references(self, sha256: str, other_than: int) -> int:
        """How many rows not deleted, besides `other_than`, keep the blob `sha256`."""
        return int(
            self.session.scalar(
                select(func.count()).where(
                    ApplicationDocumentRecord.sha256 == sha256,
                    ApplicationDocumentRecord.id != other_than,
                    ApplicationDocumentRecord.deleted_at.is_(None),
                )
            )
            or 0
        )
