"""Message subscriptions and deliveries: how a message finds the task waiting for it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from engine.domain.statuses import ApplicationStatus, SubscriptionStatus
from engine.persistence.base import BaseRepository
from engine.persistence.tables import (
    ApplicationRecord,
    MessageDeliveryRecord,
    MessageSubscriptionRecord,
)


class MessageRepository(BaseRepository):
    def waiting_for(self, application_id: uuid.UUID) -> Sequence[MessageSubscriptionRecord]:
        """The application's tasks that wait for a message now."""
        return self.session.scalars(
            select(MessageSubscriptionRecord).where(
                MessageSubscriptionRecord.application_id == application_id,
                MessageSubscriptionRecord.status == SubscriptionStatus.WAITING,
            )
        ).all()

    def waiting_named(self, region_code: str, name: str) -> Sequence[uuid.UUID]:
        """The running applications of the region with a task waiting for `name`."""
        query = (
            select(MessageSubscriptionRecord.application_id)
            .join(
                ApplicationRecord, ApplicationRecord.id == MessageSubscriptionRecord.application_id
            )
            .where(
                MessageSubscriptionRecord.region_code == region_code,
                MessageSubscriptionRecord.name == name,
                MessageSubscriptionRecord.status == SubscriptionStatus.WAITING,
                ApplicationRecord.status == ApplicationStatus.RUNNING,
            )
            .distinct()
        )
        return self.session.scalars(query).all()

    def delivery(self, region_code: str, message_id: str) -> MessageDeliveryRecord | None:
        """The delivery recorded under the sender's `message_id`, if any."""
        return self.session.get(MessageDeliveryRecord, (region_code, message_id))
