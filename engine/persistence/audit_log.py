"""Appending events to the hash chains, at commit time.

A use case queues its events; the unit of work appends them just before it commits:
lock each chain's head (in a fixed order, so two transactions never deadlock), give
the events their sequence numbers and hashes, insert them, commit. A region's chain
is therefore locked for a few statements, not for the whole use case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.domain.audit_chain import GENESIS, chain_of, event_hash, hashed_fields
from engine.persistence.tables import ChainHeadRecord, EventRecord


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event of the current transaction, not yet placed in its chain."""

    region_code: str | None
    application_id: Any
    actor: str
    action: str
    subject: str
    at: datetime
    reason: str | None
    data: dict[str, Any]


def append_events(session: Session, pending: Sequence[PendingEvent]) -> None:
    """Place `pending` (in order) at the ends of their chains, inside the open transaction.

    Plain SQL statements, not ORM objects: events are written once and never changed, so
    the unit of work has nothing to track; a chain costs a locked read of its head, one
    (multi-row) insert and one update, whatever the number of events.
    """
    if not pending:
        return
    conn = session.connection()
    for chain in sorted({chain_of(e.region_code) for e in pending}):
        seq, head = _locked_head(session, chain)
        rows = []
        for event in (e for e in pending if chain_of(e.region_code) == chain):
            seq += 1
            fields = hashed_fields(
                chain=chain,
                seq=seq,
                at=event.at,
                actor=event.actor,
                action=event.action,
                subject=event.subject,
                reason=event.reason,
                data=event.data,
                application_id=str(event.application_id) if event.application_id else None,
            )
            digest = event_hash(head, fields)
            rows.append(
                {
                    "region_code": event.region_code,
                    "application_id": event.application_id,
                    "actor": event.actor,
                    "action": event.action,
                    "subject": event.subject,
                    "at": event.at,
                    "reason": event.reason,
                    "data": event.data,
                    "chain": chain,
                    "seq": seq,
                    "prev_hash": head,
                    "hash": digest,
                }
            )
            head = digest
        # Two cached statements. (A data-modifying CTE would save PostgreSQL one round
        # trip, but SQLAlchemy cannot cache such a statement: compiling it costs more.)
        conn.execute(insert(_EVENTS), rows)
        conn.execute(update(_HEADS).where(_HEADS.c.chain == chain).values(seq=seq, hash=head))


_EVENTS: Table = EventRecord.__table__  # type: ignore[assignment]
_HEADS: Table = ChainHeadRecord.__table__  # type: ignore[assignment]
_HEAD_LOCKED = (
    select(_HEADS.c.seq, _HEADS.c.hash)
    .where(_HEADS.c.chain == bindparam("chain"))
    .with_for_update()
)


def _locked_head(session: Session, chain: str) -> tuple[int, str]:
    """The chain's head (sequence number and hash), its row locked until commit."""
    conn = session.connection()
    row = conn.execute(_HEAD_LOCKED, {"chain": chain}).first()
    if row is None:
        try:
            with session.begin_nested():  # a savepoint: losing the race rolls back only this
                conn.execute(insert(_HEADS).values(chain=chain, seq=0, hash=GENESIS))
        except IntegrityError:  # another transaction created it first
            pass
        row = conn.execute(_HEAD_LOCKED, {"chain": chain}).one()
    return row.seq, row.hash
