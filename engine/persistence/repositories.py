"""Repositories: the queries the services need, one small class per aggregate.

Reads that serve listings touch indexed columns only; the workflow state column is
loaded only by the use cases that run the engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased, defer

from engine.persistence.tables import (
    ApplicationRecord,
    EventRecord,
    FeeItemRecord,
    ModelVersionRecord,
    PaymentRecord,
    ProcessModelRecord,
    RegionRecord,
    TaskRecord,
    UserRecord,
)


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: Any) -> None:
        self.session.add(record)

    def page(self, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
        total = self.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        )
        items = list(self.session.scalars(query.limit(limit).offset(offset)))
        return items, int(total or 0)


class RegionRepository(_Repository):
    def get(self, code: str) -> RegionRecord | None:
        return self.session.get(RegionRecord, code)

    def list(self) -> Sequence[RegionRecord]:
        return self.session.scalars(select(RegionRecord).order_by(RegionRecord.code)).all()


class UserRepository(_Repository):
    def by_token_hash(self, token_hash: str) -> UserRecord | None:
        query = select(UserRecord).where(UserRecord.token_hash == token_hash)
        return self.session.scalars(query).first()

    def get(self, user_id: int) -> UserRecord | None:
        return self.session.get(UserRecord, user_id)


class ModelRepository(_Repository):
    def get(
        self, region_code: str, key: str, *, for_update: bool = False
    ) -> ProcessModelRecord | None:
        query = select(ProcessModelRecord).where(
            ProcessModelRecord.region_code == region_code, ProcessModelRecord.key == key
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def list(self, region_code: str) -> Sequence[ProcessModelRecord]:
        query = (
            select(ProcessModelRecord)
            .where(ProcessModelRecord.region_code == region_code)
            .order_by(ProcessModelRecord.key)
        )
        return self.session.scalars(query).all()

    def version(
        self, model_id: int, version: int, *, with_blobs: bool = True
    ) -> ModelVersionRecord | None:
        query = select(ModelVersionRecord).where(
            ModelVersionRecord.model_id == model_id, ModelVersionRecord.version == version
        )
        if not with_blobs:
            query = query.options(defer(ModelVersionRecord.spec), defer(ModelVersionRecord.bpmn))
        return self.session.scalars(query).first()

    def version_by_id(self, version_id: int) -> ModelVersionRecord | None:
        """A version without its BPMN and spec loaded (read on access: a spec-cache miss)."""
        query = (
            select(ModelVersionRecord)
            .where(ModelVersionRecord.id == version_id)
            .options(
                defer(ModelVersionRecord.spec),
                defer(ModelVersionRecord.bpmn),
                defer(ModelVersionRecord.standard),
            )
        )
        return self.session.scalars(query).first()

    def versions(self, model_id: int) -> Sequence[ModelVersionRecord]:
        query = (
            select(ModelVersionRecord)
            .where(ModelVersionRecord.model_id == model_id)
            .options(defer(ModelVersionRecord.spec), defer(ModelVersionRecord.bpmn))
            .order_by(ModelVersionRecord.version)
        )
        return self.session.scalars(query).all()

    def newest_published(self, model_id: int) -> ModelVersionRecord | None:
        query = (
            select(ModelVersionRecord)
            .where(
                ModelVersionRecord.model_id == model_id, ModelVersionRecord.status == "published"
            )
            .order_by(ModelVersionRecord.version.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()


class ApplicationRepository(_Repository):
    def get(
        self, application_id: uuid.UUID, *, for_update: bool = False
    ) -> ApplicationRecord | None:
        query = select(ApplicationRecord).where(ApplicationRecord.id == application_id)
        if for_update:
            # PostgreSQL serializes writers on the row; SQLite ignores it (one writer anyway).
            query = query.with_for_update()
        else:
            query = query.options(defer(ApplicationRecord.state))
        return self.session.scalars(query).first()

    def listing(
        self,
        region_code: str | None,
        *,
        status: str | None = None,
        process_key: str | None = None,
        created_by: int | None = None,
        overdue_at: datetime | None = None,
    ) -> Select[Any]:
        query = select(ApplicationRecord).options(defer(ApplicationRecord.state))
        if region_code is not None:
            query = query.where(ApplicationRecord.region_code == region_code)
        if status:
            query = query.where(ApplicationRecord.status == status)
        if process_key:
            query = query.where(ApplicationRecord.process_key == process_key)
        if created_by is not None:
            query = query.where(ApplicationRecord.created_by == created_by)
        if overdue_at is not None:
            late_steps = select(TaskRecord.application_id).where(
                TaskRecord.state == "ready", TaskRecord.due_at < overdue_at
            )
            query = query.where(
                ApplicationRecord.status == "running",
                or_(
                    ApplicationRecord.due_at < overdue_at,
                    ApplicationRecord.breached_at.is_not(None),
                    ApplicationRecord.id.in_(late_steps),
                ),
            )
        return query.order_by(ApplicationRecord.created_at.desc(), ApplicationRecord.id)


class TaskRepository(_Repository):
    def get(self, task_id: uuid.UUID) -> TaskRecord | None:
        return self.session.get(TaskRecord, task_id)

    def application_locked(self, task_id: uuid.UUID) -> ApplicationRecord | None:
        """The task's application, its row locked until commit (one statement)."""
        query = (
            select(ApplicationRecord)
            .join(TaskRecord, TaskRecord.application_id == ApplicationRecord.id)
            .where(TaskRecord.id == task_id)
            .with_for_update(of=ApplicationRecord)
        )
        return self.session.scalars(query).first()

    def for_application(self, application_id: uuid.UUID) -> Sequence[TaskRecord]:
        query = (
            select(TaskRecord)
            .options(defer(TaskRecord.data))
            .where(TaskRecord.application_id == application_id)
            .order_by(TaskRecord.ready_at, TaskRecord.element_id)
        )
        return self.session.scalars(query).all()

    def for_applications(self, ids: Iterable[uuid.UUID]) -> Sequence[TaskRecord]:
        query = (
            select(TaskRecord)
            .where(TaskRecord.application_id.in_(list(ids)), TaskRecord.state == "ready")
            .order_by(TaskRecord.ready_at)
        )
        return self.session.scalars(query).all()

    def inbox_page(
        self,
        region_code: str | None,
        roles: Iterable[str] | None,
        *,
        limit: int,
        offset: int,
        claimed_by: int | None = None,
        application_ids: Select[Any] | None = None,
        overdue_at: datetime | None = None,
    ) -> tuple[list[TaskRecord], int]:
        """Ready tasks, soonest due first (then oldest), and how many there are.

        With several roles, each role's tasks come from their own index range and the
        ranges are merged (UNION ALL of per-role LIMITs): the database never sorts all of a
        large inbox to return one page.
        """
        base = select(TaskRecord).where(TaskRecord.state == "ready")
        if overdue_at is not None:
            base = base.where(TaskRecord.due_at < overdue_at)
        if region_code is not None:
            base = base.where(TaskRecord.region_code == region_code)
        if claimed_by is not None:
            base = base.where(TaskRecord.claimed_by == claimed_by)
        if application_ids is not None:
            base = base.where(TaskRecord.application_id.in_(application_ids))
        role_list = None if roles is None else sorted(roles)
        counted = base if role_list is None else base.where(TaskRecord.role.in_(role_list))
        total = self.session.scalar(select(func.count()).select_from(counted.subquery()))
        if not role_list or len(role_list) == 1:
            items = self.session.scalars(
                counted.order_by(*_inbox_order(TaskRecord)).limit(limit).offset(offset)
            ).all()
            return list(items), int(total or 0)
        branches = [
            select(
                base.where(TaskRecord.role == role)
                .order_by(*_inbox_order(TaskRecord))
                .limit(limit + offset)
                .subquery()
            )
            for role in role_list
        ]
        merged = aliased(TaskRecord, union_all(*branches).subquery())
        query = select(merged).order_by(*_inbox_order(merged)).limit(limit).offset(offset)
        return list(self.session.scalars(query).all()), int(total or 0)


def _inbox_order(task: Any) -> tuple[Any, ...]:
    return (task.due_at.asc().nulls_last(), task.ready_at, task.id)


class FeeRepository(_Repository):
    def for_task(self, task_id: uuid.UUID) -> FeeItemRecord | None:
        return self.session.scalars(
            select(FeeItemRecord).where(FeeItemRecord.task_id == task_id)
        ).first()

    def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> FeeItemRecord | None:
        query = select(FeeItemRecord).where(FeeItemRecord.id == item_id)
        return self.session.scalars(query.with_for_update() if for_update else query).first()

    def for_application(self, application_id: uuid.UUID) -> Sequence[FeeItemRecord]:
        query = (
            select(FeeItemRecord)
            .where(FeeItemRecord.application_id == application_id)
            .order_by(FeeItemRecord.created_at, FeeItemRecord.element_id)
        )
        return self.session.scalars(query).all()

    def payment_by_reference(self, reference: str) -> PaymentRecord | None:
        return self.session.scalars(
            select(PaymentRecord).where(PaymentRecord.reference == reference)
        ).first()

    def payments(self, application_id: uuid.UUID) -> Sequence[PaymentRecord]:
        query = select(PaymentRecord).where(PaymentRecord.application_id == application_id)
        return self.session.scalars(query.order_by(PaymentRecord.id)).all()


class EventRepository(_Repository):
    def for_application(self, application_id: uuid.UUID) -> Sequence[EventRecord]:
        query = (
            select(EventRecord)
            .where(EventRecord.application_id == application_id)
            .order_by(EventRecord.id)
        )
        return self.session.scalars(query).all()


class Repositories:
    """All repositories over one session."""

    def __init__(self, session: Session) -> None:
        self.regions = RegionRepository(session)
        self.users = UserRepository(session)
        self.models = ModelRepository(session)
        self.applications = ApplicationRepository(session)
        self.tasks = TaskRepository(session)
        self.events = EventRepository(session)
        self.fees = FeeRepository(session)


class VersionQueries(_Repository):
    """Model versions across regions: replication sources, migration candidates, catalog rows.

    Not part of `Repositories`; services that need it build it over `uow.session`.
    """

    def running_on(self, version_id: int) -> Sequence[uuid.UUID]:
        """Ids of the running applications on one model version, oldest first."""
        query = (
            select(ApplicationRecord.id)
            .where(
                ApplicationRecord.model_version_id == version_id,
                ApplicationRecord.status == "running",
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
            .where(ModelVersionRecord.status == "published")
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
        finished = (app.status == "completed") & (app.completed_at >= since)
        overdue = (app.status == "running") & (
            app.breached_at.is_not(None) | (app.sla_running_since.is_not(None) & (app.due_at < now))
        )
        query = (
            select(
                app.region_code,
                app.process_key,
                func.count().filter(app.created_at >= since),
                func.count().filter(finished),
                func.count().filter(finished & (app.sla_used_minutes <= app.sla_budget_minutes)),
                func.count().filter(overdue),
            )
            .where(or_(app.created_at >= since, app.completed_at >= since, app.status == "running"))
            .group_by(app.region_code, app.process_key)
        )
        return self.session.execute(query).all()

    def cycle_minutes(self, since: datetime) -> Sequence[Any]:
        """(region, process key, cycle minutes) of every application finished since `since`."""
        app = ApplicationRecord
        query = select(app.region_code, app.process_key, app.cycle_minutes).where(
            app.status == "completed", app.completed_at >= since, app.cycle_minutes.is_not(None)
        )
        return self.session.execute(query).all()
