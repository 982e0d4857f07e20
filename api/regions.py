"""Regions: list (any authenticated user) and create (admin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.schemas import RegionSchema
from api.wiring import ctx
from engine.services import regions

blp = Blueprint(
    "regions", __name__, url_prefix="/api/v1/regions", description="Regions (pemerintah daerah)"
)


@blp.route("")
class Regions(MethodView):
    @blp.response(200, RegionSchema(many=True))
    def get(self) -> Any:
        """List regions"""
        current_actor()
        return regions.list_regions(ctx())

    @blp.arguments(RegionSchema)
    @blp.response(201, RegionSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a region (admin)"""
        return regions.create_region(
            ctx(), current_actor(), body["code"], body["name"], body["timezone"]
        )
