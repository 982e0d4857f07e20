"""Regions, their calendars (overrides, working week, due dates) and their users and tokens."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.fields import FIRST_YEAR, LAST_YEAR, Matches, Moment, choice, formatted, integer, text
from api.schemas.common import reason_field
from engine.domain import formats
from engine.services.regions import INDONESIAN_TIMEZONES


class RegionSchema(Schema):
    code = formatted(formats.REGION_CODE, required=True)
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), Matches(formats.NON_BLANK)],
    )
    timezone = choice(INDONESIAN_TIMEZONES, load_default="Asia/Jakarta")


class CalendarArgsSchema(Schema):
    year = integer(FIRST_YEAR, LAST_YEAR, strict=False)


class OverrideSchema(Schema):
    day = fields.Date(required=True, metadata={"description": "a day of the year being set"})
    kind = choice(["closed", "open"], required=True)
    reason = reason_field(max_length=500)


class CalendarUpdateSchema(Schema):
    year = integer(FIRST_YEAR, LAST_YEAR, required=True)
    overrides = fields.List(fields.Nested(OverrideSchema), required=True)


class DayHoursInputSchema(Schema):
    weekday = integer(0, 6, required=True, metadata={"description": "0 = Monday ... 6 = Sunday"})
    opens = formatted(formats.CLOCK_TIME, required=True)
    closes = formatted(formats.CLOCK_TIME, required=True)


class CalendarWeekSchema(Schema):
    working_days = fields.List(
        integer(0, 6),
        required=True,
        validate=validate.Length(min=1, max=7),
        metadata={"description": "weekdays worked, each once, 0 = Monday ... 6 = Sunday"},
    )
    opens = formatted(formats.CLOCK_TIME, required=True)
    closes = formatted(formats.CLOCK_TIME, required=True)
    day_hours = fields.List(
        fields.Nested(DayHoursInputSchema),
        load_default=list,
        validate=validate.Length(max=7),
        metadata={"description": "weekdays whose hours differ from opens-closes (e.g. Friday)"},
    )


class DueArgsSchema(Schema):
    from_ = Moment(required=True, data_key="from")
    sla = formatted(formats.SLA, required=True)


class UserNewSchema(Schema):
    name = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), Matches(formats.NON_BLANK)]
    )
    roles = fields.List(formatted(formats.ROLE), required=True, validate=validate.Length(1, 20))
    region = formatted(formats.REGION_CODE, load_default=None, allow_none=True)


class TokenSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    state = choice(["active", "expired", "revoked"])
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})


class UserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    region = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    tokens = fields.List(fields.Nested(TokenSchema))


class UserCreatedSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    region = fields.String(allow_none=True, attribute="region_code")
    roles = fields.List(fields.String())
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})
    expires_at = fields.AwareDateTime(allow_none=True)


class UserListArgsSchema(Schema):
    region = text(max_length=16)


class PowersSchema(Schema):
    acts_for_applicant = fields.List(
        formatted(formats.ROLE), data_key="acts-for-applicant", attribute="acts-for-applicant",
        validate=validate.Length(max=20)
    )
    records_payments = fields.List(
        formatted(formats.ROLE), data_key="records-payments", attribute="records-payments",
        validate=validate.Length(max=20)
    )
