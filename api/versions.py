"""Versions and replication: publish, retire, replicate, migrate, and the structural diff."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.read_schemas import VersionDiffSchema
from api.schemas import (
    DiffArgsSchema,
    MigrateSchema,
    MigrationResultSchema,
    ModelVersionSchema,
    ReplicateSchema,
)
from api.wiring import ctx
from engine.domain.diff import render_text
from engine.services import instance_migration, replication, versions

blp = Blueprint(
    "replication",
    __name__,
    url_prefix="/api/v1",
    description="Model versions, replication across regions, migration and diff",
)

MODEL = "/regions/<region>/process-models/<key>"


@blp.route(f"{MODEL}/versions/<int:version>/publish")
class PublishVersion(MethodView):
    @blp.response(200, ModelVersionSchema)
    def post(self, region: str, key: str, version: int) -> Any:
        """Publish a version: new applications start on the newest published one"""
        return versions.publish_version(ctx(), current_actor(), region, key, version)


@blp.route(f"{MODEL}/versions/<int:version>/retire")
class RetireVersion(MethodView):
    @blp.response(200, ModelVersionSchema)
    def post(self, region: str, key: str, version: int) -> Any:
        """Retire a version: running applications finish on it, new ones do not start"""
        return versions.retire_version(ctx(), current_actor(), region, key, version)


@blp.route(f"{MODEL}/replicate")
class Replicate(MethodView):
    @blp.arguments(ReplicateSchema)
    @blp.response(201, ModelVersionSchema)
    def post(self, body: dict[str, Any], region: str, key: str) -> Any:
        """Replicate a published version of any region here, with overrides and lineage

        The keys of `overrides.steps` and `overrides.roles` name steps and roles of the
        source version (422 otherwise, naming each unknown one).
        """
        return replication.replicate_model(
            ctx(), current_actor(), region, key, body["source"], body["overrides"]
        )


@blp.route(f"{MODEL}/migrate")
class Migrate(MethodView):
    @blp.arguments(MigrateSchema)
    @blp.response(200, MigrationResultSchema)
    def post(self, body: dict[str, Any], region: str, key: str) -> Any:
        """Move running applications to another version where it is safe; say why not

        `from_version` and `to_version` differ (422 otherwise).
        """
        return instance_migration.migrate_applications(
            ctx(), current_actor(), region, key, body["from_version"], body["to_version"],
            dry_run=body["dry_run"],
        )


@blp.route("/process-models/diff")
class Diff(MethodView):
    @blp.arguments(DiffArgsSchema, location="query")
    @blp.response(200, VersionDiffSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Structural diff of two versions (REGION/KEY@N), across regions; ?format=text"""
        diff = versions.diff_versions(ctx(), current_actor(), args["a"], args["b"])
        if args["format"] == "text":
            return Response(render_text(diff), mimetype="text/plain")
        return diff
