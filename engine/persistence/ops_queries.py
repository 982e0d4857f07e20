"""Queries of the operations side: readiness checks, worker heartbeats, idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, text

from engine.persistence.base import BaseRepository
from engine.persistence.tables import (
    ApplicationRecord,
    IdempotencyRecord,
    ModelVersionRecord,
    RegionRecord,
    TaskRecord,
    WorkerHeartbeatRecord,
)


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

    def store_answer(
        self, scope: str, key: str, status: int, content_type: str, body: bytes
    ) -> None:
        """Fill in the first answer of a claimed key."""
        row = self.session.get(IdempotencyRecord, (scope, key))
        if row is not None:
            row.status, row.content_type, row.body = status, content_type, body


class EtagQueries(BaseRepository):
    """The version counters behind each resource's ETag: (region, counters...) or None."""

    def application(self, application_id: uuid.UUID) -> tuple[str, tuple[object, ...]] | None:
        query = select(ApplicationRecord.region_code, ApplicationRecord.row_version).where(
            ApplicationRecord.id == application_id
        )
        row = self.session.execute(query).first()
        return None if row is None else (row[0], (row[1],))

    def task(self, task_id: uuid.UUID) -> tuple[str, tuple[object, ...]] | None:
        query = (
            select(
                TaskRecord.region_code,
                TaskRecord.state,
                TaskRecord.claimed_by,
                TaskRecord.due_at,
                ApplicationRecord.row_version,
            )
            .join(ApplicationRecord, ApplicationRecord.id == TaskRecord.application_id)
            .where(TaskRecord.id == task_id)
        )
        row = self.session.execute(query).first()
        return None if row is None else (row[0], tuple(row[1:]))

    def calendar(self, region: str) -> tuple[str, tuple[object, ...]] | None:
        query = select(RegionRecord.calendar_revision).where(RegionRecord.code == region)
        revision = self.session.scalar(query)
        return None if revision is None else (region, (revision,))

    def model(self, region: str, key: str) -> tuple[str, tuple[object, ...]] | None:
        query = (
            select(ModelVersionRecord.version, ModelVersionRecord.status)
            .where(ModelVersionRecord.region_code == region, ModelVersionRecord.key == key)
            .order_by(ModelVersionRecord.version)
        )
        rows = self.session.execute(query).all()
        return None if not rows else (region, tuple((v, s) for v, s in rows))
