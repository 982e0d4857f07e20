"""marshmallow schemas: the envelope of each request and response (syntax only).

Content rules (form schemas, what may happen now) are checked by `forms` and `engine`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

ROLE = validate.Regexp(r"^[a-z][a-z0-9_-]{0,63}$")


class ProblemItemSchema(Schema):
    element_id = fields.String()
    line = fields.Integer()
    field = fields.String()
    file = fields.String()
    message = fields.String(required=True)


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemItemSchema))


class RegionSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=16))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    timezone = fields.String(load_default="Asia/Jakarta")


class PagingArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class StepSchema(Schema):
    element_id = fields.String()
    name = fields.String()
    role = fields.String()
    sla = fields.String(allow_none=True)
    fee = fields.Integer()
    form = fields.String(allow_none=True)
    order = fields.Integer()


class ModelSummarySchema(Schema):
    region = fields.String()
    key = fields.String()
    title = fields.String()
    latest_version = fields.Integer()
    created_at = fields.AwareDateTime()


class ModelVersionSchema(Schema):
    region = fields.String()
    key = fields.String()
    version = fields.Integer()
    title = fields.String()
    status = fields.String()
    process_sla = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    steps = fields.List(fields.Nested(StepSchema))
    bpmn_sha256 = fields.String()
    total_fee = fields.Integer()
    lineage = fields.Dict(allow_none=True)
    bpmn = fields.String(allow_none=True)
    forms = fields.Dict(allow_none=True)
    standard = fields.Dict(allow_none=True)


class TaskSchema(Schema):
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
    sla = fields.String(allow_none=True)
    fee = fields.Integer()
    form = fields.String(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    completed_by = fields.Integer(allow_none=True)
    region = fields.String()
    process_key = fields.String()
    working_hours_left = fields.Float(allow_none=True)
    input = fields.Dict(allow_none=True)


class TaskDetailSchema(TaskSchema):
    form_schema = fields.Dict(allow_none=True)
    data = fields.Dict(allow_none=True)
    fee_item = fields.Dict(allow_none=True)


class EventSchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    subject = fields.String()
    reason = fields.String(allow_none=True)
    data = fields.Dict()
    chain = fields.String()
    seq = fields.Integer()
    prev_hash = fields.String()
    hash = fields.String()


class PublishedHeadSchema(Schema):
    chain = fields.String()
    seq = fields.Integer()
    hash = fields.String()
    published_at = fields.String()


class ApplicationSchema(Schema):
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
    process_sla = fields.String(allow_none=True)
    sla_backstop = fields.Boolean()
    sla_paused = fields.Boolean()
    cancelled_reason = fields.String(allow_none=True)
    fees = fields.List(fields.Dict())


class ApplicationStartSchema(Schema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    applicant = fields.Dict(load_default=dict)
    data = fields.Dict(load_default=dict)


class ApplicationListArgsSchema(PagingArgsSchema):
    status = fields.String(validate=validate.OneOf(["running", "completed", "error", "cancelled"]))
    process = fields.String()
    region = fields.String()
    overdue = fields.Boolean()


class TaskListArgsSchema(PagingArgsSchema):
    assigned = fields.String(validate=validate.OneOf(["me"]))
    role = fields.String(validate=ROLE)
    overdue = fields.Boolean()


class TaskCompleteSchema(Schema):
    data = fields.Dict(load_default=dict)


class UnclaimSchema(Schema):
    reason = fields.String(validate=validate.Length(max=1000))


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A paged listing of `item`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Integer(),
            "limit": fields.Integer(),
            "offset": fields.Integer(),
        },
        name=name,
    )


ApplicationPageSchema = page_schema(ApplicationSchema, "ApplicationPage")
TaskPageSchema = page_schema(TaskSchema, "TaskPage")


class PaymentSchema(Schema):
    fee_item = fields.UUID(required=True)
    # strict: "1000" and 1000.0 are refused here already; the engine refuses them again.
    amount = fields.Integer(required=True, strict=True)
    reference = fields.String(required=True)
    channel = fields.String(load_default="bank_transfer")


class PaymentViewSchema(Schema):
    reference = fields.String()
    channel = fields.String()
    amount = fields.Integer()
    paid_at = fields.AwareDateTime()
    receipt_no = fields.String()


class FeeItemSchema(Schema):
    fee_item = fields.UUID()
    element_id = fields.String()
    name = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    status = fields.String()
    receipt_no = fields.String(allow_none=True)
    paid_at = fields.AwareDateTime(allow_none=True)
    cancelled_reason = fields.String(allow_none=True)
    payment = fields.Nested(PaymentViewSchema)


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RetrySchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    data = fields.Dict(load_default=dict)


class CalendarArgsSchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class OverrideSchema(Schema):
    day = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["closed", "open"]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CalendarUpdateSchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    overrides = fields.List(fields.Nested(OverrideSchema), required=True)


class DueArgsSchema(Schema):
    from_ = fields.AwareDateTime(required=True, data_key="from")
    sla = fields.String(required=True)


class ReportArgsSchema(Schema):
    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)
    region = fields.String()
    process = fields.String()


# Versions, replication, diff, migration, catalog (DESIGN §5).


class SourceRefSchema(Schema):
    region = fields.String(required=True, validate=validate.Length(min=1, max=16))
    key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class StepOverrideSchema(Schema):
    sla = fields.String()
    # An integer or its digits as text; the engine checks the value and says how to write it.
    fee = fields.Raw()
    role = fields.String()


class ProcessOverrideSchema(Schema):
    sla = fields.String()
    title = fields.String()


class OverridesSchema(Schema):
    steps = fields.Dict(keys=fields.String(), values=fields.Nested(StepOverrideSchema))
    roles = fields.Dict(keys=fields.String(), values=fields.String())
    process = fields.Nested(ProcessOverrideSchema)


class ReplicateSchema(Schema):
    source = fields.Nested(SourceRefSchema, required=True)
    overrides = fields.Nested(OverridesSchema, load_default=dict)


class MigrateSchema(Schema):
    from_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    to_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    dry_run = fields.Boolean(load_default=False)


class MigrationEntrySchema(Schema):
    application_id = fields.UUID()
    tracking_code = fields.String()
    current_steps = fields.List(fields.String())
    reasons = fields.List(fields.String())


class MigrationResultSchema(Schema):
    region = fields.String()
    key = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    dry_run = fields.Boolean()
    migrated = fields.List(fields.Nested(MigrationEntrySchema))
    refused = fields.List(fields.Nested(MigrationEntrySchema))


class DiffArgsSchema(Schema):
    a = fields.String(required=True, metadata={"description": "REGION/KEY@VERSION"})
    b = fields.String(required=True, metadata={"description": "REGION/KEY@VERSION"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "text"]))


class CatalogArgsSchema(PagingArgsSchema):
    q = fields.String(validate=validate.Length(max=200))
    region = fields.String(validate=validate.Length(max=16))
    sort = fields.String(validate=validate.Length(max=40))


class CatalogRegionSchema(Schema):
    code = fields.String()
    name = fields.String()


class CatalogItemSchema(Schema):
    region = fields.Nested(CatalogRegionSchema)
    key = fields.String()
    version = fields.Integer()
    title = fields.String()
    origin = fields.Dict(allow_none=True)
    steps = fields.Integer()
    total_fee = fields.Integer()
    legal_sla = fields.String(allow_none=True)
    legal_sla_days = fields.Float(allow_none=True)
    replications = fields.Integer()
    started = fields.Integer()
    finished = fields.Integer()
    median_days = fields.Float(allow_none=True)
    p90_days = fields.Float(allow_none=True)
    on_time_rate = fields.Float(allow_none=True)
    overdue_running = fields.Integer()


class CatalogPageSchema(Schema):
    items = fields.List(fields.Nested(CatalogItemSchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    since = fields.AwareDateTime()
    generated_at = fields.AwareDateTime()
    window_days = fields.Integer()


class AssignSchema(Schema):
    user_id = fields.Integer(required=True, strict=True)
    reason = fields.String(validate=validate.Length(max=1000))
