"""SQLAlchemy 2.0 records: the indexed tables every listing reads.

Workflow state is a JSON document on the application row; everything a listing,
inbox or report needs (tasks, their roles and due times, fees, events) has its own
indexed row, so no listing ever deserializes a workflow (DESIGN §8). Every table that
holds a region's data carries `region_code`: the natural shard key (DESIGN §7).

The records live in one module per group (regions and users, process models,
applications and tasks, what they wait on, money, audit, citizens, operations,
notifications, documents); importing this package imports them all, so the mapper
registry knows every class before a relationship names one and `Base.metadata` is the
whole schema (Alembic, `create_all`).
"""

from __future__ import annotations

from engine.persistence.tables.applications import ApplicationRecord, TaskRecord
from engine.persistence.tables.audit import AuditRootRecord, ChainHeadRecord, EventRecord
from engine.persistence.tables.base import Base, JsonType, UtcDateTime
from engine.persistence.tables.citizens import ComplaintRecord, SurveyRecord
from engine.persistence.tables.documents import (
    ApplicationDocumentRecord,
    IssuedDocumentRecord,
    SigningKeyRecord,
)
from engine.persistence.tables.money import (
    FeeItemRecord,
    NumberSequenceRecord,
    PaymentChannelRecord,
    PaymentNotificationRecord,
    PaymentRecord,
    ReceiptCounterRecord,
)
from engine.persistence.tables.notifications import NotificationChannelRecord, OutboxRecord
from engine.persistence.tables.operations import IdempotencyRecord, WorkerHeartbeatRecord
from engine.persistence.tables.process_models import ModelVersionRecord, ProcessModelRecord
from engine.persistence.tables.regions import (
    CalendarOverrideRecord,
    RegionRecord,
    TokenRecord,
    UserRecord,
)
from engine.persistence.tables.waits import (
    ExternalTaskRecord,
    MessageDeliveryRecord,
    MessageSubscriptionRecord,
    TimerRecord,
)

__all__ = [
    "ApplicationDocumentRecord",
    "ApplicationRecord",
    "AuditRootRecord",
    "Base",
    "CalendarOverrideRecord",
    "ChainHeadRecord",
    "ComplaintRecord",
    "EventRecord",
    "ExternalTaskRecord",
    "FeeItemRecord",
    "IdempotencyRecord",
    "IssuedDocumentRecord",
    "JsonType",
    "MessageDeliveryRecord",
    "MessageSubscriptionRecord",
    "ModelVersionRecord",
    "NotificationChannelRecord",
    "NumberSequenceRecord",
    "OutboxRecord",
    "PaymentChannelRecord",
    "PaymentNotificationRecord",
    "PaymentRecord",
    "ProcessModelRecord",
    "ReceiptCounterRecord",
    "RegionRecord",
    "SigningKeyRecord",
    "SurveyRecord",
    "TaskRecord",
    "TimerRecord",
    "TokenRecord",
    "UserRecord",
    "UtcDateTime",
    "WorkerHeartbeatRecord",
]
