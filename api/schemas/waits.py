"""What an application waits on from outside: correlated messages and external tasks."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from api.fields import formatted, integer, text
from engine.domain import formats
from engine.services.external_task_terms import TopicRequest


class MessageSchema(Schema):
    name = text(min_length=1, max_length=200, required=True)
    application_id = fields.UUID()
    tracking_code = text(max_length=32)
    correlation = fields.Dict(keys=fields.String())
    data = fields.Dict(load_default=dict)
    message_id = text(min_length=1, max_length=200)
    region = formatted(formats.REGION_CODE)


class _TopicSchema(Schema):
    name = text(min_length=1, max_length=200, required=True)
    lock_duration = integer(1, 604_800_000)


class ExternalFetchSchema(Schema):
    """Camunda's shape: topics with their own lock_duration, or a lock_duration for all."""

    worker_id = text(min_length=1, max_length=200, required=True)
    max_tasks = integer(1, 100, load_default=10)
    lock_duration = integer(1, 604_800_000)
    topics = fields.List(
        fields.Nested(_TopicSchema), required=True, validate=validate.Length(min=1, max=50)
    )
    region = formatted(formats.REGION_CODE)

    @post_load
    def _topics(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        default = data.get("lock_duration", 0)
        data["topics"] = [
            TopicRequest(t["name"], t.get("lock_duration") or default) for t in data["topics"]
        ]
        return data


class LockedExternalTaskSchema(Schema):
    id = fields.UUID()
    topic = fields.String()
    worker_id = fields.String()
    lock_expires_at = fields.AwareDateTime()
    retries = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    application_id = fields.UUID()
    process_key = fields.String()
    element_id = fields.String()
    region = fields.String()
    variables = fields.Dict()


class ExternalCompleteSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    variables = fields.Dict(load_default=dict)


class ExternalFailureSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    message = text(max_length=2000, load_default="")
    retries = integer(0, 1000, load_default=0)
    retry_timeout = integer(0, 604_800_000, load_default=0)


class ExternalBpmnErrorSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    code = text(min_length=1, max_length=200, required=True)
    message = text(max_length=2000)
    variables = fields.Dict(load_default=dict)


class ExternalExtendLockSchema(Schema):
    worker_id = text(min_length=1, max_length=200, required=True)
    new_duration = integer(1, 604_800_000, required=True)


class ExternalTaskSchema(Schema):
    id = fields.UUID()
    topic = fields.String()
    status = fields.String()
    worker_id = fields.String(allow_none=True)
    lock_expires_at = fields.AwareDateTime(allow_none=True)
    retries = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    application_id = fields.UUID()
    element_id = fields.String()
    region = fields.String()
