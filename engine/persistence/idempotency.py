"""The idempotency claim of the request being served, written with the change it guards.

The HTTP layer sets `pending` for a POST that carries an `Idempotency-Key`; the unit of
work's commit inserts the claim row in the same transaction as the use case's changes
(`claim_in`). Two requests with the same key that race both run the use case, but only
one commit can insert the row: the other's whole transaction rolls back on the key, so
the change is made once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.persistence.tables import IdempotencyRecord


@dataclass
class Claim:
    """What a request claims: its caller's key, with the fingerprint of its body."""

    scope: str
    key: str
    fingerprint: str
    created_at: datetime
    expires_at: datetime
    claimed: bool = False  # set once a commit wrote it


pending: ContextVar[Claim | None] = ContextVar("permitflow_idempotency_claim", default=None)


class DuplicateClaimError(Exception):
    """Another request with the same key committed first; this transaction was rolled back."""


def claim_in(session: Session) -> None:
    """Insert the pending claim (if any, and not yet written) inside the open transaction.

    Raises: DuplicateClaimError when another transaction holds the same key.
    """
    claim = pending.get()
    if claim is None or claim.claimed:
        return
    session.add(
        IdempotencyRecord(
            scope=claim.scope,
            key=claim.key,
            fingerprint=claim.fingerprint,
            created_at=claim.created_at,
            expires_at=claim.expires_at,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateClaimError(claim.key) from None


def committed() -> None:
    """The transaction that wrote the pending claim committed: later ones must not write it."""
    claim = pending.get()
    if claim is not None:
        claim.claimed = True


@contextmanager
def unclaimed() -> Iterator[None]:
    """Commit without the request's claim: a record kept of a refusal (a payment callback's
    bad signature or stale time) is not the change the key guards, so the refused request
    claims nothing and the sender's corrected retry with the same key runs."""
    token = pending.set(None)
    try:
        yield
    finally:
        pending.reset(token)
