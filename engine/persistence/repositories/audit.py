"""An application's audit events, in order (the chains are read in `audit_queries.py`
and written by `audit_log.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from engine.persistence.base import BaseRepository
from engine.persistence.tables import EventRecord


class EventRepository(BaseRepository):
    def for_application(self, application_id: uuid.UUID) -> Sequence[EventRecord]:
        query = (
            select(EventRecord)
            .where(EventRecord.application_id == application_id)
            .order_by(EventRecord.id)
        )
        return self.session.scalars(query).all()
