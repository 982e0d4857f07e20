"""The id of the request being served, so the audit events it writes can name it.

Set by the HTTP layer for the length of one request (a context variable: each thread and
each task sees its own); the engine only reads it.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("permitflow_request_id", default=None)
