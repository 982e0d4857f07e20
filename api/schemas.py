"""marshmallow schemas: the envelope of each request and response (syntax only).

Content rules (form schemas, what may happen now) are checked by `forms` and `engine`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from api.fast_dump import CompiledDump
from api.fields import (
    FIRST_YEAR,
    INT32_MAX,
    INT64_MAX,
    LAST_YEAR,
    Fee,
    Mapping,
    Matches,
    Moment,
    choice,
    formatted,
    integer,
    text,
    version,
)
from engine.domain import formats
from engine.domain.statuses import ApplicationStatus
from engine.domain.views import COUNT_CAP
from engine.services.catalog import SORT_KEYS
from engine.services.external_task_terms import TopicRequest
from engine.services.payments import CHANNELS
from engine.services.regions import INDONESIAN_TIMEZONES

STATUSES = [s.value for s in ApplicationStatus]


def reason_field(*, max_length: int, required: bool = True) -> fields.String:
    """A reason for an action: required and not blank, or optional."""
    if not required:
        return text(max_length=max_length)
    return fields.String(
        required=True,
        validate=[validate.Length(min=1, max=max_length), Matches(formats.NON_BLANK)],
    )


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
    request_id = fields.String(
        metadata={"description": "the request's X-Request-Id (also in the server's log line)"}
    )


class RegionSchema(Schema):
    code = formatted(formats.REGION_CODE, required=True)
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), Matches(formats.NON_BLANK)],
    )
    timezone = choice(INDONESIAN_TIMEZONES, load_default="Asia/Jakarta")


class PagingArgsSchema(Schema):
    limit = integer(1, 200, strict=False, load_default=50)
    # Listings add limit to offset (past INT64 that overflows); no listing is this long.
    offset = integer(0, INT32_MAX, strict=False, load_default=0)


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
    warnings = fields.List(fields.Dict(), metadata={
        "description": "on the upload answer: each attribute drawn that permitflow accepts and "
        "does not apply (camunda:assignee, candidateUsers, dueDate, followUpDate), with "
        "element_id, line, field, file and message"
    })


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


def page_schema(item: type[Schema], name: str, bounded: bool = False) -> type[Schema]:
    """A paged listing of `item`; `bounded`: its total is counted up to a cap (README)."""
    shape: dict[str, fields.Field[Any]] = {
        "items": fields.List(fields.Nested(item)),
        "total": fields.Integer(),
        "limit": fields.Integer(),
        "offset": fields.Integer(),
    }
    if bounded:
        shape["total"] = fields.Integer(metadata={"description": (
            f"matches, counted up to {COUNT_CAP:,} or to the end of this page if further; "
            "past that, this bound (see total_capped)")})
        shape["total_capped"] = fields.Boolean(metadata={"description": (
            "true when more match than `total` (the count stopped at its bound): page on "
            "until a page has fewer than `limit` items")})
    return Schema.from_dict(shape, name=name)


ApplicationPageSchema = page_schema(ApplicationSchema, "ApplicationPage", bounded=True)
TaskPageSchema = page_schema(TaskSchema, "TaskPage", bounded=True)


class PaymentSchema(Schema):
    fee_item = fields.UUID(required=True)
    # strict: "1000" and 1000.0 are refused here already; the engine refuses them again.
    amount = integer(1, INT64_MAX, required=True)
    reference = formatted(formats.PAYMENT_REFERENCE, required=True)
    channel = choice(CHANNELS, load_default="bank_transfer")


class ChannelArgsSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(2, 63))
    kind = fields.String(required=True, validate=validate.OneOf(("virtual_account", "qris")))
    secret = fields.String(validate=validate.Length(32, 256))


class ReconciliationArgsSchema(Schema):
    date = fields.Date(required=True)


class FeeEstimateArgsSchema(Schema):
    inputs = fields.Dict(keys=fields.String(), required=True)


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
    billing_code = fields.String(allow_none=True)
    formula = fields.Dict(allow_none=True)
    payment = fields.Nested(PaymentViewSchema)


class CancelSchema(Schema):
    reason = reason_field(max_length=2000)


class RetrySchema(Schema):
    reason = reason_field(max_length=2000)
    data = fields.Dict(load_default=dict)


class CalendarArgsSchema(Schema):
    year = integer(FIRST_YEAR, LAST_YEAR, strict=False)


class OverrideSchema(Schema):
    day = fields.Date(required=True, metadata={"description": "a day of the year being set"})
    kind = choice(["closed", "open"], required=True)
    reason = reason_field(max_length=500)


class CalendarUpdateSchema(Schema):
    year = integer(FIRST_YEAR, LAST_YEAR, required=True)
    overrides = fields.List(fields.Nested(OverrideSchema), required=True)


class DayHoursInputSchema(Schema):
    weekday = integer(0, 6, required=True, metadata={"description": "0 = Monday ... 6 = Sunday"})
    opens = formatted(formats.CLOCK_TIME, required=True)
    closes = formatted(formats.CLOCK_TIME, required=True)


class CalendarWeekSchema(Schema):
    working_days = fields.List(
        integer(0, 6),
        required=True,
        validate=validate.Length(min=1, max=7),
        metadata={"description": "weekdays worked, each once, 0 = Monday ... 6 = Sunday"},
    )
    opens = formatted(formats.CLOCK_TIME, required=True)
    closes = formatted(formats.CLOCK_TIME, required=True)
    day_hours = fields.List(
        fields.Nested(DayHoursInputSchema),
        load_default=list,
        validate=validate.Length(max=7),
        metadata={"description": "weekdays whose hours differ from opens-closes (e.g. Friday)"},
    )


class DueArgsSchema(Schema):
    from_ = Moment(required=True, data_key="from")
    sla = formatted(formats.SLA, required=True)


class ReportArgsSchema(Schema):
    from_ = Moment(required=True, data_key="from")
    to = Moment(required=True)
    region = text(max_length=16)
    process = text(max_length=64)


# Versions, replication, diff, migration, catalog (DESIGN §5).


class SourceRefSchema(Schema):
    region = formatted(formats.REGION_CODE, required=True)
    key = formatted(formats.MODEL_KEY, required=True)
    version = version(required=True)


class StepOverrideSchema(Schema):
    sla = formatted(formats.SLA)
    fee = Fee()
    role = formatted(formats.ROLE)


class ProcessOverrideSchema(Schema):
    sla = formatted(formats.SLA)
    title = fields.String(validate=[validate.Length(min=1, max=300), Matches(formats.NON_BLANK)])


class OverridesSchema(Schema):
    steps = Mapping(
        keys=text(min_length=1, max_length=200), values=fields.Nested(StepOverrideSchema)
    )
    roles = Mapping(
        keys=formatted(formats.ROLE),
        values=formatted(formats.ROLE),
        metadata={"description": f"source role -> role here; both {formats.ROLE.pattern}"},
    )
    process = fields.Nested(ProcessOverrideSchema)


class ReplicateSchema(Schema):
    source = fields.Nested(SourceRefSchema, required=True)
    overrides = fields.Nested(OverridesSchema, load_default=dict)


class MigrateSchema(Schema):
    from_version = version(required=True)
    to_version = version(required=True)
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
    a = formatted(formats.VERSION_REF, required=True)
    b = formatted(formats.VERSION_REF, required=True)
    format = choice(["json", "text"], load_default="json")


class CatalogArgsSchema(PagingArgsSchema):
    q = text(max_length=200)
    region = text(max_length=16)
    sort = choice(sorted(SORT_KEYS) + sorted(f"-{key}" for key in SORT_KEYS))


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


class UserNewSchema(Schema):
    name = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), Matches(formats.NON_BLANK)]
    )
    roles = fields.List(formatted(formats.ROLE), required=True, validate=validate.Length(1, 20))
    region = formatted(formats.REGION_CODE, load_default=None, allow_none=True)


class TokenSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    state = choice(["active", "expired", "revoked"])
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})


class UserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    region = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    tokens = fields.List(fields.Nested(TokenSchema))


class UserCreatedSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    region = fields.String(allow_none=True, attribute="region_code")
    roles = fields.List(fields.String())
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})
    expires_at = fields.AwareDateTime(allow_none=True)


class UserListArgsSchema(Schema):
    region = text(max_length=16)


class PowersSchema(Schema):
    acts_for_applicant = fields.List(
        formatted(formats.ROLE), data_key="acts-for-applicant", attribute="acts-for-applicant",
        validate=validate.Length(max=20)
    )
    records_payments = fields.List(
        formatted(formats.ROLE), data_key="records-payments", attribute="records-payments",
        validate=validate.Length(max=20)
    )


class AssignSchema(Schema):
    user_id = integer(1, INT32_MAX, required=True)
    reason = reason_field(max_length=1000, required=False)


class MessageSchema(Schema):
    name = text(min_length=1, max_length=200, required=True)
    application_id = fields.UUID()
    tracking_code = text(max_length=32)
    correlation = fields.Dict(keys=fields.String())
    data = fields.Dict(load_default=dict)
    message_id = text(min_length=1, max_length=200)
    region = formatted(formats.REGION_CODE)


class VariablesSchema(Schema):
    application_id = fields.UUID()
    status = fields.String()
    variables = fields.Dict()


class _TopicSchema(Schema):
    name = text(min_length=1, max_length=200, required=True)
    lock_duration = integer(1, 604_800_000)


class ExternalFetchSchema(Schema):
    """Camunda's shape: topics with their own lock_duration, or a lock_duration for all."""

    worker_id = text(min_length=1, max_length=200, required=True)
    max_tasks = integer(1, 100, load_default=10)
    lock_duration = integer(1, 604_800_000)
    topics = fields.List(
        fields.Nested(_TopicSchema), required=True, validate=validate.Length(min=1, max=50)
    )
    region = formatted(formats.REGION_CODE)

    @post_load
    def _topics(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        default = data.get("lock_duration", 0)
        data["topics"] = [
            TopicRequest(t["name"], t.get("lock_duration") or default) for t in data["topics"]
        ]
        return data


class LockedExternalTaskSchema(Schema):
    id = fields.UUID()
    topic = fields.String()
    worker_id = fields.String()
    lock_expires_at = fields.AwareDateTime()
    retries = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    application_id = fields.UUID()
    process_key = fields.String()
    element_id = fields.String()
    region = fields.String()
    variables = fields.Dict()


class ExternalCompleteSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    variables = fields.Dict(load_default=dict)


class ExternalFailureSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    message = text(max_length=2000, load_default="")
    retries = integer(0, 1000, load_default=0)
    retry_timeout = integer(0, 604_800_000, load_default=0)


class ExternalBpmnErrorSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    code = text(min_length=1, max_length=200, required=True)
    message = text(max_length=2000)
    variables = fields.Dict(load_default=dict)


class ExternalExtendLockSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    new_duration = integer(1, 604_800_000, required=True)


class ExternalTaskSchema(Schema):
    id = fields.UUID()
    topic = fields.String()
    status = fields.String()
    worker_id = fields.String(allow_none=True)
    lock_expires_at = fields.AwareDateTime(allow_none=True)
    retries = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    application_id = fields.UUID()
    element_id = fields.String()
    region = fields.String()


class RevocationArgsSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(10, 1000))
