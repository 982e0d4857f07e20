"""Operations use cases: readiness, version facts, worker heartbeats, expiry of idempotency keys.

None of these touch a region's data; they answer an operator (or a load balancer, or
systemd) whether this process can serve, and what it is running.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version

from engine.context import EngineContext
from engine.domain.errors import EngineError
from engine.persistence.schema import head_revision
from engine.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Check:
    """One readiness check: its name, whether it passed, and why not."""

    name: str
    ok: bool
    detail: str


def readiness(ctx: EngineContext, max_heartbeat_age: timedelta) -> list[Check]:
    """The database answers, its schema is at this code's head, a worker passed recently.

    A failing check stops the ones after it that need it (no schema check without a database).
    """
    head = head_revision()
    try:
        with ctx.primary_reader() as uow:
            uow.repos.ops.ping()
            revision = _revision(uow)
            last_beat = uow.repos.ops.last_beat() if revision == head else None
    except EngineError as exc:
        return [Check("database", False, exc.detail)]
    checks = [Check("database", True, "reachable")]
    if revision != head:
        checks.append(
            Check(
                "migrations",
                False,
                f"database at {revision}, code at {head}; run `permitflow db upgrade`",
            )
        )
        return checks
    checks.append(Check("migrations", True, f"at head {head}"))
    checks.append(_worker_check(ctx.clock(), last_beat, max_heartbeat_age))
    return checks


def _revision(uow: UnitOfWork) -> str | None:
    try:
        return uow.repos.ops.schema_revision()
    except EngineError:
        return None  # no alembic_version table: never migrated


def _worker_check(now: datetime, last_beat: datetime | None, max_age: timedelta) -> Check:
    if last_beat is None:
        return Check("worker", False, "no worker has ever passed (start `permitflow worker`)")
    age = now - last_beat
    if age > max_age:
        return Check(
            "worker",
            False,
            f"last worker pass {int(age.total_seconds())} s ago "
            f"(more than {int(max_age.total_seconds())} s)",
        )
    return Check("worker", True, f"last pass {int(age.total_seconds())} s ago")


def version_facts(ctx: EngineContext) -> dict[str, str | None]:
    """This package's version, the schema revision (code and database), SpiffWorkflow's version."""
    try:
        with ctx.primary_reader() as uow:
            database = _revision(uow)
    except EngineError:
        database = None
    return {
        "package": "permitflow",
        "version": _dist_version("permitflow"),
        "schema_revision": head_revision(),
        "database_revision": database,
        "spiffworkflow": _dist_version("spiffworkflow"),
    }


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def worker_id() -> str:
    """This worker process's name in the heartbeat table."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def record_heartbeat(ctx: EngineContext, pass_ms: int, *, name: str | None = None) -> None:
    """Note that this worker finished a pass now, and forget expired idempotency keys."""
    now = ctx.clock()
    with ctx.uow() as uow:
        uow.repos.ops.beat(name or worker_id(), now, pass_ms)
        uow.repos.idempotency.delete_expired(now)
        uow.commit()


@dataclass(frozen=True, slots=True)
class ScrapeFigures:
    """What `GET /metrics` reads from the database at each scrape (right across processes)."""

    lag_seconds: dict[str, float]  # per kind of worker item: age of the oldest unhandled one
    chain_lengths: list[tuple[str, int]]  # (chain, events): a region's code, or "*"


def scrape_figures(ctx: EngineContext) -> ScrapeFigures:
    """The worker's lag (how long the oldest item due and not yet handled has been due; 0
    when nothing waits) and the length of every audit chain, read on the primary.

    Raises: StorageUnavailableError when the database does not answer.
    """
    now = ctx.clock()
    with ctx.primary_reader() as uow:
        oldest = uow.repos.metrics.oldest_unhandled(now)
        chains = uow.repos.metrics.chain_lengths()
    lag = {
        kind: 0.0 if due is None else max(0.0, (now - _aware(due)).total_seconds())
        for kind, due in oldest.items()
    }
    return ScrapeFigures(lag, chains)


def _aware(moment: datetime) -> datetime:
    """SQLite gives times back naive (they are stored in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
