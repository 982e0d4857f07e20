"""External tasks: what a worker may fetch, locked so two workers never get one task."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select

from engine.domain.statuses import ApplicationStatus, ExternalTaskStatus
from engine.persistence.base import BaseRepository
from engine.persistence.tables import ApplicationRecord, ExternalTaskRecord


class ExternalTaskRepository(BaseRepository):
    def get(self, task_id: uuid.UUID, *, for_update: bool = False) -> ExternalTaskRecord | None:
        query = select(ExternalTaskRecord).where(ExternalTaskRecord.id == task_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(query).first()

    def pending_for(self, application_id: uuid.UUID) -> Sequence[ExternalTaskRecord]:
        """The application's external tasks not finished: open, or failed (an incident)."""
        return self.session.scalars(
            select(ExternalTaskRecord).where(
                ExternalTaskRecord.application_id == application_id,
                ExternalTaskRecord.status.in_((ExternalTaskStatus.OPEN, ExternalTaskStatus.FAILED)),
            )
        ).all()

    def fetchable(
        self, region_code: str, topics: Sequence[str], now: datetime, limit: int
    ) -> Sequence[ExternalTaskRecord]:
        """Up to `limit` open tasks of `topics`, unlocked (or their lock expired) and not
        waiting out a retry timeout, of running applications, oldest first; locked for this
        transaction, skipping rows another worker's transaction holds."""
        query = (
            select(ExternalTaskRecord)
            .join(ApplicationRecord, ApplicationRecord.id == ExternalTaskRecord.application_id)
            .where(
                ExternalTaskRecord.region_code == region_code,
                ExternalTaskRecord.topic.in_(list(topics)),
                ExternalTaskRecord.status == ExternalTaskStatus.OPEN,
                or_(
                    ExternalTaskRecord.lock_expires_at.is_(None),
                    ExternalTaskRecord.lock_expires_at <= now,
                ),
                or_(ExternalTaskRecord.retry_at.is_(None), ExternalTaskRecord.retry_at <= now),
                ApplicationRecord.status == ApplicationStatus.RUNNING,
            )
            .order_by(ExternalTaskRecord.created_at, ExternalTaskRecord.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=ExternalTaskRecord)
        )
        return self.session.scalars(query).all()
