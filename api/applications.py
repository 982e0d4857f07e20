"""Applications (permohonan): start, list, read."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.schemas import (
    ApplicationListArgsSchema,
    ApplicationPageSchema,
    ApplicationProgressSchema,
    ApplicationSchema,
    ApplicationStartSchema,
)
from api.wiring import ctx
from engine.services import applications

blp = Blueprint(
    "applications", __name__, url_prefix="/api/v1", description="Applications (permohonan)"
)


@blp.route("/regions/<region>/applications")
class StartApplication(MethodView):
    @blp.arguments(ApplicationStartSchema)
    @blp.response(201, ApplicationProgressSchema)
    def post(self, body: dict[str, Any], region: str) -> Any:
        """Start an application on the newest published version"""
        return applications.start_application(
            ctx(), current_actor(), region, body["process_key"], body["applicant"], body["data"]
        )


@blp.route("/applications")
class Applications(MethodView):
    @blp.arguments(ApplicationListArgsSchema, location="query")
    @blp.response(200, ApplicationPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List applications (filters: status, process, region)"""
        return applications.list_applications(
            ctx(),
            current_actor(),
            status=args.get("status"),
            process_key=args.get("process"),
            region=args.get("region"),
            overdue=args.get("overdue", False),
            limit=args["limit"],
            offset=args["offset"],
        )


@blp.route("/applications/<uuid:application_id>")
class Application(MethodView):
    @blp.response(200, ApplicationSchema)
    def get(self, application_id: uuid.UUID) -> Any:
        """One application with tasks and history"""
        return applications.get_application(ctx(), current_actor(), application_id)
