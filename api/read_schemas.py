"""Response schemas of the document-shaped answers (`engine/domain/read_models.py`).

One schema per TypedDict, field for key; `tests/api/test_read_schemas.py` keeps them equal.
"""

from __future__ import annotations

from marshmallow import Schema, fields


class ClosedDaySchema(Schema):
    day = fields.String()
    reason = fields.String(allow_none=True)
    estimated = fields.Boolean()


class OverrideDaySchema(Schema):
    day = fields.String()
    kind = fields.String()
    reason = fields.String()


class DayHoursSchema(Schema):
    weekday = fields.Integer(metadata={"description": "0 = Monday ... 6 = Sunday"})
    opens = fields.String(metadata={"description": "HH:MM, local time"})
    closes = fields.String(metadata={"description": "HH:MM, local time"})


class CalendarWarningSchema(Schema):
    code = fields.String(metadata={"description": "cuti-bersama-unknown"})
    year = fields.Integer()
    message = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "{id, en}"}
    )


class CalendarSchema(Schema):
    region = fields.String()
    year = fields.Integer()
    timezone = fields.String()
    working_days = fields.List(
        fields.Integer(), metadata={"description": "weekdays worked, 0 = Monday ... 6 = Sunday"}
    )
    opens = fields.String()
    closes = fields.String()
    day_hours = fields.List(
        fields.Nested(DayHoursSchema),
        metadata={"description": "weekdays whose office hours differ from opens-closes"},
    )
    warnings = fields.List(
        fields.Nested(CalendarWarningSchema),
        metadata={"description": "the year's cuti bersama not yet known to the calendar"},
    )
    closed_days = fields.List(fields.Nested(ClosedDaySchema))
    overrides = fields.List(fields.Nested(OverrideDaySchema))


class DueTimeSchema(Schema):
    region = fields.String()
    from_ = fields.AwareDateTime(data_key="from", attribute="from")
    sla = fields.String()
    clock_start = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    due_local = fields.String(metadata={"description": "the due time in the region's zone"})
    working_minutes = fields.Integer()
    warnings = fields.List(
        fields.Nested(CalendarWarningSchema),
        metadata={
            "description": "a year from the clock's start to the due time whose cuti bersama "
            "the calendar does not know yet: the due time may move"
        },
    )


class FormulaRefSchema(Schema):
    name = fields.String()
    version = fields.String()
    sha256 = fields.String()


class ProcedureStepSchema(Schema):
    order = fields.Integer()
    element_id = fields.String()
    name = fields.String()
    role = fields.String()
    sla = fields.String(allow_none=True)
    fee = fields.Integer(metadata={"description": "fixed fee; 0 where fee_formula sets it"})
    fee_formula = fields.Nested(FormulaRefSchema)
    called = fields.Dict(metadata={
        "description": "a called model's step: call activity element_id, key, version, title, "
        "per_item (a multi-instance call charges its fee once per item)"
    })


class StandardTotalsSchema(Schema):
    fee = fields.Integer(metadata={"description": "the fixed fees (formula fees not included)"})
    fee_per_item = fields.Integer(
        metadata={"description": "fixed fees of multi-instance calls, charged once per item"}
    )
    legal_sla = fields.String(allow_none=True)
    legal_sla_is_backstop = fields.Boolean()
    currency = fields.String()
    fee_formulas = fields.List(
        fields.Dict(), metadata={"description": "each formula step's published definition"}
    )


class ServiceStandardSchema(Schema):
    region = fields.String()
    key = fields.String()
    version = fields.Integer()
    title = fields.String()
    status = fields.String()
    procedure = fields.List(fields.Nested(ProcedureStepSchema))
    totals = fields.Nested(StandardTotalsSchema)
    standard = fields.Dict(metadata={"description": "the components of standard.json"})
    complaints = fields.Dict(
        metadata={"description": "in the catalogue: filed, answered, answered_in_time"}
    )
    skm = fields.Dict(metadata={"description": "in the catalogue: the satisfaction index (IKM)"})


class EstimatedFeeSchema(Schema):
    element_id = fields.String()
    name = fields.String()
    amount = fields.Integer()
    assessment = fields.Dict(
        allow_none=True,
        metadata={"description": "formula, version, sha256, inputs, exact value, rounding"},
    )
    called = fields.Dict(metadata={"description": "a called model's fee: see ProcedureStep"})


class FeeEstimateSchema(Schema):
    region = fields.String()
    key = fields.String()
    version = fields.Integer()
    currency = fields.String()
    fees = fields.List(fields.Nested(EstimatedFeeSchema))
    total = fields.Integer()


class StepFiguresSchema(Schema):
    region = fields.String()
    process_key = fields.String()
    element_id = fields.String()
    name = fields.String()
    count = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    median_hours = fields.Float(allow_none=True)
    p90_hours = fields.Float(allow_none=True)
    overdue_now = fields.Integer()


class DeemedCountSchema(Schema):
    region = fields.String()
    process_key = fields.String()
    count = fields.Integer()


class SlaReportSchema(Schema):
    from_ = fields.AwareDateTime(data_key="from", attribute="from")
    to = fields.AwareDateTime()
    generated_at = fields.AwareDateTime()
    steps = fields.List(fields.Nested(StepFiguresSchema))
    deemed_granted = fields.List(
        fields.Nested(DeemedCountSchema),
        metadata={"description": "applications granted by law (fiktif positif) in the period"},
    )


class TrackedRegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    timezone = fields.String()


class TrackedStepSchema(Schema):
    element_id = fields.String()
    name = fields.String()
    started_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    overdue = fields.Boolean()
    late = fields.Boolean()
    waiting_on_applicant = fields.Boolean()


class TrackedFeeSchema(Schema):
    name = fields.String()
    amount = fields.Integer()
    status = fields.String()
    receipt_no = fields.String(allow_none=True)
    paid_at = fields.AwareDateTime(allow_none=True)


class TrackingSchema(Schema):
    tracking_code = fields.String()
    title = fields.String()
    process_key = fields.String()
    version = fields.Integer()
    region = fields.Nested(TrackedRegionSchema)
    status = fields.String()
    submitted_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    sla_paused = fields.Boolean()
    steps_done = fields.List(fields.Nested(TrackedStepSchema))
    current_steps = fields.List(fields.Nested(TrackedStepSchema))
    fees = fields.List(fields.Nested(TrackedFeeSchema))
    outcome = fields.Dict(
        allow_none=True,
        metadata={"description": "the end event reached: {element_id, name, kind} with kind "
                  "granted or rejected"},
    )
    cancelled_reason = fields.String(allow_none=True)
    waiting_for = fields.String(
        allow_none=True, metadata={"description": "while paused: payment or documents"}
    )
    fee_schedule = fields.Dict(
        metadata={"description": "the published fees: {steps: [{name, fee}], total}"}
    )
    deemed_granted_at = fields.AwareDateTime(allow_none=True)
    complaints = fields.List(
        fields.Dict(),
        metadata={"description": "complaints with their published answers: number, status, "
                  "filed_at, due_at, overdue, answer, answered_at (never text or contact)"},
    )
    survey = fields.Dict(metadata={"description": "{offered, given} of the SKM survey"})


class VersionSummarySchema(Schema):
    region = fields.String()
    key = fields.String()
    version = fields.Integer()
    title = fields.String(allow_none=True)
    process_sla = fields.String(allow_none=True)


class VersionDiffSchema(Schema):
    a = fields.Nested(VersionSummarySchema)
    b = fields.Nested(VersionSummarySchema)
    process = fields.Dict(metadata={"description": "changed process attributes, {a, b} each"})
    steps = fields.Dict(metadata={"description": "added, removed, renamed, changed steps"})
    flows = fields.Dict(metadata={"description": "added, removed, changed sequence flows"})
    standard = fields.List(
        fields.Dict(),
        metadata={
            "description": "each top-level key of standard.json that differs: "
            "{key, component (1-14 or null), name, a, b}"
        },
    )
    lineage = fields.Dict(allow_none=True)
    identical = fields.Boolean()


class ChannelSchema(Schema):
    name = fields.String()
    region = fields.String()
    kind = fields.String()
    active = fields.Boolean()
    fingerprint = fields.String(metadata={"description": "SHA-256 of the secret, 16 hex"})
    created_at = fields.AwareDateTime()


class NewChannelSchema(ChannelSchema):
    secret = fields.String(metadata={"description": "shown once; the bank signs with it"})


class CallbackAnswerSchema(Schema):
    status = fields.String(metadata={"description": "accepted | duplicate"})
    receipt_no = fields.String(allow_none=True)
    billing_code = fields.String(allow_none=True)
    amount = fields.Integer(allow_none=True)


class BilledItemSchema(Schema):
    billing_code = fields.String(allow_none=True)
    fee_item = fields.UUID()
    application_id = fields.UUID()
    name = fields.String()
    amount = fields.Integer()
    status = fields.String()


class PaidItemSchema(BilledItemSchema):
    receipt_no = fields.String()
    channel = fields.String()
    reference = fields.String()
    paid_at = fields.AwareDateTime()


class ChannelNotificationSchema(Schema):
    channel = fields.String()
    outcome = fields.String(metadata={"description": "accepted | duplicate | refused"})
    reason = fields.String(allow_none=True)
    billing_code = fields.String(allow_none=True)
    amount = fields.Integer(allow_none=True)
    reference = fields.String(allow_none=True)
    receipt_no = fields.String(allow_none=True)
    received_at = fields.AwareDateTime()


class ReconciliationTotalsSchema(Schema):
    billed = fields.Integer()
    paid = fields.Integer()
    unpaid = fields.Integer()
    refused = fields.Integer()
    duplicates = fields.Integer()


class ReconciliationSchema(Schema):
    region = fields.String()
    date = fields.String()
    timezone = fields.String()
    currency = fields.String()
    billed = fields.List(fields.Nested(BilledItemSchema))
    paid = fields.List(fields.Nested(PaidItemSchema))
    unpaid = fields.List(fields.Nested(BilledItemSchema))
    notifications = fields.List(fields.Nested(ChannelNotificationSchema))
    totals = fields.Nested(ReconciliationTotalsSchema)


# --- issued documents (issue #14 item 3) --------------------------------------------------


class BilingualSchema(Schema):
    id = fields.String()
    en = fields.String()


class SigningKeySchema(Schema):
    key_id = fields.String()
    region = fields.String()
    algorithm = fields.String(metadata={"description": "ed25519"})
    public_key = fields.String(metadata={"description": "hex of the 32 raw bytes"})
    created_at = fields.AwareDateTime()
    retired_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "rotated out; still verifies what it signed"}
    )


class DocumentSummarySchema(Schema):
    number = fields.String()
    type = fields.String()
    title = fields.Nested(BilingualSchema)
    issued_at = fields.AwareDateTime()
    status = fields.String(metadata={"description": "valid, revoked or expired"})


class DocumentVerificationSchema(Schema):
    number = fields.String()
    genuine = fields.Boolean(metadata={
        "description": "the stored PDF hashes to the signed SHA-256 and the region's "
                       "public key verifies the signature"})
    status = fields.String(metadata={"description": "valid, revoked or expired"})
    type = fields.String()
    title = fields.Nested(BilingualSchema)
    holder_name = fields.String(metadata={"description": "as printed on the document"})
    issued_on = fields.Date()
    valid_until = fields.Date(allow_none=True)
    region = fields.Dict(keys=fields.String(), values=fields.String())
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)
    key_id = fields.String()
    key_retired = fields.Boolean()
    sha256 = fields.String()
    verify_url = fields.String()


class UploadVerificationSchema(Schema):
    genuine = fields.Boolean(metadata={"description": "exactly the PDF issued, signature valid"})
    sha256 = fields.String(metadata={"description": "of the uploaded file"})
    reason = fields.String()
    document = fields.Nested(DocumentVerificationSchema, allow_none=True)
