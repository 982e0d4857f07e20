"""Queries of the operations side: readiness checks, worker heartbeats, idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text

from engine.persistence.base import BaseRepository
from engine.persistence.tables import IdempotencyRecord, WorkerHeartbeatRecord


class OpsQueries(BaseRepository):
    """Readiness facts: the database answers, its schema revision, the workers' heartbeats."""

    def ping(self) -> None:
        self.session.execute(text("SELECT 1"))

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: never migrated)."""
        revision = self.session.scalar(text("SELECT version_num FROM alembic_version"))
        return None if revision is None else str(revision)

    def beat(self, worker_id: str, at: datetime, pass_ms: int) -> None:
        """Record a worker's pass (insert or update its one row)."""
        row = self.session.get(WorkerHeartbeatRecord, worker_id)
        if row is None:
            row = WorkerHeartbeatRecord(worker_id=worker_id, beat_at=at, pass_ms=pass_ms)
            self.session.add(row)
        else:
            row.beat_at, row.pass_ms = at, pass_ms

    def last_beat(self) -> datetime | None:
        """The newest heartbeat of any worker."""
        return self.session.scalar(select(func.max(WorkerHeartbeatRecord.beat_at)))


class IdempotencyQueries(BaseRepository):
    """Stored first answers of POSTs sent with an `Idempotency-Key`."""

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.session.get(IdempotencyRecord, (scope, key), populate_existing=True)

    def delete_expired(self, now: datetime) -> int:
        """Forget keys past their expiry; the number forgotten."""
        result = self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
