"""The citizen's rights over HTTP: complaints and the satisfaction survey by tracking code
(public), the supervisors' complaint inbox and answers, a region's complaint SLA, and the
SKM report."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.auth import current_actor
from api.blueprint import Blueprint
from api.fields import Moment
from api.fields import text as bounded
from api.schemas import PagingArgsSchema
from api.wiring import ctx
from engine.domain import skm
from engine.services import complaints, survey

blp = Blueprint(
    "citizen",
    __name__,
    description="Complaints (pengaduan) and the satisfaction survey (SKM)",
)


class ComplaintFileSchema(Schema):
    text = bounded(min_length=1, max_length=complaints.MAX_TEXT, required=True)
    contact = bounded(max_length=complaints.MAX_CONTACT, allow_none=True)


class ComplaintAnswerSchema(Schema):
    answer = bounded(min_length=1, max_length=complaints.MAX_ANSWER, required=True)


class ComplaintInboxArgsSchema(PagingArgsSchema):
    status = fields.String(
        validate=validate.OneOf(["open", "answered", "all"]), load_default="open"
    )


class ComplaintSlaSchema(Schema):
    sla = bounded(min_length=2, max_length=32, required=True)


class SurveySchema(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.OneOf(skm.ELEMENT_KEYS)),
        values=fields.Integer(strict=True, validate=validate.OneOf(skm.SCORES)),
        required=True,
        metadata={"description": "a score 1-4 for each of the nine elements: "
                  + ", ".join(skm.ELEMENT_KEYS)},
    )


class SkmReportArgsSchema(Schema):
    from_ = Moment(data_key="from")
    to = Moment()
    region = bounded(max_length=16)
    process = bounded(max_length=64)


class PublicComplaintSchema(Schema):
    number = fields.String()
    status = fields.String()
    filed_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    overdue = fields.Boolean()
    answer = fields.String(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)


class ComplaintSchema(PublicComplaintSchema):
    region = fields.String()
    application_id = fields.UUID()
    process_key = fields.String()
    text = fields.String()
    contact = fields.String(allow_none=True)
    sla = fields.String()


class ComplaintPageSchema(Schema):
    items = fields.List(fields.Nested(ComplaintSchema))
    total = fields.Integer()


class SlaValueSchema(Schema):
    sla = fields.String()


class SurveyGivenSchema(Schema):
    given_at = fields.AwareDateTime()


class IndexSchema(Schema):
    respondents = fields.Integer()
    element_averages = fields.Dict(keys=fields.String(), values=fields.String())
    ikm = fields.String(allow_none=True, metadata={"description": "25.00-100.00"})
    category = fields.String(allow_none=True, metadata={"description": "A, B, C or D"})
    label = fields.Dict(allow_none=True)


class RegionIndexSchema(IndexSchema):
    region = fields.String()


class ServiceIndexSchema(RegionIndexSchema):
    process_key = fields.String()


class SkmReportSchema(Schema):
    elements = fields.List(fields.Dict())
    regions = fields.List(fields.Nested(RegionIndexSchema))
    services = fields.List(fields.Nested(ServiceIndexSchema))


@blp.route("/track/<code>/complaints")
class FileComplaint(MethodView):
    @blp.doc(security=[])
    @blp.arguments(ComplaintFileSchema)
    @blp.response(201, PublicComplaintSchema)
    def post(self, body: dict[str, Any], code: str) -> Any:
        """Public: file a complaint (pengaduan) about an application; returns its number"""
        return complaints.file_complaint(ctx(), code, body["text"], body.get("contact"))


@blp.route("/track/<code>/survey")
class GiveSurvey(MethodView):
    @blp.doc(security=[])
    @blp.arguments(SurveySchema)
    @blp.response(201, SurveyGivenSchema)
    def post(self, body: dict[str, Any], code: str) -> Any:
        """Public: the satisfaction survey (SKM) of a completed application, once"""
        return survey.submit_survey(ctx(), code, body["answers"])


@blp.route("/api/v1/complaints")
class ComplaintInbox(MethodView):
    @blp.arguments(ComplaintInboxArgsSchema, location="query")
    @blp.response(200, ComplaintPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The supervisors' complaint inbox of their region, soonest due first"""
        status = None if args["status"] == "all" else args["status"]
        return complaints.complaint_inbox(
            ctx(), current_actor(), status, args["limit"], args["offset"]
        )


@blp.route("/api/v1/complaints/<number>/answer")
class AnswerComplaint(MethodView):
    @blp.arguments(ComplaintAnswerSchema)
    @blp.response(200, ComplaintSchema)
    def post(self, body: dict[str, Any], number: str) -> Any:
        """Answer a complaint; the answer is published on the tracking page"""
        return complaints.answer_complaint(ctx(), current_actor(), number, body["answer"])


@blp.route("/api/v1/regions/<region>/complaint-sla")
class ComplaintSla(MethodView):
    @blp.arguments(ComplaintSlaSchema)
    @blp.response(200, SlaValueSchema)
    def put(self, body: dict[str, Any], region: str) -> Any:
        """Set a region's complaint SLA (working time, e.g. P5D) (admin)"""
        return {"sla": complaints.set_complaint_sla(ctx(), current_actor(), region, body["sla"])}


@blp.route("/api/v1/reports/skm")
class SkmReport(MethodView):
    @blp.arguments(SkmReportArgsSchema, location="query")
    @blp.response(200, SkmReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The satisfaction index (IKM, Permenpan-RB 14/2017) per region and service

        `from` is before `to` when both are given (422 otherwise).
        """
        return survey.skm_report(
            ctx(),
            current_actor(),
            args.get("region"),
            args.get("process"),
            args.get("from_"),
            args.get("to"),
        )
