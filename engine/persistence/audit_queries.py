"""Reads of the audit chains for verification and publication, and the roots the worker
seals (the events themselves are written by `audit_log`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, select, text, tuple_, update

from engine.persistence.base import BaseRepository
from engine.persistence.tables import (
    ApplicationRecord,
    AuditRootRecord,
    ChainHeadRecord,
    EventRecord,
)

_APPS: Table = ApplicationRecord.__table__  # type: ignore[assignment]
_MARK_ROOTED_PG = text(
    "UPDATE applications AS a SET audit_rooted_seq = v.seq, audit_pending = a.audit_seq > v.seq "
    "FROM unnest(CAST(:apps AS uuid[]), CAST(:seqs AS bigint[])) AS v(app, seq) "
    "WHERE a.id = v.app"
)
# The bare column, as the partial index `ix_applications_audit_pending` states it: PostgreSQL
# does not match `audit_pending IS true` to that index and read the region's whole heap
# (204 ms a region at 1M open tasks, 25 regions a worker pass; 0.5 ms through the index).
_PENDING = ApplicationRecord.audit_pending


class AuditRepository(BaseRepository):
    def heads(self) -> Sequence[ChainHeadRecord]:
        """Every region chain's head, by chain name."""
        return self.session.scalars(select(ChainHeadRecord).order_by(ChainHeadRecord.chain)).all()

    def head(self, chain: str) -> ChainHeadRecord | None:
        return self.session.get(ChainHeadRecord, chain)

    def chains(self) -> set[str]:
        """Every chain that has an event (a chain may lose its head row to tampering)."""
        return set(self.session.scalars(select(EventRecord.chain).distinct()))

    def application_heads(self) -> dict[str, tuple[int, str, str]]:
        """(seq, hash, region) of every application chain with an event, by chain name."""
        rows = self.session.execute(
            select(
                ApplicationRecord.id,
                ApplicationRecord.audit_seq,
                ApplicationRecord.audit_hash,
                ApplicationRecord.region_code,
            ).where(ApplicationRecord.audit_seq > 0)
        )
        return {str(r.id): (r.audit_seq, r.audit_hash, r.region_code) for r in rows}

    def events_after(self, chain: str, after_seq: int, limit: int) -> Sequence[EventRecord]:
        """Up to `limit` events of `chain` with seq above `after_seq`, in seq order (keyset)."""
        return self.session.scalars(
            select(EventRecord)
            .where(EventRecord.chain == chain, EventRecord.seq > after_seq)
            .order_by(EventRecord.seq)
            .limit(limit)
        ).all()

    def hashes_at(self, places: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """The hash of the event at each (chain, seq) that exists."""
        wanted = list(places)
        found: dict[tuple[str, int], str] = {}
        for i in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(EventRecord.chain, EventRecord.seq, EventRecord.hash).where(
                    tuple_(EventRecord.chain, EventRecord.seq).in_(wanted[i : i + 500])
                )
            )
            found.update({(r.chain, r.seq): r.hash for r in rows})
        return found

    def forget_loaded(self) -> None:
        """Drop the records read so far from the session (long walks stay flat in memory)."""
        self.session.expunge_all()

    # The regions' roots (engine/domain/audit_roots.py)

    def regions_with_unrooted(self) -> set[str]:
        """Regions with an application whose chain grew since the region's last root."""
        return set(
            self.session.scalars(
                select(ApplicationRecord.region_code)
                .where(_PENDING)
                .distinct()
            )
        )

    def unrooted_heads(self, region_code: str, limit: int) -> list[tuple[str, int, str]]:
        """(chain, seq, hash) of up to `limit` application chains of the region that grew
        since its last root (through the partial index), skipping rows other transactions
        hold."""
        rows = self.session.execute(
            select(ApplicationRecord.id, ApplicationRecord.audit_seq, ApplicationRecord.audit_hash)
            .where(
                ApplicationRecord.region_code == region_code,
                _PENDING,
            )
            .limit(limit)  # no ORDER BY: the leaves are sorted when the root is made
            # Locked until the root commits; one a step in flight holds waits for the next root.
            .with_for_update(skip_locked=True)
        )
        return [(str(r.id), r.audit_seq, r.audit_hash) for r in rows]

    def mark_rooted(self, rooted: Sequence[tuple[Any, int]]) -> None:
        """Record that the root covers each (application id, seq). A plain UPDATE of one
        column: the row version is not bumped, so no step in flight is refused for it."""
        conn = self.session.connection()
        if conn.dialect.name == "postgresql" and len(rooted) > 1:  # one statement, not N
            conn.execute(_MARK_ROOTED_PG, {"apps": [a for a, _ in rooted],
                                           "seqs": [seq for _, seq in rooted]})
        elif rooted:
            conn.execute(
                update(_APPS)
                .where(_APPS.c.id == bindparam("app"))
                .values(
                    audit_rooted_seq=bindparam("seq"),
                    # still pending when a step moved the head since it was read
                    audit_pending=_APPS.c.audit_seq > bindparam("seq"),
                ),
                [{"app": app, "seq": seq} for app, seq in rooted],
            )

    def last_root(self, region_chain: str, *, lock: bool = True) -> AuditRootRecord | None:
        """The region's newest root, locked by default (one sealer per region at a time)."""
        query = (
            select(AuditRootRecord)
            .where(AuditRootRecord.region_chain == region_chain)
            .order_by(AuditRootRecord.n.desc())
            .limit(1)
        )
        return self.session.scalars(query.with_for_update() if lock else query).first()

    def add_root(self, root: AuditRootRecord) -> None:
        self.session.add(root)

    def roots_after(self, region_chain: str, after_n: int, limit: int) -> Sequence[AuditRootRecord]:
        return self.session.scalars(
            select(AuditRootRecord)
            .where(AuditRootRecord.region_chain == region_chain, AuditRootRecord.n > after_n)
            .order_by(AuditRootRecord.n)
            .limit(limit)
        ).all()

    def root_regions(self) -> set[str]:
        return set(self.session.scalars(select(AuditRootRecord.region_chain).distinct()))

