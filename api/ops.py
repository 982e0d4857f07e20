"""Operations endpoints: liveness, readiness and version (for load balancers, systemd, people)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from api.blueprint import Blueprint
from api.errors import problem
from api.wiring import ctx
from engine.services import ops

blp = Blueprint("ops", __name__, url_prefix="", description="Operations: health and version")


class CheckSchema(Schema):
    name = fields.String(required=True, metadata={"description": "database, migrations, worker"})
    ok = fields.Boolean(required=True)
    detail = fields.String(required=True)


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"description": "`ready`"})
    checks = fields.List(fields.Nested(CheckSchema), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "`alive`"})


class VersionSchema(Schema):
    package = fields.String(required=True)
    version = fields.String(required=True)
    schema_revision = fields.String(
        required=True, metadata={"description": "the newest migration this code ships"}
    )
    database_revision = fields.String(
        allow_none=True, metadata={"description": "the migration the database is at"}
    )
    spiffworkflow = fields.String(required=True)


@blp.route("/healthz")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self) -> Any:
        """Public: the process is alive (it does not touch the database)"""
        return {"status": "alive"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, description="a check failed: problem+json naming it")
    def get(self) -> Any:
        """Public: the database answers, migrations are at head, a worker passed recently"""
        max_age = timedelta(seconds=float(current_app.config["READY_WORKER_MAX_AGE"]))
        checks = ops.readiness(ctx(), max_age)
        listed = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]
        failed = [c for c in checks if not c.ok]
        if not failed:
            return {"status": "ready", "checks": listed}
        return problem(
            503,
            "not-ready",
            ("Layanan belum siap", "Not ready"),
            "; ".join(f"{c.name}: {c.detail}" for c in failed),
            [{"field": c.name, "message": c.detail} for c in failed],
            {"Retry-After": "5"},
            {"checks": listed},
        )


@blp.route("/api/v1/version")
class Version(MethodView):
    @blp.doc(security=[])
    @blp.response(200, VersionSchema)
    def get(self) -> Any:
        """Public: package version, schema revision (code and database), SpiffWorkflow version"""
        return ops.version_facts(ctx())
