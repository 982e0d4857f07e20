"""Applications and their tasks: what a step answers, starting, listing, completing, claiming,
assigning, cancelling and retrying."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.fast_dump import CompiledDump
from api.fields import INT32_MAX, choice, formatted, integer, text
from api.schemas.audit import EventSchema
from api.schemas.common import PagingArgsSchema, page_schema, reason_field
from engine.domain import formats
from engine.domain.statuses import ApplicationStatus

STATUSES = [s.value for s in ApplicationStatus]


class TaskSchema(CompiledDump):
    id = fields.UUID()
    application_id = fields.UUID()
    element_id = fields.String()
    name = fields.String()
    role = fields.String()
    state = fields.String()
    claimed_by = fields.Integer(allow_none=True)
    ready_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime(allow_none=True)
    overdue = fields.Boolean()
    late = fields.Boolean()
    sla = fields.String(allow_none=True)
    fee = fields.Integer()
    form = fields.String(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    completed_by = fields.Integer(allow_none=True)
    region = fields.String()
    process_key = fields.String()
    working_hours_left = fields.Float(allow_none=True)
    input = fields.Dict(allow_none=True)
    deemed_granted = fields.Boolean(
        metadata={"description": "the application is granted by law (fiktif positif)"}
    )


class TaskDetailSchema(TaskSchema):
    form_schema = fields.Dict(allow_none=True)
    data = fields.Dict(allow_none=True)
    earlier_data = fields.Dict(allow_none=True)
    fee_item = fields.Dict(allow_none=True)


class ApplicationSchema(CompiledDump):
    id = fields.UUID()
    tracking_code = fields.String()
    status = fields.String()
    process_key = fields.String()
    version = fields.Integer()
    title = fields.String()
    region = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
    applicant = fields.Dict()
    error = fields.Dict(allow_none=True)
    tasks = fields.List(fields.Nested(TaskSchema))
    history = fields.List(fields.Nested(EventSchema))
    due_at = fields.AwareDateTime(allow_none=True)
    overdue = fields.Boolean()
    late = fields.Boolean()
    process_sla = fields.String(allow_none=True)
    sla_backstop = fields.Boolean()
    sla_paused = fields.Boolean()
    cancelled_reason = fields.String(allow_none=True)
    fees = fields.List(fields.Dict())
    deemed_granted_at = fields.AwareDateTime(
        allow_none=True,
        metadata={
            "description": "when the process SLA passed with no decision on a model "
            "declaring deemedApproval: granted by law (UU 30/2014 art. 53)"
        },
    )
    outcome = fields.Dict(
        allow_none=True,
        metadata={
            "description": "the end event reached: {element_id, name, kind} with kind "
            "granted or rejected"
        },
    )


class ApplicationProgressSchema(ApplicationSchema):
    """What a step (start, complete, retry, a message) answers: the application's summary
    with its ready tasks only, the first 50 of them; the whole application, with every
    task it had and its history, is `GET /api/v1/applications/{id}`."""

    ready_task_count = fields.Integer(
        metadata={"description": "how many tasks are ready; `tasks` lists the first 50"}
    )


class ApplicationStartSchema(Schema):
    process_key = formatted(formats.MODEL_KEY, required=True)
    applicant = fields.Dict(load_default=dict)
    data = fields.Dict(load_default=dict)


class ApplicationListArgsSchema(PagingArgsSchema):
    status = choice(STATUSES)
    process = text(max_length=64)
    region = text(max_length=16)
    overdue = fields.Boolean()


class TaskListArgsSchema(PagingArgsSchema):
    assigned = choice(["me"])
    role = formatted(formats.ROLE)
    overdue = fields.Boolean()


class TaskCompleteSchema(Schema):
    data = fields.Dict(load_default=dict)


class UnclaimSchema(Schema):
    reason = reason_field(max_length=1000, required=False)


ApplicationPageSchema = page_schema(ApplicationSchema, "ApplicationPage", bounded=True)


TaskPageSchema = page_schema(TaskSchema, "TaskPage", bounded=True)


class CancelSchema(Schema):
    reason = reason_field(max_length=2000)


class RetrySchema(Schema):
    reason = reason_field(max_length=2000)
    data = fields.Dict(load_default=dict)


class AssignSchema(Schema):
    user_id = integer(1, INT32_MAX, required=True)
    reason = reason_field(max_length=1000, required=False)


class VariablesSchema(Schema):
    application_id = fields.UUID()
    status = fields.String()
    variables = fields.Dict()
