"""The request-validation layer: what neither JSON nor the database can hold never reaches a view.

One `before_request` hook checks every request, whatever endpoint it is for (endpoints added
later included): the JSON body is parsed strictly and walked once, and the query string and
path parameters are checked for what no column can store. A refusal is a 422 problem naming
the field (a JSON pointer into the body, or `/query/<name>`, `/path/<name>`). Rules:

- numbers: finite (no `NaN`, `Infinity`, or `1e999`, which Python reads as infinity) and at most
  4,300 digits (Python's limit for turning an int into text; past it `json.dumps` fails);
- nesting: at most `MAX_DEPTH` levels (deeper bodies exhaust recursion in every later layer);
- text (keys too): no NUL (PostgreSQL text and JSONB cannot hold U+0000) and no lone surrogate
  (`"\\ud800"` cannot be encoded as UTF-8, so it can be neither stored nor sent back);
- integers in the path: within the INTEGER column they address.
Field-level rules (lengths, formats, ranges, enums) are the marshmallow schemas' (`api.fields`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from flask import Request, request
from werkzeug.routing import IntegerConverter

from api.fields import INT32_MAX

MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 4300  # sys.get_int_max_str_digits() by default
JSON_TYPES = ("application/json", "application/problem+json")
# The escapes that can make a NUL (\u0000) or a surrogate (\uD800-\uDFFF, paired or not).
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class RequestRefusedError(ValueError):
    """The request cannot be accepted; `problems` are (field, message) pairs."""

    def __init__(self, detail: str, problems: list[tuple[str, str]], status: int = 422) -> None:
        super().__init__(detail)
        self.detail, self.problems, self.status = detail, problems, status


class _Unholdable:
    """A parsed number that must be refused; the walk reports it with its path."""

    def __init__(self, why: str) -> None:
        self.why = why


def _parse_int(refused: list[_Unholdable], text: str) -> int | _Unholdable:
    if len(text) - text.startswith("-") > MAX_NUMBER_DIGITS:
        return _refuse(refused, f"a number of more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _parse_float(refused: list[_Unholdable], text: str) -> float | _Unholdable:
    if len(text) > MAX_NUMBER_DIGITS:
        return _refuse(refused, f"a number of more than {MAX_NUMBER_DIGITS} digits")
    number = float(text)
    return number if math.isfinite(number) else _refuse(refused, "a number too large to hold")


def _parse_constant(refused: list[_Unholdable], name: str) -> _Unholdable:
    return _refuse(refused, f"{name} is not a JSON number; numbers must be finite")


def _refuse(refused: list[_Unholdable], why: str) -> _Unholdable:
    unholdable = _Unholdable(why)
    refused.append(unholdable)
    return unholdable


def loads_strict(data: bytes | str) -> Any:
    """The JSON value of `data`, or RequestRefusedError saying where and why.

    Raises: RequestRefusedError (400: not JSON; 422: JSON the server cannot hold).
    """
    refused: list[_Unholdable] = []  # the numbers parsed that must be refused
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(
            text,
            parse_int=partial(_parse_int, refused),
            parse_float=partial(_parse_float, refused),
            parse_constant=partial(_parse_constant, refused),
        )
    except RecursionError:
        raise RequestRefusedError(
            "the body is nested too deeply", [("/", f"nested deeper than {MAX_DEPTH} levels")]
        ) from None
    except UnicodeDecodeError as exc:
        raise RequestRefusedError(
            "the body is not UTF-8", [("/", f"byte {exc.start} is not UTF-8")], 400
        ) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise RequestRefusedError("the body is not valid JSON", [("/", where)], 400) from None
    if refused or not isinstance(data, bytes) or not _plainly_holdable(text):
        problems = list(_unholdable(value))
        if problems:
            raise RequestRefusedError("the body holds values the server cannot store", problems)
    return value


def _plainly_holdable(text: str) -> bool:
    """Whether the text of a body read from UTF-8, with no number refused, shows that the
    walk would find nothing (so it is not walked): a NUL or a lone surrogate can only come
    from a `\\u` escape there (strict JSON refuses raw control characters, and UTF-8 cannot
    hold a surrogate), and no value is nested deeper than the body has brackets."""
    return text.count("[") + text.count("{") <= MAX_DEPTH and _RISKY_ESCAPE.search(text) is None


def _pointer(path: tuple[str, ...]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored (NUL, lone surrogate), or None."""
    if "\x00" in text:
        return "text must not contain NUL (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must not contain a lone surrogate (U+D800-U+DFFF)"
    return None


def _unholdable(value: Any) -> Iterator[tuple[str, str]]:
    """(JSON pointer, reason) for each value that cannot be held, walking iteratively."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            yield _pointer(path[:MAX_DEPTH]), f"nested deeper than {MAX_DEPTH} levels"
            continue
        if isinstance(node, _Unholdable):
            yield _pointer(path), node.why
        elif isinstance(node, str):
            if why := text_problem(node):
                yield _pointer(path), why
        elif isinstance(node, dict):
            for key, item in node.items():
                if why := text_problem(key):
                    yield _pointer((*path, key.encode("utf-8", "replace").decode())), why
                stack.append((item, (*path, key)))
        elif isinstance(node, list):
            stack.extend((item, (*path, str(i))) for i, item in enumerate(node))


class OutOfRange(int):
    """A path integer beyond its column; `check_request` refuses it with the parameter's name."""


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route: any digits match (so the answer is a 422 naming the
    parameter, not a 404), and values past an INTEGER column arrive as `OutOfRange`."""

    regex = r"[0-9]+"  # werkzeug's \d+ also takes other scripts' digits

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        limit = self.max if self.max is not None else INT32_MAX
        if len(value) > len(str(limit)) or int(value) > limit:
            return OutOfRange(0)
        return int(value)


def _request_problems(req: Request) -> Iterator[tuple[str, str]]:
    for name, value in (req.view_args or {}).items():
        if isinstance(value, OutOfRange):
            yield f"/path/{name}", f"must be at most {INT32_MAX}"
        elif isinstance(value, str) and (why := text_problem(value)):
            yield f"/path/{name}", why
    if not req.query_string:  # no query: nothing to parse into `args` and check
        return
    for name, value in req.args.items(multi=True):
        if why := text_problem(name) or text_problem(value):
            yield f"/query/{name.encode('utf-8', 'replace').decode()}", why


def check_request() -> None:
    """Refuse what cannot be held (before any view runs); cache the strictly parsed body.

    Raises: RequestRefusedError.
    """
    # Once, not at every `request.`: each is a context-variable lookup.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    if req.routing_exception is not None:  # the 404 or 405 is the answer
        return
    problems = list(_request_problems(req))
    if problems:
        raise RequestRefusedError("the request holds values the server cannot store", problems)
    if req.mimetype not in JSON_TYPES or req.content_length == 0:
        return
    data = req.get_data(cache=True)  # (`request.data` would also try to parse a form)
    if data:
        body = loads_strict(data)
        # Flask's get_json() and webargs (`api.blueprint`) then read this body, not the text.
        req._cached_json = (body, body)
