"""One pass of the SLA and timer worker: fire due timers, mark overdue steps and applications.

It finds work through the partial due-time indexes, so a pass costs what is due, not
what is open. Rows are taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number
of workers can run side by side without doing anything twice; on SQLite every
transaction is `BEGIN IMMEDIATE`, which makes the database itself the single writer.
Each timer fires in its own transaction: a worker that dies loses only the one it held,
and that one is rolled back and picked up again by the next pass.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select

from engine.domain.actors import SYSTEM
from engine.domain.definitions import OPEN_STATUSES
from engine.persistence.tables import ApplicationRecord, TaskRecord, TimerRecord
from engine.services.audit import record_event
from engine.services.calendars import region_calendar
from engine.services.context import EngineContext
from engine.services.progress import apply_outcome, load_spec
from engine.unit_of_work import UnitOfWork

log = logging.getLogger("permitflow.worker")


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did."""

    timers_fired: int
    steps_breached: int
    applications_breached: int


def run_pass(ctx: EngineContext, now: datetime | None = None, batch: int = 500) -> PassReport:
    """Process everything due at `now` (default: the context's clock)."""
    now = now or ctx.clock()
    fired = _fire_due_timers(ctx, now, batch)
    steps = _mark_breaches(ctx, now, batch, TaskRecord, TaskRecord.state == "ready", "task")
    apps = _mark_breaches(
        ctx, now, batch, ApplicationRecord, ApplicationRecord.status.in_(OPEN_STATUSES),
        "application",
    )
    return PassReport(fired, steps, apps)


def _fire_due_timers(ctx: EngineContext, now: datetime, batch: int) -> int:
    fired = 0
    while True:
        with ctx.uow() as uow:
            assert uow.session is not None
            # An application stopped by an error cannot move: its timers wait for the
            # retry, which fires what is due (never cancelled, never taken in a loop here).
            # (A correlated check by primary key: the due-timer index drives the query.)
            stopped = exists().where(
                ApplicationRecord.id == TimerRecord.application_id,
                ApplicationRecord.status == "error",
            )
            timer = uow.session.scalars(
                select(TimerRecord)
                .where(TimerRecord.status == "waiting", TimerRecord.due_at <= now, ~stopped)
                .order_by(TimerRecord.due_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if timer is None:
                return fired
            fired += _fire(ctx, uow, timer, now)
            uow.commit()
        if fired >= batch:
            return fired


def _fire(ctx: EngineContext, uow: UnitOfWork, timer: TimerRecord, now: datetime) -> int:
    app = uow.repos.applications.get(timer.application_id, for_update=True)
    if app is None or app.status != "running":
        timer.status = "cancelled"
        return 0
    version, loaded = load_spec(ctx, uow, app.model_version_id)
    outcome = ctx.runtime.advance(loaded, app.state, now)
    apply_outcome(
        uow,
        app,
        version,
        outcome,
        actor=SYSTEM,
        now=now,
        calendar=region_calendar(ctx, uow, app.region_code),
    )
    if timer.status == "waiting" and timer.due_at <= now:
        # The engine did not consume it (its task is gone); never retry it forever.
        timer.status = "cancelled"
        log.warning("timer %s of %s was due but not waiting in the workflow", timer.id, app.id)
    return 1


def _mark_breaches(
    ctx: EngineContext, now: datetime, batch: int, table: Any, active: Any, kind: str
) -> int:
    """Mark everything overdue at `now`, `batch` rows per transaction, until none is left."""
    total = 0
    while True:
        marked = _mark_batch(ctx, now, batch, table, active, kind)
        total += marked
        if marked < batch:
            return total


def _mark_batch(
    ctx: EngineContext, now: datetime, batch: int, table: Any, active: Any, kind: str
) -> int:
    with ctx.uow() as uow:
        assert uow.session is not None
        rows = uow.session.scalars(
            select(table)
            .where(active, table.breached_at.is_(None), table.due_at <= now)
            .order_by(table.due_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.breached_at = now
            application_id: uuid.UUID = row.application_id if kind == "task" else row.id
            record_event(
                uow,
                actor=SYSTEM,
                action="sla.breached",
                subject=f"{kind}:{row.id}",
                at=now,
                region_code=row.region_code,
                application_id=application_id,
                data={
                    "due_at": row.due_at.isoformat(),
                    "kind": kind,
                    "element_id": getattr(row, "element_id", None),
                },
            )
        uow.commit()
        return len(rows)
