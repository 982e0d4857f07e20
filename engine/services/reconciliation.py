"""The daily reconciliation of a region: what was billed, paid, left unpaid and refused.

A day is the region's calendar day (its own time zone). Billed: fee items whose billing
code was issued that day. Paid: payments recorded that day, whatever the channel (counter,
bank VA, QRIS). Unpaid: of the items billed that day, those still open. Notifications: every
channel notification received that day, with its outcome (accepted, duplicate, refused) and
reason. Amounts are whole rupiah.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from engine.context import EngineContext
from engine.domain.actors import ADMIN, CASHIER, SUPERVISOR, Actor
from engine.domain.errors import PermissionDeniedError
from engine.domain.read_models import BilledItem, PaidItem, Reconciliation
from engine.domain.statuses import FeeStatus
from engine.persistence.tables import FeeItemRecord, PaymentRecord
from engine.services.access import visible_region
from engine.services.calendars import calendar_for


def daily_reconciliation(
    ctx: EngineContext, actor: Actor, region: str, day: date
) -> Reconciliation:
    """The region's reconciliation for `day`.

    Raises: PermissionDeniedError (needs supervisor, cashier or admin), NotFoundError.
    """
    if not actor.has_any(ADMIN, SUPERVISOR, CASHIER):
        raise PermissionDeniedError("the reconciliation needs supervisor, cashier or admin")
    with ctx.reader() as uow:
        record = visible_region(uow, actor, region)
        zone = calendar_for(uow, record).tz
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = start + timedelta(days=1)
        billed = uow.repos.billing.billed_between(region, start, end)
        paid = uow.repos.billing.paid_between(region, start, end)
        notes = uow.repos.billing.notifications_between(region, start, end)
        unpaid = [i for i in billed if i.status == FeeStatus.OPEN]
        return {
            "region": region,
            "date": day.isoformat(),
            "timezone": str(zone),
            "currency": "IDR",
            "billed": [_item(i) for i in billed],
            "paid": [_paid(p, i) for p, i in paid],
            "unpaid": [_item(i) for i in unpaid],
            "notifications": [
                {"channel": n.channel, "outcome": n.outcome, "reason": n.reason,
                 "billing_code": n.billing_code, "amount": n.amount, "reference": n.reference,
                 "receipt_no": n.receipt_no, "received_at": n.received_at}
                for n in notes
            ],
            "totals": {
                "billed": sum(i.amount for i in billed),
                "paid": sum(p.amount for p, _ in paid),
                "unpaid": sum(i.amount for i in unpaid),
                "refused": sum(1 for n in notes if n.outcome == "refused"),
                "duplicates": sum(1 for n in notes if n.outcome == "duplicate"),
            },
        }


def _paid(payment: PaymentRecord, item: FeeItemRecord) -> PaidItem:
    view = _item(item)
    return {**view, "receipt_no": payment.receipt_no, "channel": payment.channel,
            "reference": payment.reference, "paid_at": payment.paid_at}


def _item(item: FeeItemRecord) -> BilledItem:
    return {
        "billing_code": item.billing_code,
        "fee_item": item.id,
        "application_id": item.application_id,
        "name": item.name,
        "amount": item.amount,
        "status": item.status,
    }
