"""Money: payments, payment channels, reconciliation, fee estimates and fee items."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.fields import INT64_MAX, choice, formatted, integer
from engine.domain import formats
from engine.services.payments import CHANNELS


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
