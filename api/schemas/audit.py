"""The record and its oversight: events, published chain heads, report ranges, revoking an
issued document."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.fields import Moment, text


class EventSchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    subject = fields.String()
    reason = fields.String(allow_none=True)
    data = fields.Dict()
    chain = fields.String()
    seq = fields.Integer()
    prev_hash = fields.String()
    hash = fields.String()


class PublishedHeadSchema(Schema):
    chain = fields.String()
    seq = fields.Integer()
    hash = fields.String()
    published_at = fields.String()


class ReportArgsSchema(Schema):
    from_ = Moment(required=True, data_key="from")
    to = Moment(required=True)
    region = text(max_length=16)
    process = text(max_length=64)


class RevocationArgsSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(10, 1000))
