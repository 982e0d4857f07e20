"""Read models: fees."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NotRequired, TypedDict


class PaymentView(TypedDict):
    reference: str
    channel: str
    amount: int
    paid_at: datetime
    receipt_no: str


class FeeItemView(TypedDict):
    fee_item: uuid.UUID
    element_id: str
    name: str
    amount: int
    status: str
    receipt_no: str | None
    paid_at: datetime | None
    cancelled_reason: str | None
    currency: str
    billing_code: str | None
    formula: dict[str, Any] | None
    payment: NotRequired[PaymentView]
