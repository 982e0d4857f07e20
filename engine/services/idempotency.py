"""Idempotency keys: a retried POST gets the first answer instead of doing it again.

The caller (per actor) names a request with a key; the first request's change and its
claim on the key commit together (`engine/persistence/idempotency.py`), its answer is
stored right after, and for 24 hours the same key with the same request replays that
answer; the same key with a different request is refused. The worker forgets expired
keys (`engine.services.ops.record_heartbeat`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from engine.context import EngineContext
from engine.domain.errors import ConflictError, InvalidInputError
from engine.domain.problems import Problem
from engine.persistence.idempotency import Claim, DuplicateClaimError, pending

__all__ = [
    "Claim",
    "DuplicateClaimError",
    "StoredAnswer",
    "begin",
    "fingerprint",
    "guarded",
    "store",
]

LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer to a key: what a retry gets back."""

    status: int
    content_type: str
    body: bytes


class RequestInProgressError(ConflictError):
    """The first request with this key has not answered yet (or its answer was lost)."""


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body (JSON compared as data)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


def begin(ctx: EngineContext, scope: str, key: str, print_: str) -> StoredAnswer | Claim:
    """The stored answer of `key` for a retry, or a new claim to run the request under.

    Raises: InvalidInputError (422) when the key was used for a different request;
    RequestInProgressError (409) when the first request has not answered yet.
    """
    now = ctx.clock()
    with ctx.primary_reader() as uow:
        row = uow.repos.idempotency.get(scope, key)
        if row is not None and row.expires_at > now:
            return _replay(row.fingerprint, print_, row.status, row.content_type, row.body)
    return Claim(scope, key, print_, now, now + LIFETIME)


def _replay(
    stored: str, given: str, status: int | None, content_type: str | None, body: bytes | None
) -> StoredAnswer:
    if stored != given:
        raise InvalidInputError(
            "this Idempotency-Key was used for a different request in the last 24 hours; "
            "use a new key for a new request",
            [Problem(message="key reused with another method, path or body", field=HEADER)],
        )
    if status is None or body is None:
        raise RequestInProgressError(
            "the first request with this Idempotency-Key has not answered yet; retry shortly"
        )
    return StoredAnswer(status, content_type or "application/json", body)


def answer_of(ctx: EngineContext, claim: Claim) -> StoredAnswer:
    """The answer of the request that won `claim`'s key (after DuplicateClaimError).

    Raises: InvalidInputError, RequestInProgressError (as `begin`).
    """
    found = begin(ctx, claim.scope, claim.key, claim.fingerprint)
    if isinstance(found, Claim):  # the winner's row expired in between: nothing to replay
        raise RequestInProgressError("the first request with this key is gone; retry")
    return found


@contextmanager
def guarded(claim: Claim) -> Iterator[Claim]:
    """Run a use case with `claim` pending: its commit writes the claim with its changes."""
    token = pending.set(claim)
    try:
        yield claim
    finally:
        pending.reset(token)


def store(ctx: EngineContext, claim: Claim, answer: StoredAnswer) -> None:
    """Keep the first answer of a claimed key (a request that changed nothing keeps none)."""
    if not claim.claimed:
        return
    with ctx.uow() as uow:
        uow.repos.idempotency.store_answer(
            claim.scope, claim.key, answer.status, answer.content_type, answer.body
        )
        uow.commit()
