"""Process models and their versions: summaries, replication, diff, migration, the catalog
(DESIGN §5)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.fields import Fee, Mapping, Matches, choice, formatted, text, version
from api.schemas.common import PagingArgsSchema
from engine.domain import formats
from engine.services.catalog import SORT_KEYS


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
