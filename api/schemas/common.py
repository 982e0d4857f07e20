"""What every endpoint shares: problem+json answers, paging arguments, paged listings, reasons."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from api.fields import INT32_MAX, Matches, integer, text
from engine.domain import formats
from engine.domain.views import COUNT_CAP


def reason_field(*, max_length: int, required: bool = True) -> fields.String:
    """A reason for an action: required and not blank, or optional."""
    if not required:
        return text(max_length=max_length)
    return fields.String(
        required=True,
        validate=[validate.Length(min=1, max=max_length), Matches(formats.NON_BLANK)],
    )


class ProblemItemSchema(Schema):
    element_id = fields.String()
    line = fields.Integer()
    field = fields.String()
    file = fields.String()
    message = fields.String(required=True)


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemItemSchema))
    request_id = fields.String(
        metadata={"description": "the request's X-Request-Id (also in the server's log line)"}
    )


class PagingArgsSchema(Schema):
    limit = integer(1, 200, strict=False, load_default=50)
    # Listings add limit to offset (past INT64 that overflows); no listing is this long.
    offset = integer(0, INT32_MAX, strict=False, load_default=0)


def page_schema(item: type[Schema], name: str, bounded: bool = False) -> type[Schema]:
    """A paged listing of `item`; `bounded`: its total is counted up to a cap (README)."""
    shape: dict[str, fields.Field[Any]] = {
        "items": fields.List(fields.Nested(item)),
        "total": fields.Integer(),
        "limit": fields.Integer(),
        "offset": fields.Integer(),
    }
    if bounded:
        shape["total"] = fields.Integer(metadata={"description": (
            f"matches, counted up to {COUNT_CAP:,} or to the end of this page if further; "
            "past that, this bound (see total_capped)")})
        shape["total_capped"] = fields.Boolean(metadata={"description": (
            "true when more match than `total` (the count stopped at its bound): page on "
            "until a page has fewer than `limit` items")})
    return Schema.from_dict(shape, name=name)
