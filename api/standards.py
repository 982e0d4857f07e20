"""Public service standards (standar pelayanan) of a region's procedures."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.read_schemas import ServiceStandardSchema
from api.wiring import ctx
from engine.services import standards

blp = Blueprint(
    "services", __name__, url_prefix="/api/v1/regions/<region>/services",
    description="Public service standards (standar pelayanan) of a region",
)


@blp.route("")
class RegionServices(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ServiceStandardSchema(many=True))
    def get(self, region: str) -> Any:
        """Public: the current service standard of every procedure of a region"""
        return standards.region_services(ctx(), region)
