"""Fees and payments: only the published amount, once, with a unique reference (DESIGN §4)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import RECORDS_PAYMENTS, SUPERVISOR, Access, Actor
from engine.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from engine.domain.formats import PAYMENT_REFERENCE
from engine.domain.problems import Problem
from engine.domain.read_models import FeeItemView
from engine.domain.statuses import FeeStatus
from engine.persistence.tables import ApplicationRecord, FeeItemRecord, PaymentRecord
from engine.services.access import visible_application
from engine.services.audit import record_event
from engine.services.live_steps import carry_live, live_key_of, locked_application
from engine.unit_of_work import UnitOfWork

CHANNELS = ("bank_transfer", "virtual_account", "qris", "teller", "other")


def record_payment(
    ctx: EngineContext,
    actor: Actor,
    application_id: uuid.UUID,
    fee_item_id: uuid.UUID,
    amount: Any,
    reference: str,
    channel: str = "bank_transfer",
) -> FeeItemView:
    """Record the payment of one open fee item, of exactly its amount; returns the receipt.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError (amount, reference,
    channel), AlreadyExistsError (reference used before), ConflictError (item not open).
    """
    if not (actor.holds(RECORDS_PAYMENTS) or actor.has_any(SUPERVISOR)):
        raise PermissionDeniedError(
            "recording a payment needs a role that records payments in this region, "
            "or supervisor"
        )
    _check_payment_input(amount, reference, channel)
    now = ctx.clock()
    with ctx.uow() as uow:
        # Locked without reading the workflow state: a payment does not run the workflow.
        app = locked_application(uow, actor, application_id, at_least=Access.REDACTED)
        item = uow.repos.fees.get(fee_item_id, for_update=True)
        if item is None or item.application_id != app.id:
            raise NotFoundError(f"fee item {fee_item_id} not found on application {application_id}")
        before = live_key_of(app)
        receipt = settle(uow, actor, app, item, amount, reference, channel, now)
        uow.commit()
        carry_live(ctx, before, app)  # a payment leaves the workflow as it was
        return receipt


def settle(
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    item: FeeItemRecord,
    amount: int,
    reference: str,
    channel: str,
    now: datetime,
) -> FeeItemView:
    """Pay `item` (locked by the caller) inside the caller's transaction: the one path every
    payment takes, at the counter or from a bank channel (receipt, audit).

    Raises: ConflictError (item not open), InvalidInputError (amount), AlreadyExistsError.
    """
    _check_against_item(uow, item, amount, reference)
    receipt = _next_receipt_no(uow, app.region_code, now.year)
    payment = PaymentRecord(
        fee_item_id=item.id,
        application_id=app.id,
        region_code=app.region_code,
        amount=amount,
        reference=reference,
        channel=channel,
        receipt_no=receipt,
        paid_at=now,
        recorded_by=actor.id or None,
    )
    item.status, item.paid_at, item.receipt_no = FeeStatus.PAID, now, receipt
    uow.repos.fees.add(payment)
    _flush_payment(uow, reference)
    record_event(
        uow,
        actor=actor,
        action="payment.recorded",
        subject=f"fee_item:{item.id}",
        at=now,
        region_code=app.region_code,
        application_id=app.id,
        data={
            "before": {"status": FeeStatus.OPEN},
            "after": {"status": FeeStatus.PAID},
            "amount": amount,
            "reference": reference,
            "channel": channel,
            "receipt_no": receipt,
            "element_id": item.element_id,
            "billing_code": item.billing_code,
        },
    )
    return receipt_view(item, payment)


def _check_payment_input(amount: Any, reference: Any, channel: Any) -> None:
    problems = []
    # bool is an int in Python, and a float is never money here.
    if isinstance(amount, bool) or not isinstance(amount, int):
        problems.append(
            Problem(
                "amount must be a whole number of rupiah (an integer, not "
                f"{type(amount).__name__})",
                field="amount",
            )
        )
    elif amount <= 0:
        problems.append(Problem("amount must be positive", field="amount"))
    if not PAYMENT_REFERENCE.matches(reference):
        problems.append(
            Problem(
                "reference must be 4-128 letters, digits, '.', '_', '/' or '-'", field="reference"
            )
        )
    if channel not in CHANNELS:
        problems.append(Problem(f"channel must be one of {', '.join(CHANNELS)}", field="channel"))
    if problems:
        raise InvalidInputError("the payment is not valid", problems)


def _check_against_item(uow: UnitOfWork, item: FeeItemRecord, amount: int, reference: str) -> None:
    if item.status != FeeStatus.OPEN:
        raise ConflictError(f"fee item {item.id} is {item.status}; nothing more can be paid on it")
    if amount != item.amount:
        raise InvalidInputError(
            f"the fee for {item.name!r} is exactly Rp {item.amount}; "
            f"Rp {amount} cannot be recorded",
            [Problem(f"must equal {item.amount}", field="amount")],
        )
    if uow.repos.fees.payment_by_reference(reference) is not None:
        raise AlreadyExistsError(f"payment reference {reference!r} was already recorded")


def _flush_payment(uow: UnitOfWork, reference: str) -> None:
    try:
        uow.flush()
    except AlreadyExistsError:  # a concurrent payment took the reference (or the item) first
        raise AlreadyExistsError(f"payment reference {reference!r} was already recorded") from None


def _next_receipt_no(uow: UnitOfWork, region: str, year: int) -> str:
    """The next receipt number of the region's yearly sequence, e.g. 3273/2026/000042."""
    return f"{region}/{year}/{uow.repos.fees.next_receipt_no(region, year):06d}"


def receipt_view(item: FeeItemRecord, payment: PaymentRecord | None) -> FeeItemView:
    """A fee item with its payment and receipt, as the API returns it."""
    view: FeeItemView = {
        "fee_item": item.id,
        "element_id": item.element_id,
        "name": item.name,
        "amount": item.amount,
        "status": item.status,
        "receipt_no": item.receipt_no,
        "paid_at": item.paid_at,
        "cancelled_reason": item.cancelled_reason,
        "currency": "IDR",
        "billing_code": item.billing_code,
        "formula": (
            {
                "name": item.formula,
                "version": item.formula_version,
                "sha256": item.formula_sha256,
                "inputs": item.formula_inputs,
            }
            if item.formula
            else None
        ),
    }
    if payment is not None:
        view["payment"] = {
            "reference": payment.reference,
            "channel": payment.channel,
            "amount": payment.amount,
            "paid_at": payment.paid_at,
            "receipt_no": payment.receipt_no,
        }
    return view


def fee_items(ctx: EngineContext, actor: Actor, application_id: uuid.UUID) -> list[FeeItemView]:
    """An application's fee items with payments and receipts.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        app = visible_application(uow, actor, application_id, at_least=Access.REDACTED)
        return fee_views(uow, app.id)


def fee_views(uow: UnitOfWork, application_id: uuid.UUID) -> list[FeeItemView]:
    """The application's fee items, each with its payment and receipt."""
    return [receipt_view(i, p) for i, p in uow.repos.fees.with_payments(application_id)]
