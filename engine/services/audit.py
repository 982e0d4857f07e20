"""Appending audit events, always inside the use case's own transaction, and verifying them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.domain.actors import Actor
from engine.domain.audit_chain import (
    ChainBreak,
    StoredEvent,
    chain_of,
    hashed_fields,
    verify_chain,
)
from engine.domain.views import EventView
from engine.persistence.audit_log import PendingEvent
from engine.persistence.tables import ChainHeadRecord, EventRecord
from engine.services.context import EngineContext
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
) -> None:
    """Queue one event (actor, action, subject, time, reason, before/after data); the unit
    of work chains and writes it in the same transaction, at commit."""
    uow.queue_event(
        PendingEvent(
            region_code=region_code,
            application_id=application_id,
            actor=actor.label,
            action=action,
            subject=subject,
            at=at,
            reason=reason,
            data=_jsonable(data or {}),
        )
    )


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the JSON column will give back, so the hash verifies after a round trip."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def verify_audit(ctx: EngineContext, region: str | None = None) -> list[ChainBreak]:
    """Walk every chain (or one region's) and report the first break of each broken one."""
    breaks = []
    with ctx.reader() as uow:
        session = uow.session
        assert session is not None
        heads = {h.chain: (h.seq, h.hash) for h in session.scalars(select(ChainHeadRecord))}
        chains = set(heads) | set(session.scalars(select(EventRecord.chain).distinct()))
        for chain in sorted(chains):
            if region is not None and chain != chain_of(region):
                continue
            found = verify_chain(chain, _stored(uow, chain), heads.get(chain))
            if found is not None:
                breaks.append(found)
    return breaks


def _stored(uow: UnitOfWork, chain: str, page: int = 1000) -> Iterator[StoredEvent]:
    """The chain's events in seq order, read a page at a time (keyset, no open cursor)."""
    assert uow.session is not None
    after = -1
    while True:
        rows = uow.session.scalars(
            select(EventRecord)
            .where(EventRecord.chain == chain, EventRecord.seq > after)
            .order_by(EventRecord.seq)
            .limit(page)
        ).all()
        yield from (_as_stored(e) for e in rows)
        if len(rows) < page:
            return
        after = rows[-1].seq
        uow.session.expunge_all()


def _as_stored(e: EventRecord) -> StoredEvent:
    fields = hashed_fields(
        chain=e.chain,
        seq=e.seq,
        at=e.at,
        actor=e.actor,
        action=e.action,
        subject=e.subject,
        reason=e.reason,
        data=e.data,
        application_id=str(e.application_id) if e.application_id else None,
    )
    return StoredEvent(e.id, e.seq, e.prev_hash, e.hash, fields)


def application_events(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID
) -> list[EventView]:
    """An application's audit events in order, with their chain position and hashes.

    Raises: NotFoundError.
    """
    from engine.services.access import visible_application
    from engine.services.presenters import event_view

    with ctx.reader() as uow:
        visible_application(uow, actor, application_id)
        return [event_view(e) for e in uow.repos.events.for_application(application_id)]
