"""Administering notifications: a region's channels (audited), the outbox, dead letters.

A channel's secret (SMTP password, webhook signing key) is written here and read only by
the worker: no view, audit event or log carries it. Every change to a region's channels
bumps the region's settings revision, so every process routes with the new channels on
its next step there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, Actor
from engine.domain.errors import ConflictError, InvalidInputError, NotFoundError
from engine.domain.notification_channels import check_channel
from engine.domain.notifications import NotificationEvent, OutboxStatus
from engine.domain.problems import Problem
from engine.persistence.tables import NotificationChannelRecord, OutboxRecord, RegionRecord
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.unit_of_work import UnitOfWork

MAX_CHANNELS_PER_REGION = 20


def add_channel(
    ctx: EngineContext, actor: Actor, region: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """Add a channel to `region`.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError.
    """
    require_roles(actor, ADMIN, action="configuring notifications")
    name, kind, settings, secret, events, language = _spec(spec)
    _check(check_channel(kind, settings, secret, events, language))
    now = ctx.clock()
    with ctx.uow() as uow:
        record = visible_region(uow, actor, region)
        if len(uow.repos.notifications.channels(region)) >= MAX_CHANNELS_PER_REGION:
            _check([_problem(f"at most {MAX_CHANNELS_PER_REGION} channels a region", "name")])
        channel = NotificationChannelRecord(
            region_code=region, name=name, kind=kind, settings=settings, secret=secret,
            events=events, language=language, active=bool(spec.get("active", True)),
            created_at=now, updated_at=now,
        )
        uow.repos.notifications.add(channel)
        uow.flush()
        _changed(uow, actor, record, "notification_channel.added", channel, now, secret)
        uow.commit()
        return channel_view(channel)


def change_channel(
    ctx: EngineContext, actor: Actor, channel_id: int, spec: dict[str, Any]
) -> dict[str, Any]:
    """Replace a channel's configuration; without `secret` the stored one is kept.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError.
    """
    require_roles(actor, ADMIN, action="configuring notifications")
    name, kind, settings, secret, events, language = _spec(spec)
    now = ctx.clock()
    with ctx.uow() as uow:
        channel, record = _visible_channel(uow, actor, channel_id)
        if kind != channel.kind:
            _check([_problem("a channel's kind cannot change; add a new channel", "kind")])
        _check(check_channel(kind, settings, secret, events, language,
                             secret_kept=channel.secret is not None))
        channel.name, channel.settings, channel.events = name, settings, events
        channel.language, channel.active = language, bool(spec.get("active", True))
        if secret is not None:
            channel.secret = secret
        channel.updated_at = now
        _changed(uow, actor, record, "notification_channel.changed", channel, now, secret)
        uow.commit()
        return channel_view(channel)


def remove_channel(ctx: EngineContext, actor: Actor, channel_id: int) -> dict[str, Any]:
    """Disable a channel (kept for its outbox rows; pending rows become dead letters).

    Raises: PermissionDeniedError, NotFoundError.
    """
    require_roles(actor, ADMIN, action="configuring notifications")
    now = ctx.clock()
    with ctx.uow() as uow:
        channel, record = _visible_channel(uow, actor, channel_id)
        channel.active, channel.updated_at = False, now
        _changed(uow, actor, record, "notification_channel.removed", channel, now, None)
        uow.commit()
        return channel_view(channel)


def list_channels(ctx: EngineContext, actor: Actor, region: str) -> list[dict[str, Any]]:
    """A region's channels (secrets never shown: `secret_set` says whether one is stored).

    Raises: PermissionDeniedError, NotFoundError.
    """
    require_roles(actor, ADMIN, action="reading the notification channels")
    with ctx.reader() as uow:
        visible_region(uow, actor, region)
        return [channel_view(c) for c in uow.repos.notifications.channels(region)]


def outbox(
    ctx: EngineContext, actor: Actor, region: str, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """A region's outbox, newest first (`status` "dead": the dead letters). No recipient
    or message content is listed: they may be personal data.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError.
    """
    require_roles(actor, ADMIN, action="reading the notification outbox")
    if status is not None and status not in tuple(OutboxStatus):
        _check([_problem(f"one of {', '.join(OutboxStatus)}", "status")])
    with ctx.reader() as uow:
        visible_region(uow, actor, region)
        rows, total = uow.repos.notifications.listing(region, status, limit, offset)
        return {"items": [outbox_view(r) for r in rows], "total": total}


def requeue(ctx: EngineContext, actor: Actor, row_id: uuid.UUID) -> dict[str, Any]:
    """Put a dead letter back in the queue: due now, with a fresh count of attempts.

    Raises: PermissionDeniedError, NotFoundError, ConflictError (not a dead letter).
    """
    require_roles(actor, ADMIN, action="re-queuing a notification")
    now = ctx.clock()
    with ctx.uow() as uow:
        row = uow.repos.notifications.get(row_id, for_update=True)
        if row is None or not actor.sees_region(row.region_code):
            raise NotFoundError(f"notification {row_id} not found")
        if row.status != OutboxStatus.DEAD:
            raise ConflictError(f"notification {row_id} is {row.status}, not a dead letter")
        record_event(
            uow, actor=actor, action="notification.requeued", subject=f"notification:{row.id}",
            at=now, region_code=row.region_code, application_id=row.application_id,
            data={"event": row.event, "channel_id": row.channel_id, "attempts": row.attempts,
                  "last_error": row.last_error},
        )
        row.status, row.attempts, row.next_attempt_at = OutboxStatus.PENDING, 0, now
        row.lease_until = row.leased_by = None
        uow.commit()
        return outbox_view(row)


def channel_view(channel: NotificationChannelRecord) -> dict[str, Any]:
    return {
        "id": channel.id, "region": channel.region_code, "name": channel.name,
        "kind": channel.kind, "settings": channel.settings, "events": channel.events,
        "language": channel.language, "active": channel.active,
        "secret_set": channel.secret is not None,
        "created_at": channel.created_at, "updated_at": channel.updated_at,
    }


def outbox_view(row: OutboxRecord) -> dict[str, Any]:
    return {
        "id": row.id, "region": row.region_code, "channel_id": row.channel_id,
        "event": row.event, "audience": row.audience, "role": row.role,
        "application_id": row.application_id, "recipients": len(row.recipients),
        "status": row.status, "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at, "last_error": row.last_error,
        "created_at": row.created_at, "delivered_at": row.delivered_at,
    }


def _spec(spec: dict[str, Any]) -> tuple[str, str, dict[str, Any], str | None, list[str], str]:
    name = str(spec.get("name") or "").strip()
    if not name or len(name) > 100:
        _check([_problem("a name of 1 to 100 characters", "name")])
    settings = spec.get("settings") or {}
    if not isinstance(settings, dict):
        _check([_problem("an object", "settings")])
    events = spec.get("events")
    if events is None:
        events = [str(e) for e in NotificationEvent]
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        _check([_problem("a list of event names", "events")])
    secret = spec.get("secret")
    if secret is not None and not isinstance(secret, str):
        _check([_problem("a string", "secret")])
    return (name, str(spec.get("kind") or ""), dict(settings), secret, sorted(set(events)),
            str(spec.get("language") or "id"))


def _visible_channel(
    uow: UnitOfWork, actor: Actor, channel_id: int
) -> tuple[NotificationChannelRecord, RegionRecord]:
    channel = uow.repos.notifications.channel(channel_id)
    if channel is None or not actor.sees_region(channel.region_code):
        raise NotFoundError(f"notification channel {channel_id} not found")
    return channel, visible_region(uow, actor, channel.region_code)


def _changed(
    uow: UnitOfWork, actor: Actor, region: RegionRecord, action: str,
    channel: NotificationChannelRecord, now: datetime, secret: str | None,
) -> None:
    """Audit the change (never the secret, nor officers' addresses: how many per role) and
    bump the region's settings revision (an SQL increment: concurrent changes get two)."""
    region.calendar_revision = RegionRecord.calendar_revision + 1
    settings = dict(channel.settings)
    if "role_addresses" in settings:
        settings["role_addresses"] = {r: len(a) for r, a in settings["role_addresses"].items()}
    record_event(
        uow, actor=actor, action=action, subject=f"notification_channel:{channel.id}",
        at=now, region_code=channel.region_code,
        data={"name": channel.name, "kind": channel.kind, "settings": settings,
              "events": channel.events, "language": channel.language,
              "active": channel.active, "secret_changed": secret is not None},
    )


def _problem(message: str, field: str) -> Problem:
    return Problem(message, field=field)


def _check(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInputError("the notification channel is not valid", problems)
