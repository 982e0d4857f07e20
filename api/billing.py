"""Payment channels, their signed callbacks, and the daily reconciliation."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.read_schemas import (
    CallbackAnswerSchema,
    ChannelSchema,
    NewChannelSchema,
    ReconciliationSchema,
)
from api.schemas import ChannelArgsSchema, ReconciliationArgsSchema
from api.wiring import ctx
from engine.services import billing, reconciliation

blp = Blueprint(
    "billing", __name__, url_prefix="/api/v1",
    description="Bank VA / QRIS payment channels, their signed callbacks, reconciliation",
)

CALLBACK_DOC = {
    "security": [],
    "parameters": [
        {"in": "header", "name": "X-Permitflow-Timestamp", "required": True,
         "schema": {"type": "string"}, "description": "Unix seconds when the bank sent it"},
        {"in": "header", "name": "X-Permitflow-Signature", "required": True,
         "schema": {"type": "string"},
         "description": 'sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body, channel secret>'},
    ],
    "requestBody": {"content": {"application/json": {"schema": {
        "type": "object", "required": ["billing_code", "amount", "reference"],
        "properties": {"billing_code": {"type": "string"}, "amount": {"type": "integer"},
                       "reference": {"type": "string"}},
    }}}},
}


@blp.route("/payment-callbacks/<channel>")
class PaymentCallback(MethodView):
    @blp.doc(**CALLBACK_DOC)
    @blp.response(200, CallbackAnswerSchema)
    def post(self, channel: str) -> Any:
        """A bank's signed payment notification: settles the billed fee once, exactly"""
        return billing.receive_notification(
            ctx(), channel, request.get_data(cache=True),
            request.headers.get("X-Permitflow-Timestamp"),
            request.headers.get("X-Permitflow-Signature"),
        )


@blp.route("/regions/<region>/payment-channels")
class PaymentChannels(MethodView):
    @blp.response(200, ChannelSchema(many=True))
    def get(self, region: str) -> Any:
        """A region's payment channels, with their secrets' fingerprints"""
        return billing.list_channels(ctx(), current_actor(), region)

    @blp.arguments(ChannelArgsSchema)
    @blp.response(201, NewChannelSchema)
    def post(self, args: dict[str, Any], region: str) -> Any:
        """Configure a payment channel (admin); the answer shows its secret once"""
        return billing.add_channel(
            ctx(), current_actor(), region, args["name"], args["kind"], args.get("secret")
        )


@blp.route("/regions/<region>/reconciliation")
class Reconciliation(MethodView):
    @blp.arguments(ReconciliationArgsSchema, location="query")
    @blp.response(200, ReconciliationSchema)
    def get(self, args: dict[str, Any], region: str) -> Any:
        """One day's billed, paid, unpaid and refused notifications (region's time zone)"""
        return reconciliation.daily_reconciliation(ctx(), current_actor(), region, args["date"])
