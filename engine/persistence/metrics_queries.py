"""Figures read at scrape time (`GET /metrics`): the worker's lag and the audit chains' length.

They are read from the database, not counted in a process, so every API process answers
the same whatever process did the work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from engine.domain.statuses import OPEN_STATUSES, StepStatus
from engine.persistence import sla_clauses
from engine.persistence.base import BaseRepository
from engine.persistence.tables import (
    ApplicationRecord,
    ChainHeadRecord,
    TaskRecord,
    TimerRecord,
)


class MetricsQueries(BaseRepository):
    """The oldest work the worker has not handled yet, and each audit chain's length."""

    def oldest_unhandled(self, now: datetime) -> dict[str, datetime | None]:
        """For each kind of worker item (`timer`, `task_breach`, `application_breach`), the
        due time of the oldest one due at `now` and not yet handled (None: nothing due).

        The same clauses as the worker's own queries (`sla_clauses`), unlocked."""
        task_breach = sla_clauses.breach_pending(TaskRecord, (StepStatus.READY,), now)
        app_breach = sla_clauses.breach_pending(ApplicationRecord, OPEN_STATUSES, now)
        queries = {
            "timer": select(func.min(TimerRecord.due_at)).where(sla_clauses.timer_due(now)),
            "task_breach": select(func.min(TaskRecord.due_at)).where(task_breach),
            "application_breach": select(func.min(ApplicationRecord.due_at)).where(app_breach),
        }
        return {kind: self.session.scalar(query) for kind, query in queries.items()}

    def chain_lengths(self) -> list[tuple[str, int]]:
        """(chain, number of events) for every audit chain: a region's code, or the
        chain of events outside any region."""
        rows = self.session.execute(
            select(ChainHeadRecord.chain, ChainHeadRecord.seq).order_by(ChainHeadRecord.chain)
        ).all()
        return [(str(chain), int(seq)) for chain, seq in rows]
