"""Appending audit events, always inside the use case's own transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.domain.actors import Actor
from engine.persistence.tables import EventRecord
from engine.unit_of_work import UnitOfWork


def record_event(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    subject: str,
    at: datetime,
    region_code: str | None,
    application_id: uuid.UUID | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> EventRecord:
    """Append one event (actor, action, subject, time, reason, before/after data)."""
    event = EventRecord(
        region_code=region_code,
        application_id=application_id,
        actor=actor.label,
        action=action,
        subject=subject,
        at=at,
        reason=reason,
        data=data or {},
    )
    uow.repos.events.add(event)
    return event
