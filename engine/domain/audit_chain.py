"""The audit chain's hashing: what an event's hash covers, and how a chain is checked.

Each event's hash covers its own content and the previous event's hash, so changing,
deleting or inserting any event breaks every link after it. Chains are ordered by `seq`
without gaps. An application's events form the application's own chain (named by its id;
its head is on the application's row, which the step already locks); events of no
application form their region's chain (the global chain `*` holds events of no region).
Before migration 0014 every event went to its region's chain: those events stay where
they are and verify as they always did. A region's chains are tied together by its
roots (`audit_roots`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
GLOBAL_CHAIN = "*"


def chain_of(region_code: str | None) -> str:
    """The chain an event of `region_code` belongs to."""
    return region_code or GLOBAL_CHAIN


def application_chain(application_id: object) -> str:
    """The chain of an application's events: its id, as text (36 characters)."""
    return str(application_id)


def is_application_chain(chain: str) -> bool:
    return len(chain) == 36


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the event's fields."""
    canonical = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()


def hashed_fields(
    *,
    chain: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    application_id: str | None,
    reason: str | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The fields an event's hash covers, in their canonical form."""
    return {
        "chain": chain,
        "seq": seq,
        # In UTC, as stored: an event recorded at 10:00+07:00 reads back as 03:00+00:00.
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "application_id": application_id,
        "reason": reason,
        "data": data,
    }


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first event at which a chain stops verifying, and why."""

    chain: str
    seq: int | None
    event_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back from storage, for verification."""

    id: int
    seq: int
    prev_hash: str
    hash: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PublishedHead:
    """A chain head as it was published outside the database (`permitflow audit heads`).

    Anyone with write access to the database could rewrite a chain and recompute every
    hash after the change, head included: the chain would verify. A head published earlier
    (a daily notice, another region's records, an auditor's file) pins the chain up to its
    event; a rewrite of anything before it no longer matches.
    """

    chain: str
    seq: int
    hash: str
    published_at: str = ""


def verify_chain(
    chain: str,
    events: Iterable[StoredEvent],
    head: tuple[int, str] | None,
    published: Iterable[PublishedHead] = (),
) -> ChainBreak | None:
    """The first break in `events` (ordered by seq), or None when the chain is intact.

    `published`: heads of this chain published earlier; each must still be in the chain.
    """
    pinned = {p.seq: p for p in published if p.chain == chain}
    prev_hash, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            return ChainBreak(
                chain,
                expected_seq,
                event.id,
                f"event #{expected_seq} is missing (found #{event.seq})",
            )
        if event.prev_hash != prev_hash:
            return ChainBreak(chain, event.seq, event.id, "does not link to the previous event")
        if event_hash(prev_hash, event.fields) != event.hash:
            return ChainBreak(chain, event.seq, event.id, "content does not match its hash")
        mark = pinned.pop(event.seq, None)
        if mark is not None and mark.hash != event.hash:
            return ChainBreak(
                chain,
                event.seq,
                event.id,
                f"differs from the head published{_when(mark)}: the chain was rewritten",
            )
        prev_hash, expected_seq = event.hash, expected_seq + 1
    if pinned:
        mark = pinned[min(pinned)]
        return ChainBreak(
            chain,
            mark.seq,
            None,
            f"event #{mark.seq} was published{_when(mark)} but the log ends at "
            f"#{expected_seq - 1}",
        )
    if head is not None and head != (expected_seq - 1, prev_hash):
        return ChainBreak(
            chain,
            expected_seq,
            None,
            f"the chain head says #{head[0]} but the log ends at #{expected_seq - 1}",
        )
    return None


def _when(mark: PublishedHead) -> str:
    return f" on {mark.published_at}" if mark.published_at else ""
