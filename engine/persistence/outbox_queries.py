"""The notification outbox: channels per region, writing rows at commit, claiming due rows.

Rows are written by `write_outbox`, called by the unit of work at commit, so they commit
or roll back with the change that caused them. A region's channel routes are cached per
process under the region's settings revision (`regions.calendar_revision`, which a step
already reads with its lock): a step in a region without channels costs no statement more.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from engine.domain.notifications import (
    ChannelKind,
    ChannelRoute,
    OutboxStatus,
    PendingNotification,
    route,
)
from engine.persistence.base import BaseRepository
from engine.persistence.tables import (
    NotificationChannelRecord,
    OutboxRecord,
    RegionRecord,
)


class RouteCache(Protocol):
    """The per-process cache of channel routes (`EngineContext.channels`)."""

    def get(self, key: Hashable) -> Any: ...

    def put(self, key: Hashable, value: Any) -> None: ...


def write_outbox(
    session: Session,
    notes: Sequence[PendingNotification],
    revisions: dict[str, int],
    cache: RouteCache,
    now: datetime,
) -> int:
    """Add one outbox row per delivery of each note (flushed with the transaction's other
    writes); the number of rows. `revisions`: the regions' settings revisions this
    transaction read already (the step's lock query brings its region's); one read here
    is added to it, so a worker's batch of breaches reads each region's once."""
    rows = []
    unread = {n.region_code for n in notes} - revisions.keys()
    if len(unread) > 1:  # a worker's batch spans regions: their revisions in one query
        query = select(RegionRecord.code, RegionRecord.calendar_revision).where(
            RegionRecord.code.in_(sorted(unread))
        )
        revisions.update({code: revision or 0 for code, revision in session.execute(query)})
    for note in notes:
        channels = _routes(session, note.region_code, revisions, cache)
        for delivery in route(note, channels) if channels else ():
            rows.append(
                OutboxRecord(
                    id=uuid.uuid4(),
                    region_code=note.region_code,
                    channel_id=delivery.channel_id,
                    event=str(note.event),
                    audience=str(note.audience),
                    role=note.role,
                    application_id=note.application_id,
                    recipients=list(delivery.recipients),
                    payload={"facts": note.facts, "contact": note.contact},
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    session.add_all(rows)
    return len(rows)


def _routes(
    session: Session, region: str, revisions: dict[str, int], cache: RouteCache
) -> tuple[ChannelRoute, ...]:
    revision = revisions.get(region)
    if revision is None:
        query = select(RegionRecord.calendar_revision).where(RegionRecord.code == region)
        revision = revisions[region] = session.scalar(query) or 0
    key = ("channels", region, revision)
    routes: tuple[ChannelRoute, ...] | None = cache.get(key)
    if routes is None:
        # Read after the revision: a change committed in between makes this newer than its
        # key, never older (as the calendar cache).
        routes = tuple(channel_route(c) for c in _active(session, region))
        cache.put(key, routes)
    return routes


def channel_route(record: NotificationChannelRecord) -> ChannelRoute:
    """What routing needs of a channel (no secret)."""
    addresses = record.settings.get("role_addresses") or {}
    return ChannelRoute(
        id=record.id,
        kind=ChannelKind(record.kind),
        events=frozenset(record.events),
        language=record.language,
        role_addresses={role: tuple(v) for role, v in addresses.items()},
    )


def _active(session: Session, region: str) -> Sequence[NotificationChannelRecord]:
    query = select(NotificationChannelRecord).where(
        NotificationChannelRecord.region_code == region,
        NotificationChannelRecord.active.is_(True),
    )
    return session.scalars(query.order_by(NotificationChannelRecord.id)).all()


class NotificationRepository(BaseRepository):
    """Channels and the outbox."""

    def channels(self, region: str) -> Sequence[NotificationChannelRecord]:
        query = select(NotificationChannelRecord).where(
            NotificationChannelRecord.region_code == region
        )
        return self.session.scalars(query.order_by(NotificationChannelRecord.id)).all()

    def channel(self, channel_id: int) -> NotificationChannelRecord | None:
        return self.session.get(NotificationChannelRecord, channel_id)

    def claim_next(
        self, now: datetime, lease_until: datetime, worker: str
    ) -> OutboxRecord | None:
        """The next due pending row, leased to `worker` until `lease_until`, its attempt
        counted (committed by the caller, before anything is sent). FOR UPDATE SKIP LOCKED
        on PostgreSQL: workers never wait on each other; on SQLite the transaction is BEGIN
        IMMEDIATE (one writer at a time) and the lease keeps the row while it is sent."""
        query = (
            select(OutboxRecord)
            .where(
                OutboxRecord.status == OutboxStatus.PENDING,
                OutboxRecord.next_attempt_at <= now,
                or_(OutboxRecord.lease_until.is_(None), OutboxRecord.lease_until <= now),
            )
            .order_by(OutboxRecord.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = self.session.scalars(query).first()
        if row is not None:
            row.lease_until, row.leased_by = lease_until, worker
            row.attempts += 1
        return row

    def purge_delivered(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` rows delivered before `before` (dead letters stay)."""
        old = (
            select(OutboxRecord.id)
            .where(OutboxRecord.status == OutboxStatus.DELIVERED,
                   OutboxRecord.delivered_at < before)
            .limit(limit)
            .scalar_subquery()
        )
        result = self.session.execute(delete(OutboxRecord).where(OutboxRecord.id.in_(old)))
        return int(getattr(result, "rowcount", 0) or 0)

    def get(self, row_id: uuid.UUID, *, for_update: bool = False) -> OutboxRecord | None:
        query = select(OutboxRecord).where(OutboxRecord.id == row_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def listing(
        self, region: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[OutboxRecord], int]:
        """Outbox rows, newest first."""
        query = select(OutboxRecord)
        if region is not None:
            query = query.where(OutboxRecord.region_code == region)
        if status is not None:
            query = query.where(OutboxRecord.status == status)
        query = query.order_by(OutboxRecord.created_at.desc(), OutboxRecord.id)
        return self.page(query, limit, offset)
