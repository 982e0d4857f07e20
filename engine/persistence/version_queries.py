"""Queries across regions and versions: what a new application starts on, replication
sources, migration candidates and the catalog's figures. Read-only; on `uow.repos.versions`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import defer

from engine.domain.statuses import OPEN_STATUSES, ApplicationStatus, VersionStatus
from engine.persistence import pg_trips, sla_clauses
from engine.persistence.base import BaseRepository
from engine.persistence.tables import (
    ApplicationRecord,
    ModelVersionRecord,
    ProcessModelRecord,
    RegionRecord,
)


@dataclass(frozen=True, slots=True)
class StartTarget:
    """What starting an application reads before it writes: its region's calendar revision,
    the model of the key (None when the region has none) and that model's newest published
    version (None when none is published)."""

    calendar_revision: int
    model_id: int | None
    version_id: int | None


# One statement instead of four (the region, the model, its newest published version, the
# calendar revision): each was a round trip and an ORM load on the start of every
# application (issue #16).
_NEWEST_PUBLISHED = (
    select(ModelVersionRecord.id)
    .where(
        ModelVersionRecord.model_id == ProcessModelRecord.id,
        ModelVersionRecord.status == VersionStatus.PUBLISHED,
    )
    .order_by(ModelVersionRecord.version.desc())
    .limit(1)
    .correlate(ProcessModelRecord)
    .scalar_subquery()
)
_START_TARGET = (
    select(RegionRecord.calendar_revision, ProcessModelRecord.id, _NEWEST_PUBLISHED)
    .select_from(RegionRecord)
    .outerjoin(
        ProcessModelRecord,
        and_(
            ProcessModelRecord.region_code == RegionRecord.code,
            ProcessModelRecord.key == bindparam("key"),
        ),
    )
    .where(RegionRecord.code == bindparam("region"))
)


class VersionQueries(BaseRepository):
    """Model versions across regions: what a new application starts on, replication
    sources, migration candidates, catalog rows."""

    def start_target(self, region_code: str, key: str) -> StartTarget | None:
        """What an application of `key` in the region starts on; None when the region does
        not exist. One statement, no records loaded."""
        session, params = self.session, {"region": region_code, "key": key}
        row: Sequence[Any] | None
        if session.new or session.dirty or session.deleted:  # autoflushed first, as before
            row = session.execute(_START_TARGET, params).first()
        else:  # a start's first read: on PostgreSQL BEGIN travels with it (pg_trips.py)
            row = pg_trips.first_row(session.connection(), _START_TARGET, params)
        if row is None:
            return None
        return StartTarget(int(row[0]), row[1], row[2])

    def running_on(self, version_id: int) -> Sequence[uuid.UUID]:
        """Ids of the running applications on one model version, oldest first."""
        query = (
            select(ApplicationRecord.id)
            .where(
                ApplicationRecord.model_version_id == version_id,
                ApplicationRecord.status == ApplicationStatus.RUNNING,
            )
            .order_by(ApplicationRecord.created_at, ApplicationRecord.id)
        )
        return self.session.scalars(query).all()

    def newest_published_all(
        self, *, region_code: str | None = None, text: str | None = None
    ) -> Sequence[Any]:
        """(version, region) of each model's newest published version, blobs deferred."""
        newest = (
            select(
                ModelVersionRecord.model_id,
                func.max(ModelVersionRecord.version).label("version"),
            )
            .where(ModelVersionRecord.status == VersionStatus.PUBLISHED)
            .group_by(ModelVersionRecord.model_id)
            .subquery()
        )
        query = (
            select(ModelVersionRecord, RegionRecord)
            .join(
                newest,
                (ModelVersionRecord.model_id == newest.c.model_id)
                & (ModelVersionRecord.version == newest.c.version),
            )
            .join(RegionRecord, RegionRecord.code == ModelVersionRecord.region_code)
            .options(
                defer(ModelVersionRecord.spec),
                defer(ModelVersionRecord.bpmn),
                defer(ModelVersionRecord.forms),
                defer(ModelVersionRecord.standard),
            )
            .order_by(ModelVersionRecord.region_code, ModelVersionRecord.key)
        )
        if region_code is not None:
            query = query.where(ModelVersionRecord.region_code == region_code)
        if text:
            needle = text.lower()
            query = query.where(
                or_(
                    func.lower(ModelVersionRecord.key).contains(needle, autoescape=True),
                    func.lower(ModelVersionRecord.title).contains(needle, autoescape=True),
                )
            )
        return self.session.execute(query).all()

    def replication_counts(self) -> dict[tuple[str, str], int]:
        """(source region, source key) -> number of distinct other (region, key) copying it."""
        pairs = (
            select(
                ModelVersionRecord.source_region,
                ModelVersionRecord.source_key,
                ModelVersionRecord.region_code,
                ModelVersionRecord.key,
            )
            .where(ModelVersionRecord.source_region.is_not(None))
            .distinct()
            .subquery()
        )
        query = (
            select(pairs.c.source_region, pairs.c.source_key, func.count())
            .where(
                (pairs.c.region_code != pairs.c.source_region) | (pairs.c.key != pairs.c.source_key)
            )
            .group_by(pairs.c.source_region, pairs.c.source_key)
        )
        return {(r, k): int(n) for r, k, n in self.session.execute(query)}

    def application_figures(self, since: datetime, now: datetime) -> Sequence[Any]:
        """Per (region, process key): started and finished since `since`, finished within
        the process SLA budget, and running ones over their SLA now."""
        app = ApplicationRecord
        finished = (app.status == ApplicationStatus.COMPLETED) & (app.completed_at >= since)
        overdue = sla_clauses.application_overdue(now)
        query = (
            select(
                app.region_code,
                app.process_key,
                func.count().filter(app.created_at >= since),
                func.count().filter(finished),
                func.count().filter(finished & (app.sla_used_minutes <= app.sla_budget_minutes)),
                func.count().filter(overdue),
            )
            .where(
                or_(app.created_at >= since, app.completed_at >= since,
                    app.status.in_(OPEN_STATUSES))
            )
            .group_by(app.region_code, app.process_key)
        )
        return self.session.execute(query).all()

    def cycle_minutes(self, since: datetime) -> Sequence[Any]:
        """(region, process key, cycle minutes) of every application finished since `since`."""
        app = ApplicationRecord
        query = select(app.region_code, app.process_key, app.cycle_minutes).where(
            app.status == ApplicationStatus.COMPLETED,
            app.completed_at >= since,
            app.cycle_minutes.is_not(None),
        )
        return self.session.execute(query).all()
