"""Billing: yearly number series, payment channels, channel notifications, reconciliation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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
        """The next number of a region's yearly series, in one upsert statement. No gaps
        and no duplicates: the row stays locked by this transaction until it ends (a rolled
        back transaction takes its increment with it), and the first of a year is created
        by the same statement whichever transaction comes first."""
        statement = _next_number(self.session.get_bind().dialect.name)
        params = {"region_code": region_code, "series": series, "year": year}
        return int(self.session.execute(statement, params).scalar_one())

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


# Built once per dialect: building this upsert cost ~90 us at every fee a step opens and
# every document it issues (issue #16). An ORM statement on purpose: like any, it first
# flushes the session's pending changes (the statement budget counts on that order).
_NEXT_NUMBER: dict[str, Any] = {}


def _next_number(dialect: str) -> Any:
    statement = _NEXT_NUMBER.get(dialect)
    if statement is None:
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        table = NumberSequenceRecord.__table__
        statement = _NEXT_NUMBER[dialect] = (
            insert(NumberSequenceRecord)
            .values(
                region_code=bindparam("region_code"), series=bindparam("series"),
                year=bindparam("year"), last_no=1,
            )
            .on_conflict_do_update(
                index_elements=["region_code", "series", "year"],
                set_={"last_no": table.c.last_no + 1},
            )
            .returning(table.c.last_no)
        )
    return statement
