"""Appending events to the hash chains, at commit time.

A use case queues its events; the unit of work chains them at commit. An application's
events go to the application's own chain (engine/domain/audit_chain.py): when the use case
holds the application's record (a step locks it first thing), its head moves with that
record's UPDATE and the events cost one INSERT. Otherwise the application's row is locked
and its head advanced here; events of no application go to their region's chain (lock its
head, insert, advance). No step waits on a region-wide row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine.domain.audit_chain import (
    GENESIS,
    application_chain,
    chain_of,
    event_hash,
    hashed_fields,
)
from engine.persistence.tables import ApplicationRecord, ChainHeadRecord, EventRecord


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


def place_application_events(
    session: Session, pending: Sequence[PendingEvent]
) -> tuple[list[dict[str, Any]], list[PendingEvent]]:
    """Chain the events of applications whose record the transaction holds; before a flush.

    Each application's events go to its own chain, whose head is on the application's row:
    the head moves with the flush's own UPDATE of that row (version-checked: a concurrent
    step fails with 409), so the events cost one INSERT at commit and no lock beyond the
    row's. Returns the rows to insert at commit, and the events left (of applications the
    transaction does not hold, and of none).
    """
    rows: list[dict[str, Any]] = []
    placed: set[Any] = set()
    by_app = _by_application(pending)
    for app_id in by_app:
        record = _held_application(session, app_id)
        if record is None:
            continue
        seq, head = record.audit_seq or 0, record.audit_hash or GENESIS
        seq, head = _chained(application_chain(app_id), seq, head, by_app[app_id], rows)
        record.audit_seq, record.audit_hash, record.audit_pending = seq, head, True
        placed.add(app_id)
    return rows, [e for e in pending if e.application_id not in placed or e.application_id is None]


def append_events(
    session: Session, pending: Sequence[PendingEvent], placed: Sequence[dict[str, Any]] = ()
) -> None:
    """Place `pending` (in order) at the ends of their chains, inside the open transaction.

    `placed`: the rows `place_application_events` chained already (at the flushes), whose
    events are not in `pending`. Of `pending`: an application not held by the transaction
    has its row's head read locked and advanced; events of no application go to their
    region's chain, whose head row is locked (in a fixed order, so two transactions never
    deadlock) and advanced. Plain SQL statements, not ORM objects: events are written once
    and never changed.
    """
    if not pending and not placed:
        return
    conn = session.connection()
    rows = list(placed)
    others = _by_application(pending)
    if others:  # one locked read and one (many-row) update, whatever their number
        found = {r.id: r for r in conn.execute(_APP_HEADS_LOCKED, {"ids": sorted(others)})}
        moved = []
        for app_id in others:
            if app_id not in found:
                raise LookupError(f"audit event for an unknown application {app_id}")
            seq, head = _chained(
                application_chain(app_id), found[app_id].audit_seq, found[app_id].audit_hash,
                others[app_id], rows,
            )
            moved.append({"app": app_id, "seq": seq, "head": head})
        _advance_app_heads(conn, moved)
    loose = [e for e in pending if e.application_id is None]
    for chain in sorted({chain_of(e.region_code) for e in loose}):
        seq, head = _locked_head(session, chain)
        events = [e for e in loose if chain_of(e.region_code) == chain]
        seq, head = _chained(chain, seq, head, events, rows)
        conn.execute(update(_HEADS).where(_HEADS.c.chain == chain).values(seq=seq, hash=head))
    if rows:
        conn.execute(_INSERT_EVENTS, rows)


def _by_application(pending: Sequence[PendingEvent]) -> dict[Any, list[PendingEvent]]:
    """The events of each application, in the order queued (one pass: a worker's batch
    holds a thousand events of hundreds of applications)."""
    grouped: dict[Any, list[PendingEvent]] = {}
    for event in pending:
        if event.application_id is not None:
            grouped.setdefault(event.application_id, []).append(event)
    return grouped


def _held_application(session: Session, app_id: Any) -> ApplicationRecord | None:
    """The application's record if this transaction holds it (loaded or new), else None."""
    held = session.identity_map.get(identity_key(ApplicationRecord, app_id))
    if isinstance(held, ApplicationRecord):
        return held
    return next(
        (o for o in session.new if isinstance(o, ApplicationRecord) and o.id == app_id), None
    )


def _chained(
    chain: str, seq: int, head: str, events: Sequence[PendingEvent], rows: list[dict[str, Any]]
) -> tuple[int, str]:
    """Append `events` to `chain` after (seq, head) as rows; the new (seq, head)."""
    for event in events:
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
    return seq, head


_EVENTS: Table = EventRecord.__table__  # type: ignore[assignment]
EVENTS = _EVENTS  # the rows `place_application_events` returns go into this table
_HEADS: Table = ChainHeadRecord.__table__  # type: ignore[assignment]
_APPS: Table = ApplicationRecord.__table__  # type: ignore[assignment]
# Inline: nothing reads an event's generated id back, so PostgreSQL is not asked for it
# (`RETURNING id`, which a one-row INSERT otherwise carries).
_INSERT_EVENTS = insert(_EVENTS).inline()
_APP_HEADS_LOCKED = (
    select(_APPS.c.id, _APPS.c.audit_seq, _APPS.c.audit_hash)
    .where(_APPS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_APPS.c.id)  # a fixed order: two transactions never deadlock on these
    .with_for_update()
)
# The row version is left alone: a step holding a stale copy is not refused for this.
_ADVANCE_APP_HEAD = (
    update(_APPS)
    .where(_APPS.c.id == bindparam("app"))
    .values(audit_seq=bindparam("seq"), audit_hash=bindparam("head"), audit_pending=True)
)
# PostgreSQL: every head of a batch in one statement (a worker pass moves hundreds).
_ADVANCE_APP_HEADS_PG = text(
    "UPDATE applications AS a SET audit_seq = v.seq, audit_hash = v.head, audit_pending = true "
    "FROM unnest(CAST(:apps AS uuid[]), CAST(:seqs AS bigint[]), CAST(:heads AS varchar[])) "
    "AS v(app, seq, head) WHERE a.id = v.app"
)


def _advance_app_heads(conn: Connection, moved: list[dict[str, Any]]) -> None:
    """Move the heads of applications whose rows this transaction locked."""
    if conn.dialect.name != "postgresql" or len(moved) < 2:
        conn.execute(_ADVANCE_APP_HEAD, moved)
        return
    conn.execute(
        _ADVANCE_APP_HEADS_PG,
        {
            "apps": [m["app"] for m in moved],
            "seqs": [m["seq"] for m in moved],
            "heads": [m["head"] for m in moved],
        },
    )


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
