"""marshmallow field types with the bounds the database and the engine hold, stated in OpenAPI.

Every rule here reaches the OpenAPI document through apispec (`Range` → minimum/maximum,
`Length` → minLength/maxLength, `OneOf` → enum, `Matches` → pattern), so a client, and the
schemathesis run in the suite, learns from the document exactly what the server accepts.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, validate

from engine.domain.formats import Format

INT32_MAX = 2**31 - 1  # ids and versions are INTEGER columns
INT64_MAX = 2**63 - 1  # amounts are BIGINT; OFFSET takes a BIGINT
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years the working calendars cover


class Matches(validate.Regexp):
    """A `Format`, checked on the whole text.

    marshmallow's `Regexp` uses `re.match`, whose `$` also matches before a trailing newline;
    this one uses `Format.matches` (fullmatch), and apispec publishes `Format.pattern`.
    """

    def __init__(self, fmt: Format) -> None:
        super().__init__(fmt.pattern, error=f"must be {fmt.hint}")
        self.format = fmt

    def __call__(self, value: Any) -> Any:
        if not self.format.matches(value):
            raise ValidationError(self.error)
        return value


def text(*, min_length: int = 0, max_length: int, **kwargs: Any) -> fields.String:
    """A string of bounded length."""
    return fields.String(validate=validate.Length(min=min_length, max=max_length), **kwargs)


def formatted(fmt: Format, **kwargs: Any) -> fields.String:
    """A string in `fmt`."""
    return fields.String(validate=Matches(fmt), **kwargs)


class _QueryInteger(fields.Integer):
    """An integer given as text (a query parameter): ASCII digits only, as the document says.

    marshmallow's non-strict Integer calls int(), which also reads "+5", " 5 ", "5_0" and
    digits of other scripts (fullwidth, Arabic-Indic).
    """

    _DIGITS = re.compile(r"-?[0-9]{1,19}")

    def _validated(self, value: Any) -> int:
        if isinstance(value, str) and not self._DIGITS.fullmatch(value):
            raise self.make_error("invalid")
        return super()._validated(value)


def integer(minimum: int, maximum: int, *, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An integer within bounds (`strict`: a JSON number; otherwise its ASCII digits as text)."""
    kind = fields.Integer if strict else _QueryInteger
    return kind(strict=strict, validate=validate.Range(minimum, maximum), **kwargs)


def version(**kwargs: Any) -> fields.Integer:
    """A model version number (an INTEGER column)."""
    return integer(1, INT32_MAX, **kwargs)


def choice(values: list[str] | tuple[str, ...], **kwargs: Any) -> fields.String:
    """One of `values` (published as an enum)."""
    return fields.String(validate=validate.OneOf(list(values)), **kwargs)


# RFC 3339 date-time, as OpenAPI's `format: date-time` means it: what `fromisoformat` also
# reads (a space for T, "+0700", no seconds) is refused, so the document and the server agree.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_YEARS = rf"^(?:{FIRST_YEAR // 100}[0-9]{{2}}|{LAST_YEAR})-"


class Moment(fields.DateTime):
    """An RFC 3339 time with offset whose local date lies in the calendar's years.

    Times at the ends of the calendar (`9999-12-31T23:59:59-23:59`) cannot even be converted
    to UTC; no working calendar exists for them either.
    """

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "pattern": _YEARS,
            "description": f"RFC 3339 with offset, years {FIRST_YEAR}-{LAST_YEAR}",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            raise ValidationError(
                "must be an RFC 3339 time with offset, e.g. 2026-03-17T10:00:00+07:00"
            )
        head, dot, tail = value.upper().partition(".")
        if dot:  # Python reads at most 6 digits of a fraction
            digits = re.match(r"[0-9]+", tail)
            assert digits is not None
            head = f"{head}.{digits[0][:6]}{tail[digits.end():]}"
        try:
            moment = datetime.fromisoformat(head)
        except ValueError:
            raise ValidationError("is not a real date and time") from None
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise ValidationError(f"must be in the years {FIRST_YEAR}-{LAST_YEAR}")
        return moment


class Fee(fields.Field):  # type: ignore[type-arg]
    """A fee override: whole rupiah as an integer, or its digits as text (as a model writes it)."""

    MAX_DIGITS = 12  # engine.modeling.values.MAX_FEE_DIGITS
    _DIGITS = re.compile(r"[0-9]{1,12}")

    def __init__(self, **kwargs: Any) -> None:
        limit = 10**self.MAX_DIGITS - 1
        one_of = [
            {"type": "integer", "minimum": 0, "maximum": limit},
            {"type": "string", "pattern": rf"^[0-9]{{1,{self.MAX_DIGITS}}}$"},
        ]
        super().__init__(metadata={"oneOf": one_of, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
            return value
        if isinstance(value, str) and self._DIGITS.fullmatch(value):
            return value
        raise ValidationError(f"must be whole rupiah from 0, at most {self.MAX_DIGITS} digits")


def _located(errors: Any) -> Any:
    """A key's own error, else its value's errors."""
    if isinstance(errors, dict):
        return errors.get("key") or errors.get("value")
    return errors


class Mapping(fields.Dict):
    """A dict field whose errors are located at `/<key>/...` (a JSON pointer), not under
    marshmallow's `{key: {"key": ..., "value": ...}}`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-untyped-call]
        except ValidationError as exc:
            if not isinstance(exc.messages, dict):
                raise
            flat = {
                key: _located(errors) for key, errors in exc.messages.items()
            }
            raise ValidationError(flat, valid_data=exc.valid_data) from None
