"""Public tracking by code (no auth, no personal data): JSON, or the web console's page."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from api.blueprint import Blueprint
from api.read_schemas import TrackingSchema
from api.web.public import tracking_page
from api.wiring import ctx
from engine.services import tracking

blp = Blueprint(
    "tracking",
    __name__,
    url_prefix="/track",
    description="Public application tracking (pelacakan permohonan)",
)


@blp.route("/<code>")
class Track(MethodView):
    @blp.doc(security=[])
    @blp.response(200, TrackingSchema)
    def get(self, code: str) -> Any:
        """Public status of an application by tracking code (JSON or HTML)"""
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            return tracking_page(code)  # the citizen's page, in the web console
        return tracking.track(ctx(), code)
