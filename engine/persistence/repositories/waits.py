"""BPMN timers: an application's waiting timers and the next one due for the worker
(messages and external tasks have their own `*_queries.py` modules)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select

from engine.domain.statuses import TimerStatus
from engine.persistence import sla_clauses
from engine.persistence.base import BaseRepository
from engine.persistence.tables import TimerRecord


class TimerRepository(BaseRepository):
    def get(self, timer_id: uuid.UUID) -> TimerRecord | None:
        return self.session.get(TimerRecord, timer_id)

    def waiting_for(self, application_id: uuid.UUID) -> Sequence[TimerRecord]:
        """The application's timers that have not fired or been cancelled."""
        return self.session.scalars(
            select(TimerRecord).where(
                TimerRecord.application_id == application_id,
                TimerRecord.status == TimerStatus.WAITING,
            )
        ).all()

    def next_due(self, now: datetime, passed: Iterable[uuid.UUID] = ()) -> TimerRecord | None:
        """The earliest timer due at `now`, locked (skipping rows other workers hold), of an
        application not stopped by an error, and not among `passed`."""
        query = select(TimerRecord).where(sla_clauses.timer_due(now))
        skipped = list(passed)
        if skipped:
            query = query.where(TimerRecord.id.not_in(skipped))
        query = query.order_by(TimerRecord.due_at).limit(1).with_for_update(skip_locked=True)
        return self.session.scalars(query).first()
