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
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.errors import ConcurrentUpdateError, StorageUnavailableError
from engine.domain.statuses import ApplicationStatus, TimerStatus
from engine.persistence.tables import ApplicationRecord, TaskRecord, TimerRecord
from engine.services import notifications
from engine.services.audit import record_event
from engine.services.audit_roots import seal_roots
from engine.services.calendars import region_calendar
from engine.services.calls import load_bound
from engine.services.delivery import DeliveryReport, deliver_due
from engine.services.live_steps import carry_live, keep_live, live_key_of, take_live
from engine.services.outcomes import apply_outcome
from engine.unit_of_work import UnitOfWork
from engine.workflow.outcome import Outcome

log = logging.getLogger("permitflow.worker")


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did."""

    timers_fired: int
    steps_breached: int
    applications_breached: int
    timers_failed: int = 0  # their applications went to error; the pass went on
    stopped: bool = False  # asked to stop: the rest is left to the next pass
    notifications: DeliveryReport = field(default_factory=DeliveryReport)
    roots_sealed: int = 0  # audit roots: one per region whose chains grew


BreachKind = Literal["task", "application"]
# Rows another transaction held when a breach batch skipped them: taken again this often,
# this far apart, before the pass leaves them to the next one.
SKIPPED_RETRIES = 20
SKIPPED_WAIT_S = 0.05


def _never() -> bool:
    return False


def run_pass(
    ctx: EngineContext,
    now: datetime | None = None,
    batch: int = 500,
    stop: Callable[[], bool] = _never,
) -> PassReport:
    """Process everything due at `now` (default: the context's clock).

    `stop` is asked before each item (a timer, a batch of breaches): once it answers True
    the pass ends after the item in hand, which is its own transaction, so a worker told
    to stop (SIGTERM) leaves nothing half-done and the next pass takes the rest.
    """
    now = now or ctx.clock()
    fired, failed = _fire_due_timers(ctx, now, batch, stop)
    steps = 0 if stop() else _mark_breaches(ctx, now, batch, "task", stop)
    apps = 0 if stop() else _mark_breaches(ctx, now, batch, "application", stop)
    roots = 0 if stop() else seal_roots(ctx, now)
    # Last: what this pass itself queued (breaches, decisions) goes out in the same pass.
    sent = DeliveryReport() if stop() else deliver_due(ctx, now, stop=stop)
    return PassReport(
        fired, steps, apps, failed, stopped=stop(), notifications=sent, roots_sealed=roots
    )


def _fire_due_timers(
    ctx: EngineContext, now: datetime, batch: int, stop: Callable[[], bool]
) -> tuple[int, int]:
    """Fire due timers, each in its own transaction, until none is due or `stop()`;
    (fired, failed)."""
    fired, failed = 0, 0
    passed: set[uuid.UUID] = set()  # timers this pass could not fire: not taken again
    while not stop():
        taken: uuid.UUID | None = None
        try:
            with ctx.uow() as uow:
                timer = uow.repos.timers.next_due(now, passed)
                if timer is None:
                    return fired, failed
                taken = timer.id
                ran = _fire(ctx, uow, timer, now)
                uow.commit()
                if ran is not None:
                    fired += 1
                    keep_live(ctx, *ran)  # committed: the next step (or timer) starts from it
        except (ConcurrentUpdateError, StorageUnavailableError):
            if taken is None:
                raise  # the database itself is not answering: the pass ends here
            log.warning("timer %s not fired (conflict); the next pass retries it", taken)
            passed.add(taken)
        except Exception as exc:
            if taken is None:
                raise
            # One application's failure must not stop every other timer: it goes to error
            # (audited, retried by a supervisor) and the pass carries on.
            log.exception("timer %s could not be fired; its application goes to error", taken)
            passed.add(taken)
            failed += 1
            _stop_application(ctx, taken, exc, now)
        if fired >= batch:
            return fired, failed
    return fired, failed


def _stop_application(
    ctx: EngineContext, timer_id: uuid.UUID, exc: Exception, now: datetime
) -> None:
    """Put the application of a timer that failed to fire into error, in a transaction of
    its own (the failed one was rolled back). A failure here is logged, never raised."""
    error = {
        "message": f"the timer could not be fired: {type(exc).__name__}: {str(exc)[:500]}",
        "type": type(exc).__name__,
    }
    try:
        with ctx.uow() as uow:
            timer = uow.repos.timers.get(timer_id)
            if timer is None:
                return
            app = uow.repos.applications.get(timer.application_id, for_update=True)
            if app is None or app.status != ApplicationStatus.RUNNING:
                return
            error["element_id"] = timer.element_id
            app.status, app.error, app.updated_at = ApplicationStatus.ERROR, error, now
            record_event(
                uow,
                actor=SYSTEM,
                action="application.error",
                subject=f"application:{app.id}",
                at=now,
                region_code=app.region_code,
                application_id=app.id,
                data=error,
            )
            uow.commit()
    except Exception:
        log.exception("application of timer %s could not be put in error", timer_id)


def _fire(
    ctx: EngineContext, uow: UnitOfWork, timer: TimerRecord, now: datetime
) -> tuple[ApplicationRecord, Outcome] | None:
    """Run the timer's application at `now`; what ran, for `keep_live` after the commit
    (None: the application no longer runs, the timer is cancelled)."""
    # Read with its state: a worker mostly misses the live cache (its process did not run
    # the step before), and a deferred state would cost a second read then.
    app = uow.repos.applications.get(timer.application_id, for_update=True)
    if app is None or app.status != ApplicationStatus.RUNNING:
        timer.status = TimerStatus.CANCELLED
        return None
    version, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
    # Taken (removed) from the live cache: a failure below leaves nothing behind.
    outcome = ctx.runtime.advance(loaded, take_live(ctx, app), now)
    apply_outcome(
        uow,
        app,
        version,
        outcome,
        actor=SYSTEM,
        now=now,
        calendar=region_calendar(ctx, uow, app.region_code),
        was_running=True,  # checked above
    )
    if timer.status == TimerStatus.WAITING and timer.due_at <= now:
        # The engine did not consume it (its task is gone); never retry it forever.
        timer.status = TimerStatus.CANCELLED
        log.warning("timer %s of %s was due but not waiting in the workflow", timer.id, app.id)
    return app, outcome


def _deem_granted(uow: UnitOfWork, app: ApplicationRecord, now: datetime) -> None:
    """Fiktif positif (UU 30/2014 art. 53 as amended by UU 6/2023): the process SLA passed
    with no decision on a model that declares it, so the application is granted by law at
    its due time. Recorded once: the breach it rides on is marked only once."""
    app.deemed_granted_at = app.due_at or now
    record_event(
        uow,
        actor=SYSTEM,
        action="application.deemed_granted",
        subject=f"application:{app.id}",
        at=now,
        region_code=app.region_code,
        application_id=app.id,
        data={
            "deemed_granted_at": app.deemed_granted_at.isoformat(),
            "process_sla": app.process_sla,
            "backstop": app.sla_backstop,
        },
    )


def _mark_breaches(
    ctx: EngineContext, now: datetime, batch: int, kind: BreachKind, stop: Callable[[], bool]
) -> int:
    """Mark everything overdue at `now`, `batch` rows per transaction, until none is left
    (or `stop()`).

    Rows are taken SKIP LOCKED, so a short batch does not mean nothing is left: another
    worker's step-breach batch or audit root may hold an application's row for a moment.
    Such rows are taken again after a short wait, up to `SKIPPED_RETRIES` times; a row
    still held after that (a long request) is left to the next pass. Without this, two
    workers could each skip the rows the other held and neither record the breach.
    """
    total, retries = 0, 0
    while True:
        marked = _mark_batch(ctx, now, batch, kind)
        total += marked
        if stop():
            return total
        if marked >= batch:
            continue
        if retries >= SKIPPED_RETRIES or not _breach_left(ctx, now, kind):
            return total
        retries += 1
        time.sleep(SKIPPED_WAIT_S)


def _breach_left(ctx: EngineContext, now: datetime, kind: BreachKind) -> bool:
    """Whether an overdue row is still unmarked at `now` (one this pass skipped as held)."""
    with ctx.primary_reader() as uow:  # a standby may not have the last marks yet
        repo = uow.repos.tasks if kind == "task" else uow.repos.applications
        return repo.breach_left(now)


def _mark_batch(ctx: EngineContext, now: datetime, batch: int, kind: BreachKind) -> int:
    """Mark one batch in one transaction; how many were marked.

    Steps are marked set-wise: one UPDATE for the batch, and at commit one locked read,
    one UPDATE and one INSERT for all their applications' audit chains (each chain's
    events in order: `engine/persistence/audit_log.py`), so a breach costs the same
    whatever the backlog. Applications stay one record each (few, and a deemed grant
    may ride on one).
    """
    with ctx.uow() as uow:
        rows: Sequence[TaskRecord | ApplicationRecord] = (
            uow.repos.tasks.breaching(now, batch)
            if kind == "task"
            else uow.repos.applications.breaching(now, batch)
        )
        if kind == "task":
            uow.repos.tasks.mark_breached([row.id for row in rows], now)
        # An application's breach bumps its row version, not its state: carried after commit.
        before = [(live_key_of(r), r) for r in rows if isinstance(r, ApplicationRecord)]
        for row in rows:
            if isinstance(row, ApplicationRecord):
                row.breached_at = now
                if row.deemed_approval:
                    _deem_granted(uow, row, now)
                    notifications.decision(uow, row, now, "deemed_granted")
            else:
                notifications.step_overdue(uow, row, now)
            _breach_event(uow, row, kind, now)
        uow.commit()
        for key, app in before:
            carry_live(ctx, key, app)
        return len(rows)


def _breach_event(
    uow: UnitOfWork, row: TaskRecord | ApplicationRecord, kind: BreachKind, now: datetime
) -> None:
    record_event(
        uow,
        actor=SYSTEM,
        action="sla.breached",
        subject=f"{kind}:{row.id}",
        at=now,
        region_code=row.region_code,
        application_id=row.application_id if isinstance(row, TaskRecord) else row.id,
        data={
            "due_at": row.due_at.isoformat() if row.due_at else None,
            "kind": kind,
            "element_id": row.element_id if isinstance(row, TaskRecord) else None,
        },
    )
