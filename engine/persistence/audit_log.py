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

from sqlalchemy import select
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
    """Place `pending` (in order) at the ends of their chains, inside the open transaction."""
    for chain in sorted({chain_of(e.region_code) for e in pending}):
        head = _locked_head(session, chain)
        for event in (e for e in pending if chain_of(e.region_code) == chain):
            seq = head.seq + 1
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
            digest = event_hash(head.hash, fields)
            session.add(
                EventRecord(
                    region_code=event.region_code,
                    application_id=event.application_id,
                    actor=event.actor,
                    action=event.action,
                    subject=event.subject,
                    at=event.at,
                    reason=event.reason,
                    data=event.data,
                    chain=chain,
                    seq=seq,
                    prev_hash=head.hash,
                    hash=digest,
                )
            )
            head.seq, head.hash = seq, digest


def _locked_head(session: Session, chain: str) -> ChainHeadRecord:
    """The chain's head row, locked until commit."""
    query = select(ChainHeadRecord).where(ChainHeadRecord.chain == chain).with_for_update()
    head = session.scalars(query).first()
    if head is None:
        try:
            with session.begin_nested():
                session.add(ChainHeadRecord(chain=chain, seq=0, hash=GENESIS))
        except IntegrityError:  # another transaction created it first
            pass
        head = session.scalars(query.execution_options(populate_existing=True)).one()
    return head
