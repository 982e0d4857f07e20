"""Process models: upload, list, versions, one version, the public service standard."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.read_schemas import ServiceStandardSchema
from api.schemas import ModelSummarySchema, ModelVersionSchema
from api.uploads import package_from_request
from api.wiring import ctx
from engine.services import models, standards

blp = Blueprint(
    "process_models",
    __name__,
    url_prefix="/api/v1/regions/<region>/process-models",
    description="BPMN process models (prosedur perizinan) and their versions",
)

UPLOAD_BODY = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "bpmn": {"type": "string", "format": "binary"},
                    "forms": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "standard": {"type": "string", "format": "binary"},
                    "decisions": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "DMN fee tables named by standard.json's fee_formulas",
                    },
                    "package": {"type": "string", "format": "binary", "description": "one zip"},
                },
                # The model itself: a BPMN file, or a zip package holding one.
                "anyOf": [{"required": ["bpmn"]}, {"required": ["package"]}],
            }
        },
        "application/xml": {"schema": {"type": "string"}},
    }
}


@blp.route("")
class ProcessModels(MethodView):
    @blp.response(200, ModelSummarySchema(many=True))
    def get(self, region: str) -> Any:
        """List a region's process models"""
        return models.list_models(ctx(), current_actor(), region)

    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(201, ModelVersionSchema)
    def post(self, region: str) -> Any:
        """Upload a model: a new version of its key; 422 lists every problem"""
        return models.upload_model(ctx(), current_actor(), region, package_from_request())


@blp.route("/<key>")
class ProcessModelVersions(MethodView):
    @blp.response(200, ModelVersionSchema(many=True))
    def get(self, region: str, key: str) -> Any:
        """List the versions of a model"""
        return models.list_versions(ctx(), current_actor(), region, key)


@blp.route("/<key>/versions/<int:version>")
class ProcessModelVersion(MethodView):
    @blp.response(200, ModelVersionSchema)
    def get(self, region: str, key: str, version: int) -> Any:
        """One version: BPMN, forms, standard, steps"""
        return models.get_version(ctx(), current_actor(), region, key, version)


@blp.route("/<key>/versions/<int:version>/service-standard")
class ServiceStandard(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ServiceStandardSchema)
    def get(self, region: str, key: str, version: int) -> Any:
        """Public service standard: steps with role, SLA and fee; totals"""
        return standards.service_standard(ctx(), region, key, version)
