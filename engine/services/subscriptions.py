"""Keeping the indexed waits in step with the workflow: a row per task waiting for a
message (`message_subscriptions`), and per service task waiting for an external worker
(`external_tasks`).

Synced after every engine call on a model that has such tasks (`apply_outcome`), so a
message or a worker finds what waits by index, never by loading workflows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from engine.domain.statuses import ExternalTaskStatus, SubscriptionStatus
from engine.persistence.tables import (
    ApplicationRecord,
    ExternalTaskRecord,
    MessageSubscriptionRecord,
)
from engine.unit_of_work import UnitOfWork
from engine.workflow.outcome import Outcome


def sync_subscriptions(
    uow: UnitOfWork, app: ApplicationRecord, outcome: Outcome, now: datetime
) -> None:
    """Open a row for each task now waiting for a message; close the rows of the others."""
    rows = {(r.task_id, r.name): r for r in uow.repos.messages.waiting_for(app.id)}
    waiting = {(w.task_id, w.name): w for w in outcome.messages}
    for key, wait in waiting.items():
        if key not in rows:
            uow.repos.messages.add(
                MessageSubscriptionRecord(
                    id=uuid.uuid4(),
                    task_id=wait.task_id,
                    application_id=app.id,
                    region_code=app.region_code,
                    name=wait.name,
                    element_id=wait.element_id,
                    status=SubscriptionStatus.WAITING,
                    created_at=now,
                )
            )
    for key, row in rows.items():
        if key not in waiting:
            row.status, row.closed_at = SubscriptionStatus.CLOSED, now


def sync_external_tasks(
    uow: UnitOfWork, app: ApplicationRecord, outcome: Outcome, now: datetime
) -> None:
    """Open a row for each service task now waiting for a worker; cancel the rows of those
    whose path ended (a boundary event, say); reopen one an incident stopped once the
    application runs again (after a retry)."""
    rows = {r.id: r for r in uow.repos.external_tasks.pending_for(app.id)}
    waiting = {w.task_id: w for w in outcome.external}
    for task_id, wait in waiting.items():
        row = rows.get(task_id)
        if row is None:
            uow.repos.external_tasks.add(
                ExternalTaskRecord(
                    id=task_id,
                    application_id=app.id,
                    region_code=app.region_code,
                    element_id=wait.element_id,
                    topic=wait.topic,
                    status=ExternalTaskStatus.OPEN,
                    created_at=now,
                )
            )
        elif row.status == ExternalTaskStatus.FAILED and outcome.error is None:
            row.status, row.retries, row.retry_at = ExternalTaskStatus.OPEN, None, None
            row.worker_id, row.lock_expires_at = None, None
    for task_id, row in rows.items():
        if task_id not in waiting:
            row.status, row.completed_at = ExternalTaskStatus.CANCELLED, now
