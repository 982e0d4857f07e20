"""Applications: one by id (locked for a step) or tracking code, the listing's query
(filtered, overdue through its indexes), and those past due for the worker's breach pass.

The workflow state column is loaded only by the use cases that run the engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import defer

from engine.domain.statuses import OPEN_STATUSES
from engine.persistence import breach_queries, sla_clauses
from engine.persistence.base import BaseRepository
from engine.persistence.tables import ApplicationRecord


class ApplicationRepository(BaseRepository):
    def by_tracking_code(self, code: str) -> ApplicationRecord | None:
        return self.session.scalars(
            select(ApplicationRecord).where(ApplicationRecord.tracking_code == code)
        ).first()

    def breaching(self, now: datetime, limit: int) -> Sequence[ApplicationRecord]:
        """Up to `limit` open applications past due at `now` with no breach recorded yet,
        locked, skipping rows other workers hold."""
        return breach_queries.breaching(self.session, ApplicationRecord, OPEN_STATUSES, now, limit)

    def breach_left(self, now: datetime) -> bool:
        """Whether an open application past due at `now` is still unmarked, locked or not."""
        return breach_queries.breach_left(self.session, ApplicationRecord, OPEN_STATUSES, now)

    def get(
        self, application_id: uuid.UUID, *, for_update: bool = False
    ) -> ApplicationRecord | None:
        query = select(ApplicationRecord).where(ApplicationRecord.id == application_id)
        if for_update:
            # PostgreSQL serializes writers on the row; SQLite ignores it (one writer anyway).
            # Read the row again even when the session holds it: it may have changed while
            # this transaction waited for the lock.
            query = query.with_for_update().execution_options(populate_existing=True)
        else:
            query = query.options(defer(ApplicationRecord.state))
        return self.session.scalars(query).first()

    def listing(
        self,
        region_code: str | None,
        *,
        status: str | None = None,
        process_key: str | None = None,
        created_by: int | None = None,
        overdue_at: datetime | None = None,
        version_ids: Iterable[int] | None = None,
    ) -> Select[Any]:
        query = select(ApplicationRecord).options(defer(ApplicationRecord.state))
        if version_ids is not None:
            query = query.where(ApplicationRecord.model_version_id.in_(list(version_ids)))
        if region_code is not None:
            query = query.where(ApplicationRecord.region_code == region_code)
        if status:
            query = query.where(ApplicationRecord.status == status)
        if process_key:
            query = query.where(ApplicationRecord.process_key == process_key)
        if created_by is not None:
            query = query.where(ApplicationRecord.created_by == created_by)
        if overdue_at is not None:
            query = query.where(self._overdue(overdue_at))
        return query.order_by(ApplicationRecord.created_at.desc(), ApplicationRecord.id.desc())

    def _overdue(self, now: datetime) -> ColumnElement[bool]:
        """`application_overdue` for a listing: the overdue ids read first through their
        indexes, then listed by id; past `OVERDUE_IDS` of them, the clause itself."""
        ids = self.session.scalars(
            sla_clauses.overdue_application_ids(now).limit(OVERDUE_IDS + 1)
        ).all()
        if len(ids) > OVERDUE_IDS:
            return sla_clauses.application_overdue(now)
        return ApplicationRecord.status.in_(OPEN_STATUSES) & ApplicationRecord.id.in_(ids)


# An overdue listing reads up to this many overdue application ids through their indexes
# and lists those; with more, the database evaluates the clause row by row.
OVERDUE_IDS = 5000
