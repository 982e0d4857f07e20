"""Billing: yearly number series, payment channels, channel notifications, reconciliation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.persistence.base import BaseRepository
from engine.persistence.tables import (
    FeeItemRecord,
    NumberSequenceRecord,
    PaymentChannelRecord,
    PaymentNotificationRecord,
    PaymentRecord,
)


class BillingRepository(BaseRepository):
    def next_number(self, region_code: str, series: str, year: int) -> int:
        """The next number of a region's yearly series. No gaps: the row stays locked until
        the transaction ends, and the first of a year is created safely under a race."""
        query = (
            select(NumberSequenceRecord)
            .where(
                NumberSequenceRecord.region_code == region_code,
                NumberSequenceRecord.series == series,
                NumberSequenceRecord.year == year,
            )
            .with_for_update()
        )
        row = self.session.scalars(query).first()
        if row is None:
            try:
                with self.session.begin_nested():
                    self.session.add(NumberSequenceRecord(
                        region_code=region_code, series=series, year=year, last_no=0
                    ))
            except IntegrityError:
                pass
            row = self.session.scalars(query.execution_options(populate_existing=True)).one()
        row.last_no += 1
        return row.last_no

    def channel(self, name: str) -> PaymentChannelRecord | None:
        return self.session.scalars(
            select(PaymentChannelRecord).where(PaymentChannelRecord.name == name)
        ).first()

    def channels(self, region_code: str | None) -> Sequence[PaymentChannelRecord]:
        query = select(PaymentChannelRecord).order_by(PaymentChannelRecord.name)
        if region_code is not None:
            query = query.where(PaymentChannelRecord.region_code == region_code)
        return self.session.scalars(query).all()

    def item_by_billing_code(
        self, code: str, *, for_update: bool = False
    ) -> FeeItemRecord | None:
        query = select(FeeItemRecord).where(FeeItemRecord.billing_code == code)
        return self.session.scalars(query.with_for_update() if for_update else query).first()

    def accepted_notification(
        self, channel: str, reference: str
    ) -> PaymentNotificationRecord | None:
        return self.session.scalars(
            select(PaymentNotificationRecord).where(
                PaymentNotificationRecord.channel == channel,
                PaymentNotificationRecord.reference == reference,
                PaymentNotificationRecord.outcome == "accepted",
            )
        ).first()

    def billed_between(
        self, region_code: str, start: datetime, end: datetime
    ) -> Sequence[FeeItemRecord]:
        return self.session.scalars(
            select(FeeItemRecord)
            .where(
                FeeItemRecord.region_code == region_code,
                FeeItemRecord.billing_code.is_not(None),
                FeeItemRecord.created_at >= start,
                FeeItemRecord.created_at < end,
            )
            .order_by(FeeItemRecord.billing_code)
        ).all()

    def paid_between(
        self, region_code: str, start: datetime, end: datetime
    ) -> list[tuple[PaymentRecord, FeeItemRecord]]:
        query = (
            select(PaymentRecord, FeeItemRecord)
            .join(FeeItemRecord, FeeItemRecord.id == PaymentRecord.fee_item_id)
            .where(
                PaymentRecord.region_code == region_code,
                PaymentRecord.paid_at >= start,
                PaymentRecord.paid_at < end,
            )
            .order_by(PaymentRecord.paid_at, PaymentRecord.id)
        )
        return [(p, i) for p, i in self.session.execute(query)]

    def notifications_between(
        self, region_code: str, start: datetime, end: datetime
    ) -> Sequence[PaymentNotificationRecord]:
        return self.session.scalars(
            select(PaymentNotificationRecord)
            .where(
                PaymentNotificationRecord.region_code == region_code,
                PaymentNotificationRecord.received_at >= start,
                PaymentNotificationRecord.received_at < end,
            )
            .order_by(PaymentNotificationRecord.id)
        ).all()
