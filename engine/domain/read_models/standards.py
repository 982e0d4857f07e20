"""Read models: service standards."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NotRequired, TypedDict


class FormulaRef(TypedDict):
    name: str
    version: str
    sha256: str


class ProcedureStep(TypedDict):
    order: int
    element_id: str
    name: str
    role: str
    sla: str | None
    fee: int
    fee_formula: NotRequired[FormulaRef]
    # A called model's step: the call activity, the model and version, per_item (#10).
    called: NotRequired[dict[str, Any]]


class StandardTotals(TypedDict):
    fee: int
    fee_per_item: int
    legal_sla: str | None
    legal_sla_is_backstop: bool
    currency: str
    fee_formulas: list[dict[str, Any]]


class ServiceStandard(TypedDict):
    region: str
    key: str
    version: int
    title: str
    status: str
    procedure: list[ProcedureStep]
    totals: StandardTotals
    standard: dict[str, Any]
    # Issue #15, in the catalogue: complaints (filed, answered, answered_in_time) and the IKM.
    complaints: NotRequired[dict[str, int]]
    skm: NotRequired[dict[str, Any]]


class EstimatedFee(TypedDict):
    element_id: str
    name: str
    amount: int
    assessment: dict[str, Any] | None
    called: NotRequired[dict[str, Any]]


class FeeEstimate(TypedDict):
    region: str
    key: str
    version: int
    currency: str
    fees: list[EstimatedFee]
    total: int


class ChannelView(TypedDict):
    name: str
    region: str
    kind: str
    active: bool
    fingerprint: str
    created_at: datetime


class NewChannelView(ChannelView):
    secret: str


class CallbackAnswer(TypedDict):
    status: str
    receipt_no: str | None
    billing_code: str | None
    amount: int | None


class BilledItem(TypedDict):
    billing_code: str | None
    fee_item: uuid.UUID
    application_id: uuid.UUID
    name: str
    amount: int
    status: str


class PaidItem(BilledItem):
    receipt_no: str
    channel: str
    reference: str
    paid_at: datetime


class ChannelNotification(TypedDict):
    channel: str
    outcome: str
    reason: str | None
    billing_code: str | None
    amount: int | None
    reference: str | None
    receipt_no: str | None
    received_at: datetime


class ReconciliationTotals(TypedDict):
    billed: int
    paid: int
    unpaid: int
    refused: int
    duplicates: int


class Reconciliation(TypedDict):
    region: str
    date: str
    timezone: str
    currency: str
    billed: list[BilledItem]
    paid: list[PaidItem]
    unpaid: list[BilledItem]
    notifications: list[ChannelNotification]
    totals: ReconciliationTotals
