"""Delivering the notification outbox: claim one row, send it, record the result.

Each row goes through two short transactions with the send between them:

1. *claim*: the next due pending row is taken (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
   SQLite has one writer at a time) and leased to this worker until now + lease; its
   attempt is counted. Committed before anything is sent.
2. *send*: SMTP or webhook, outside any transaction.
3. *record*: delivered; or failed, due again after an exponential back-off; or, after
   `max_attempts`, a dead letter an admin may re-queue.

A worker that dies before 3 loses nothing: the lease runs out and the row is claimed
again. If it died after the receiver took the message and before 3 committed, the message
is sent again with the same id (e-mail Message-ID, webhook event id header): that one
window is where a receiver sees an id twice, and only that id.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from engine.context import EngineContext
from engine.domain.notification_texts import both, render
from engine.domain.notifications import ChannelKind, OutboxStatus, next_delay
from engine.persistence.tables import OutboxRecord
from engine.services.transports import Message, SendError, post_webhook, send_email

log = logging.getLogger("permitflow.notifications")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # due again later
    dead: int = 0  # dead letters made by this pass
    purged: int = 0  # delivered rows older than the retention, deleted


@dataclass(frozen=True, slots=True)
class _Job:
    row_id: uuid.UUID
    channel_id: int
    kind: str
    settings: dict[str, Any]
    secret: str | None
    message: Message


@lru_cache(maxsize=1)
def worker_id() -> str:
    """This process's name on the leases it holds: host, pid and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver_due(
    ctx: EngineContext,
    now: datetime | None = None,
    worker: str | None = None,
    stop: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Deliver due outbox rows, one at a time, up to the settings' batch. `worker`: the
    name on the leases (default: this process's); `stop`: asked before each row (a worker
    told to stop finishes the row in hand and leaves the rest to the next pass)."""
    now = now or ctx.clock()
    worker = worker or worker_id()
    sent = failed = dead = 0
    for _ in range(ctx.delivery.batch):
        if stop is not None and stop():
            break
        job = _claim(ctx, now, worker)
        if job is None:
            break
        if isinstance(job, str):  # a dead letter made at claim time
            dead += 1
            continue
        error = _send(ctx, job)
        outcome = _record(ctx, job, error, now, worker)
        sent += outcome == OutboxStatus.DELIVERED
        failed += outcome == OutboxStatus.PENDING
        dead += outcome == OutboxStatus.DEAD
    return DeliveryReport(sent, failed, dead, _purge(ctx, now))


def _purge(ctx: EngineContext, now: datetime) -> int:
    """Delete delivered rows past the retention (one batch a pass); dead letters stay."""
    if ctx.delivery.retention is None:
        return 0
    with ctx.uow() as uow:
        purged = uow.repos.notifications.purge_delivered(now - ctx.delivery.retention, 1000)
        uow.commit()
        return purged


def _claim(ctx: EngineContext, now: datetime, worker: str) -> _Job | str | None:
    settings = ctx.delivery
    with ctx.uow() as uow:
        row = uow.repos.notifications.claim_next(now, now + settings.lease, worker)
        if row is None:
            return None
        channel = uow.repos.notifications.channel(row.channel_id)
        reason = None
        if row.attempts > settings.max_attempts:  # this claim would be one too many
            row.attempts -= 1
            reason = f"no attempt finished in {row.attempts} (the worker stopped each time)"
        elif channel is None or not channel.active:
            reason = "the channel was removed or disabled"
        if reason is not None:
            _dead(row, reason, now)
            uow.commit()
            log.warning("notification %s (%s) is a dead letter: %s", row.id, row.event, reason)
            return str(row.id)
        assert channel is not None
        job = _Job(row.id, channel.id, channel.kind, dict(channel.settings), channel.secret,
                   _message(row, channel.language))
        uow.commit()
        return job


def _message(row: OutboxRecord, language: str) -> Message:
    facts: dict[str, Any] = row.payload.get("facts", {})
    subject, body = render(row.event, facts, language)
    audience: dict[str, Any] = {"kind": row.audience}
    if row.role:
        audience["role"] = row.role
    if row.payload.get("contact"):
        audience["contact"] = row.payload["contact"]
    document = {
        "id": str(row.id),
        "type": row.event,
        "region": row.region_code,
        "created_at": row.created_at.isoformat(),
        "application_id": str(row.application_id) if row.application_id else None,
        "audience": audience,
        "facts": facts,
        "text": both(row.event, facts),
    }
    return Message(str(row.id), row.event, tuple(row.recipients), subject, body, language,
                   document)


def _send(ctx: EngineContext, job: _Job) -> str | None:
    """Send; None when it was delivered, else the (personal-data-free) reason."""
    timeout = ctx.delivery.timeout
    try:
        if job.kind == ChannelKind.EMAIL:
            send_email(job.settings, job.secret, job.message, timeout)
        else:
            post_webhook(job.settings, job.secret, job.message, timeout)
    except SendError as exc:
        return str(exc)
    except Exception as exc:  # a bad stored setting must not stop the pass
        log.exception("notification %s could not be sent", job.row_id)
        return f"{type(exc).__name__}"[:200]
    return None


def _record(
    ctx: EngineContext, job: _Job, error: str | None, now: datetime, worker: str
) -> str:
    """The result of one send, in its own transaction; the row's status after it."""
    with ctx.uow() as uow:
        row = uow.repos.notifications.get(job.row_id, for_update=True)
        assert row is not None  # rows are never deleted
        if row.status != OutboxStatus.PENDING:
            return str(row.status)  # another worker took it after our lease ran out
        if error is None:
            row.status, row.delivered_at, row.last_error = OutboxStatus.DELIVERED, now, None
            row.lease_until = row.leased_by = None
            log.info("notification %s (%s) delivered on channel %s, attempt %s",
                     row.id, row.event, job.channel_id, row.attempts)
        elif row.leased_by != worker:
            return str(row.status)  # another worker holds it now: its attempt counts
        elif row.attempts >= ctx.delivery.max_attempts:
            _dead(row, error, now)
            log.warning("notification %s (%s) is a dead letter after %s attempts: %s",
                        row.id, row.event, row.attempts, error)
        else:
            row.last_error = error
            row.next_attempt_at = now + next_delay(row.attempts, ctx.delivery)
            row.lease_until = row.leased_by = None
            log.warning("notification %s (%s) attempt %s failed, next at %s: %s",
                        row.id, row.event, row.attempts, row.next_attempt_at.isoformat(), error)
        status = str(row.status)
        uow.commit()
        return status


def _dead(row: OutboxRecord, reason: str, now: datetime) -> None:
    row.status, row.last_error = OutboxStatus.DEAD, reason[:500]
    row.lease_until = row.leased_by = None
