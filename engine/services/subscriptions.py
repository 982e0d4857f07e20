"""Keeping `message_subscriptions` in step with the workflow: one row per waiting catcher.

Synced after every engine call on a model that can wait for messages (`apply_outcome`),
so a message finds the applications waiting for it by index, never by loading workflows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from engine.domain.statuses import SubscriptionStatus
from engine.persistence.tables import ApplicationRecord, MessageSubscriptionRecord
from engine.unit_of_work import UnitOfWork
from engine.workflow.runtime import Outcome


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
