"""Public service standards (standar pelayanan) of a region's procedures."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.read_schemas import FeeEstimateSchema, ServiceStandardSchema
from api.schemas import FeeEstimateArgsSchema
from api.wiring import ctx
from engine.services import fee_assessment, standards

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


@blp.route("/<key>/service-standard")
class CurrentServiceStandard(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ServiceStandardSchema)
    def get(self, region: str, key: str) -> Any:
        """Public: the current (newest published) service standard of one procedure"""
        return standards.service_standard(ctx(), region, key)


@blp.route("/<key>/service-standard/fee-estimate")
class FeeEstimate(MethodView):
    @blp.doc(security=[])
    @blp.arguments(FeeEstimateArgsSchema)
    @blp.response(200, FeeEstimateSchema)
    def post(self, args: dict[str, Any], region: str, key: str) -> Any:
        """Public: the fees this procedure charges for the given inputs, by its published
        formulas (the same computation that opens the fee item); 422 names each bad input"""
        return fee_assessment.fee_estimate(ctx(), region, key, args["inputs"])
