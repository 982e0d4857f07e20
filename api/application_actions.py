"""Fees, payments, cancellation, retry after an error, and the audit log of one application."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.schemas import (
    ApplicationProgressSchema,
    ApplicationSchema,
    CancelSchema,
    EventSchema,
    FeeItemSchema,
    PaymentSchema,
    RetrySchema,
    VariablesSchema,
)
from api.wiring import ctx
from engine.services import applications, audit, payments, variables

blp = Blueprint(
    "fees",
    __name__,
    url_prefix="/api/v1/applications/<uuid:application_id>",
    description="Fees, payments, cancellation, retry and audit of an application",
)


@blp.route("/payments")
class Payments(MethodView):
    @blp.arguments(PaymentSchema)
    @blp.response(201, FeeItemSchema)
    def post(self, body: dict[str, Any], application_id: uuid.UUID) -> Any:
        """Record a payment of exactly one fee item's amount"""
        return payments.record_payment(
            ctx(),
            current_actor(),
            application_id,
            body["fee_item"],
            body["amount"],
            body["reference"],
            body["channel"],
        )


@blp.route("/fees")
class Fees(MethodView):
    @blp.response(200, FeeItemSchema(many=True))
    def get(self, application_id: uuid.UUID) -> Any:
        """The application's fee items, payments and receipts"""
        return payments.fee_items(ctx(), current_actor(), application_id)


@blp.route("/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, body: dict[str, Any], application_id: uuid.UUID) -> Any:
        """Cancel an application (admin, supervisor), with a reason"""
        return applications.cancel_application(
            ctx(), current_actor(), application_id, body["reason"]
        )


@blp.route("/retry")
class Retry(MethodView):
    @blp.arguments(RetrySchema)
    @blp.response(200, ApplicationProgressSchema)
    def post(self, body: dict[str, Any], application_id: uuid.UUID) -> Any:
        """Run an application stopped by an error again (admin, supervisor), setting data
        first, with a reason"""
        return applications.retry_application(
            ctx(), current_actor(), application_id, body["data"], body["reason"]
        )


@blp.route("/audit")
class Audit(MethodView):
    @blp.response(200, EventSchema(many=True))
    def get(self, application_id: uuid.UUID) -> Any:
        """The application's hash-chained events"""
        return audit.application_events(ctx(), current_actor(), application_id)


@blp.route("/variables")
class Variables(MethodView):
    @blp.response(200, VariablesSchema)
    def get(self, application_id: uuid.UUID) -> Any:
        """The process data as the process sees it now (admin, supervisor, officers whose
        roles have steps in the model)"""
        return variables.application_variables(ctx(), current_actor(), application_id)
