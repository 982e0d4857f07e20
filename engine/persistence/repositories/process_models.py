"""Process models and their versions: the current model of a key, a version with or
without its BPMN and spec, the newest published one, the roles of their steps."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import defer

from engine.domain.statuses import VersionStatus
from engine.persistence.base import BaseRepository
from engine.persistence.tables import ModelVersionRecord, ProcessModelRecord


class ModelRepository(BaseRepository):
    def get(
        self, region_code: str, key: str, *, for_update: bool = False
    ) -> ProcessModelRecord | None:
        query = select(ProcessModelRecord).where(
            ProcessModelRecord.region_code == region_code, ProcessModelRecord.key == key
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def roles_of_version(self, version_id: int) -> frozenset[str]:
        """The roles of a model version's steps."""
        query = select(ModelVersionRecord.steps).where(ModelVersionRecord.id == version_id)
        steps = self.session.scalars(query).first() or []
        return frozenset(str(step.get("role")) for step in steps)

    def step_roles(self, region_code: str) -> dict[int, frozenset[str]]:
        """The roles of the steps of every model version of a region, by version id."""
        query = select(ModelVersionRecord.id, ModelVersionRecord.steps).where(
            ModelVersionRecord.region_code == region_code
        )
        return {
            version_id: frozenset(str(step.get("role")) for step in steps or [])
            for version_id, steps in self.session.execute(query)
        }

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
                ModelVersionRecord.model_id == model_id,
                ModelVersionRecord.status == VersionStatus.PUBLISHED,
            )
            .order_by(ModelVersionRecord.version.desc())
            .limit(1)
            .options(defer(ModelVersionRecord.spec), defer(ModelVersionRecord.bpmn))
        )
        return self.session.scalars(query).first()
