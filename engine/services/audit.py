"""Appending audit events, always inside the use case's own transaction, and verifying them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from engine.context import EngineContext
from engine.domain import correlation
from engine.domain.actors import Actor
from engine.domain.audit_chain import (
    GENESIS,
    ChainBreak,
    PublishedHead,
    StoredEvent,
    chain_of,
    hashed_fields,
    is_application_chain,
    verify_chain,
)
from engine.domain.audit_roots import is_root_chain
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.domain.views import EventView
from engine.persistence.audit_log import PendingEvent
from engine.persistence.tables import EventRecord
from engine.services.audit_roots import newest_roots, verify_roots
from engine.unit_of_work import UnitOfWork


def record_event(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    subject: str,
    at: datetime,
    region_code: str | None,
    application_id: uuid.UUID | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue one event (actor, action, subject, time, reason, before/after data); the unit
    of work chains and writes it in the same transaction, at commit."""
    uow.queue_event(
        PendingEvent(
            region_code=region_code,
            application_id=application_id,
            actor=actor.label,
            action=action,
            subject=subject,
            at=at,
            reason=reason,
            data=_jsonable(_with_request_id(data or {})),
        )
    )


def _with_request_id(data: dict[str, Any]) -> dict[str, Any]:
    """The event's data, naming the HTTP request that caused it (when one did)."""
    rid = correlation.request_id.get()
    return {**data, "request_id": rid} if rid and "request_id" not in data else data


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the JSON column will give back, so the hash verifies after a round trip."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def verify_audit(
    ctx: EngineContext, region: str | None = None, published: Iterable[PublishedHead] = ()
) -> list[ChainBreak]:
    """Walk every chain (or one region's) and report the first break of each broken one;
    then the regions' roots (`audit_roots`).

    Region chains end at their head row; an application's chain at the head on the
    application's row (none there: it must be empty). `published`: heads published
    earlier (`published_heads`), chains' and roots'; each must still be there, which
    catches a chain rewritten with every hash recomputed.
    """
    published = list(published)
    breaks = []
    with ctx.snapshot() as uow:  # heads and events of one moment, while chains grow
        heads = {h.chain: (h.seq, h.hash) for h in uow.repos.audit.heads()}
        apps = uow.repos.audit.application_heads()
        chains = set(heads) | set(apps) | uow.repos.audit.chains()
        chains |= {p.chain for p in published if not is_root_chain(p.chain)}
        for chain in sorted(chains):
            if region is not None and not _of_region(chain, region, apps):
                continue
            head = heads.get(chain)
            if is_application_chain(chain):
                seq, digest, _ = apps.get(chain, (0, GENESIS, None))
                head = (seq, digest)
            found = verify_chain(chain, _stored(uow, chain), head, published)
            if found is not None:
                breaks.append(found)
        breaks += verify_roots(uow, None if region is None else chain_of(region), published)
    return breaks


def _of_region(chain: str, region: str, apps: dict[str, tuple[int, str, str]]) -> bool:
    """Whether `chain` is one of `region`'s (an application chain nobody's head names,
    left by tampering, is checked with every region)."""
    if is_application_chain(chain):
        return chain not in apps or apps[chain][2] == region
    return chain == chain_of(region)


def published_heads(ctx: EngineContext) -> list[PublishedHead]:
    """Every region chain's head and every region's newest root now, to be published
    outside the database (public: hashes and counts only, no content)."""
    at = ctx.clock().astimezone(UTC).isoformat(timespec="seconds")
    with ctx.reader() as uow:
        heads = [PublishedHead(h.chain, h.seq, h.hash, at) for h in uow.repos.audit.heads()]
        return heads + newest_roots(uow, at)


def read_published(text: str) -> list[PublishedHead]:
    """Published heads from JSON lines as `permitflow audit heads` writes them.

    Raises: InvalidInputError naming every bad line.
    """
    heads, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            head = PublishedHead(
                str(item["chain"]), int(item["seq"]), str(item["hash"]),
                str(item.get("published_at", "")),
            )
            if head.seq < 0 or len(head.hash) != 64:
                raise ValueError("seq must be ≥ 0 and hash 64 hex digits")
            heads.append(head)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(Problem(f"not a published head: {exc}", line=number))
    if problems:
        raise InvalidInputError("the published heads cannot be read", problems)
    return heads


def _stored(uow: UnitOfWork, chain: str, page: int = 1000) -> Iterator[StoredEvent]:
    """The chain's events in seq order, read a page at a time (keyset, no open cursor)."""
    after = -1
    while True:
        rows = uow.repos.audit.events_after(chain, after, page)
        yield from (_as_stored(e) for e in rows)
        if len(rows) < page:
            return
        after = rows[-1].seq
        uow.repos.audit.forget_loaded()


def _as_stored(e: EventRecord) -> StoredEvent:
    fields = hashed_fields(
        chain=e.chain,
        seq=e.seq,
        at=e.at,
        actor=e.actor,
        action=e.action,
        subject=e.subject,
        reason=e.reason,
        data=e.data,
        application_id=str(e.application_id) if e.application_id else None,
    )
    return StoredEvent(e.id, e.seq, e.prev_hash, e.hash, fields)


def application_events(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID
) -> list[EventView]:
    """An application's audit events in order, with their chain position and hashes.

    Raises: NotFoundError.
    """
    from engine.services.access import visible_application
    from engine.services.presenters import event_view

    with ctx.reader() as uow:
        visible_application(uow, actor, application_id)
        return [event_view(e) for e in uow.repos.events.for_application(application_id)]
