"""The SLA report's figures per region, process and step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine.domain.statuses import StepStatus
from engine.persistence import sla_clauses
from engine.persistence.base import BaseRepository
from engine.persistence.tables import ApplicationRecord, TaskRecord


class ReportQueries(BaseRepository):
    def completed_steps(
        self, since: datetime, until: datetime, region: str | None, process_key: str | None
    ) -> Sequence[Any]:
        """(region, process key, element id, name, work minutes, completed at, due at) of
        the steps completed in [since, until)."""
        query = (
            select(
                TaskRecord.region_code,
                ApplicationRecord.process_key,
                TaskRecord.element_id,
                TaskRecord.name,
                TaskRecord.work_minutes,
                TaskRecord.completed_at,
                TaskRecord.due_at,
            )
            .join(ApplicationRecord, ApplicationRecord.id == TaskRecord.application_id)
            .where(
                TaskRecord.state == StepStatus.COMPLETED,
                TaskRecord.completed_at >= since,
                TaskRecord.completed_at < until,
            )
        )
        return self.session.execute(_filtered(query, region, process_key)).all()

    def overdue_steps(
        self, now: datetime, region: str | None, process_key: str | None
    ) -> Sequence[Any]:
        """(region, process key, element id, a name, count) of the steps overdue now."""
        query = (
            select(
                TaskRecord.region_code,
                ApplicationRecord.process_key,
                TaskRecord.element_id,
                func.min(TaskRecord.name),
                func.count(),
            )
            .join(ApplicationRecord, ApplicationRecord.id == TaskRecord.application_id)
            .where(sla_clauses.step_overdue(now))
            .group_by(TaskRecord.region_code, ApplicationRecord.process_key, TaskRecord.element_id)
        )
        return self.session.execute(_filtered(query, region, process_key)).all()

    def deemed_granted(
        self, since: datetime, until: datetime, region: str | None, process_key: str | None
    ) -> Sequence[Any]:
        """(region, process key, count) of applications granted by law (fiktif positif)
        in [since, until)."""
        query = (
            select(ApplicationRecord.region_code, ApplicationRecord.process_key, func.count())
            .where(
                ApplicationRecord.deemed_granted_at >= since,
                ApplicationRecord.deemed_granted_at < until,
            )
            .group_by(ApplicationRecord.region_code, ApplicationRecord.process_key)
            .order_by(ApplicationRecord.region_code, ApplicationRecord.process_key)
        )
        if region is not None:
            query = query.where(ApplicationRecord.region_code == region)
        if process_key is not None:
            query = query.where(ApplicationRecord.process_key == process_key)
        return self.session.execute(query).all()


def _filtered(query: Any, region: str | None, key: str | None) -> Any:
    if region is not None:
        query = query.where(TaskRecord.region_code == region)
    if key is not None:
        query = query.where(ApplicationRecord.process_key == key)
    return query
