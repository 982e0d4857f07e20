"""Reads of the audit chains for verification and publication (writes: `audit_log`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from engine.persistence.base import BaseRepository
from engine.persistence.tables import ChainHeadRecord, EventRecord


class AuditRepository(BaseRepository):
    def heads(self) -> Sequence[ChainHeadRecord]:
        """Every chain's head, by chain name."""
        return self.session.scalars(select(ChainHeadRecord).order_by(ChainHeadRecord.chain)).all()

    def chains(self) -> set[str]:
        """Every chain that has an event (a chain may lose its head row to tampering)."""
        return set(self.session.scalars(select(EventRecord.chain).distinct()))

    def events_after(self, chain: str, after_seq: int, limit: int) -> Sequence[EventRecord]:
        """Up to `limit` events of `chain` with seq above `after_seq`, in seq order (keyset)."""
        return self.session.scalars(
            select(EventRecord)
            .where(EventRecord.chain == chain, EventRecord.seq > after_seq)
            .order_by(EventRecord.seq)
            .limit(limit)
        ).all()

    def forget_loaded(self) -> None:
        """Drop the records read so far from the session (long walks stay flat in memory)."""
        self.session.expunge_all()
