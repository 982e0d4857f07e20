"""Notifications over HTTP (admin): a region's channels, its outbox, re-queuing dead letters."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api.auth import current_actor
from api.blueprint import Blueprint
from api.fields import choice
from api.fields import text as bounded
from api.schemas import PagingArgsSchema
from api.wiring import ctx
from engine.domain.notifications import (
    LANGUAGES,
    ChannelKind,
    NotificationEvent,
    OutboxStatus,
)
from engine.services import notification_admin

blp = Blueprint(
    "notifications",
    __name__,
    description="Notifications: channels per region (SMTP, signed webhooks) and the outbox",
)

EVENTS = [str(e) for e in NotificationEvent]


class NotificationChannelBodySchema(Schema):
    name = bounded(min_length=1, max_length=100, required=True)
    kind = choice([str(k) for k in ChannelKind], required=True)
    settings = fields.Dict(
        keys=fields.String(validate=validate.Length(max=64)), required=True,
        metadata={"description": "email: host, port, tls (none|starttls|tls), sender, "
                  "username, role_addresses {role: [address]}; webhook: url"},
    )
    secret = bounded(
        min_length=1, max_length=500, allow_none=True, load_only=True,
        metadata={"description": "SMTP password or webhook signing key; write-only; "
                  "omitted on a change: the stored one is kept"},
    )
    events = fields.List(choice(EVENTS), validate=validate.Length(max=len(EVENTS)),
                         metadata={"description": "omitted: every event"})
    language = choice(list(LANGUAGES), load_default="id")
    active = fields.Boolean(load_default=True)


class NotificationChannelSchema(Schema):
    id = fields.Integer()
    region = fields.String()
    name = fields.String()
    kind = fields.String()
    settings = fields.Dict()
    events = fields.List(fields.String())
    language = fields.String()
    active = fields.Boolean()
    secret_set = fields.Boolean()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class NotificationOutboxArgsSchema(PagingArgsSchema):
    status = choice([str(s) for s in OutboxStatus])


class NotificationOutboxItemSchema(Schema):
    id = fields.UUID()
    region = fields.String()
    channel_id = fields.Integer()
    event = fields.String()
    audience = fields.String()
    role = fields.String(allow_none=True)
    application_id = fields.UUID(allow_none=True)
    recipients = fields.Integer(metadata={"description": "how many (addresses never listed)"})
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime()
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)


class NotificationOutboxPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationOutboxItemSchema))
    total = fields.Integer()


@blp.route("/api/v1/regions/<region>/notification-channels")
class Channels(MethodView):
    @blp.response(200, NotificationChannelSchema(many=True))
    def get(self, region: str) -> Any:
        """A region's notification channels (admin; secrets never shown)"""
        return notification_admin.list_channels(ctx(), current_actor(), region)

    @blp.arguments(NotificationChannelBodySchema)
    @blp.response(201, NotificationChannelSchema)
    def post(self, body: dict[str, Any], region: str) -> Any:
        """Add a notification channel to a region (admin; audited)"""
        return notification_admin.add_channel(ctx(), current_actor(), region, body)


@blp.route("/api/v1/notification-channels/<int:channel_id>")
class Channel(MethodView):
    @blp.arguments(NotificationChannelBodySchema)
    @blp.response(200, NotificationChannelSchema)
    def put(self, body: dict[str, Any], channel_id: int) -> Any:
        """Replace a channel's configuration (admin; audited)"""
        return notification_admin.change_channel(ctx(), current_actor(), channel_id, body)

    @blp.response(200, NotificationChannelSchema)
    def delete(self, channel_id: int) -> Any:
        """Disable a channel; its pending notifications become dead letters (admin; audited)"""
        return notification_admin.remove_channel(ctx(), current_actor(), channel_id)


@blp.route("/api/v1/regions/<region>/notifications")
class Outbox(MethodView):
    @blp.arguments(NotificationOutboxArgsSchema, location="query")
    @blp.response(200, NotificationOutboxPageSchema)
    def get(self, args: dict[str, Any], region: str) -> Any:
        """A region's notification outbox, newest first (status=dead: the dead letters)"""
        return notification_admin.outbox(
            ctx(), current_actor(), region, args.get("status"), args["limit"], args["offset"]
        )


@blp.route("/api/v1/notifications/<uuid:row_id>/requeue")
class Requeue(MethodView):
    @blp.response(200, NotificationOutboxItemSchema)
    def post(self, row_id: uuid.UUID) -> Any:
        """Put a dead letter back in the queue, due now (admin; audited)"""
        return notification_admin.requeue(ctx(), current_actor(), row_id)
