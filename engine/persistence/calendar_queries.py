"""Calendar overrides, and the open items whose due times follow a region's calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from engine.domain.statuses import OPEN_STATUSES, StepStatus
from engine.persistence.base import BaseRepository
from engine.persistence.tables import ApplicationRecord, CalendarOverrideRecord, TaskRecord


class CalendarRepository(BaseRepository):
    def active_overrides(self, region_code: str) -> Sequence[CalendarOverrideRecord]:
        """The region's overrides that were not removed."""
        return self.session.scalars(
            select(CalendarOverrideRecord).where(
                CalendarOverrideRecord.region_code == region_code,
                CalendarOverrideRecord.removed_at.is_(None),
            )
        ).all()

    def ready_steps_due_from(self, region_code: str, start: datetime) -> Sequence[TaskRecord]:
        """Ready steps of the region due at or after `start` and not breached yet."""
        return self.session.scalars(
            select(TaskRecord).where(
                TaskRecord.region_code == region_code,
                TaskRecord.state == StepStatus.READY,
                TaskRecord.due_at >= start,
                TaskRecord.breached_at.is_(None),
            )
        ).all()

    def running_clocks_due_from(
        self, region_code: str, start: datetime
    ) -> Sequence[ApplicationRecord]:
        """Open applications of the region whose running SLA clock is due at or after
        `start` and not breached yet."""
        return self.session.scalars(
            select(ApplicationRecord).where(
                ApplicationRecord.region_code == region_code,
                ApplicationRecord.status.in_(OPEN_STATUSES),
                ApplicationRecord.due_at >= start,
                ApplicationRecord.breached_at.is_(None),
                ApplicationRecord.sla_running_since.is_not(None),
            )
        ).all()
