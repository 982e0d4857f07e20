"""Structured logs: one JSON object a line, one line per request, with its request id.

The request id comes from `X-Request-Id` (when it is a plain token of at most 128
characters) or is made here; it is echoed in the response header, put in problem+json
answers (`request_id`) and in the details of every audit event the request writes.

The request line names the route *template* (`/track/<code>`, never the code), the actor's
numeric id, the region code, status and duration: no query string, body, name, token or
other personal data goes into a log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

from engine.domain import correlation

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_KEY = "HTTP_X_REQUEST_ID"  # its WSGI environ key
_VALID_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
# What a log record may carry besides its message (as `extra=`): nothing else is written.
FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "actor",
    "region",
    "worker",
    "pass_ms",
)
access_log = logging.getLogger("permitflow.access")
# What `json.dumps(line, ensure_ascii=False, default=str)` uses, built once, not per line.
_LINE = json.JSONEncoder(ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...fields}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        rid = line.get("request_id") or correlation.request_id.get()
        if rid:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _LINE.encode(line)


def configure_logging(level: str, fmt: str = "json") -> None:
    """Root logging to stderr, as JSON lines (or plain text, `fmt="text"`, for a terminal)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_permitflow", False)]:
        root.removeHandler(old)
    handler._permitflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # SpiffWorkflow logs every task state change at INFO: a line per step per request.
    logging.getLogger("spiff").setLevel(max(logging.WARNING, root.level))


def _begin() -> None:
    given = request.environ.get(_REQUEST_ID_KEY, "")  # the header, as `request.headers` reads it
    request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
    context = g._get_current_object()
    context.request_id = request_id
    context.request_started = time.perf_counter()
    context.correlation_token = correlation.request_id.set(request_id)


def _finish(response: Response) -> Response:
    context = g._get_current_object()
    response.headers[REQUEST_ID_HEADER] = context.request_id
    if not access_log.isEnabledFor(logging.INFO):
        return response  # the line would not be written: build none of it
    req = request._get_current_object()  # type: ignore[attr-defined]
    actor = context.get("actor")
    region = (req.view_args or {}).get("region") or getattr(actor, "region_code", None)
    rule = req.url_rule
    access_log.info(
        "request",
        extra={
            "request_id": context.request_id,
            "method": req.method,
            "route": rule.rule if rule else "(unrouted)",
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - context.request_started) * 1000, 2),
            "actor": getattr(actor, "id", None),
            "region": region if isinstance(region, str) else None,
        },
    )
    return response


def _teardown(_exc: BaseException | None) -> None:
    token = g.pop("correlation_token", None)
    if token is not None:
        correlation.request_id.reset(token)


def init_observability(app: Flask) -> None:
    """Logging set-up and the per-request id and log line (first before_request of all)."""
    configure_logging(app.config["LOG_LEVEL"], str(app.config["LOG_FORMAT"]).lower())
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    app.teardown_request(_teardown)
