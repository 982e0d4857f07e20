"""Sealing and checking the regions' audit roots (engine/domain/audit_roots.py).

The worker seals, for each region whose chains grew, one root over the heads of those
chains, linked to the region's previous root. `audit heads` publishes the newest root of
each region beside the region chains' heads; `audit verify` recomputes every root and
checks each of its leaves against the events.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from engine.context import EngineContext
from engine.domain.audit_chain import GENESIS, ChainBreak, PublishedHead
from engine.domain.audit_roots import (
    Leaf,
    StoredRoot,
    is_root_chain,
    root_chain,
    root_hash,
    root_problem,
)
from engine.domain.errors import AlreadyExistsError, ConcurrentUpdateError
from engine.persistence.tables import AuditRootRecord
from engine.unit_of_work import UnitOfWork

log = logging.getLogger("permitflow.audit")

# Leaves per root: a region with more grown chains than this seals several roots in a pass.
ROOT_LEAVES = 5000


def seal_roots(ctx: EngineContext, now: datetime | None = None) -> int:
    """Seal a root for every region whose chains grew since its last one; how many sealed.

    One transaction per root. Two workers sealing the same region at once: the second
    waits on the first's lock, or loses the insert and leaves it to the next pass.
    """
    now = now or ctx.clock()
    with ctx.reader() as uow:
        regions = uow.repos.audit.regions_with_unrooted()
        regions |= {h.chain for h in uow.repos.audit.heads()}
    sealed = 0
    for region in sorted(regions):
        while True:
            try:
                with ctx.uow() as uow:
                    full = _seal(uow, region, now)
                    if full is None:
                        break
                    uow.commit()
                    sealed += 1
            except (ConcurrentUpdateError, AlreadyExistsError):
                log.info("audit root of %s sealed by another worker; next pass", region)
                break
            if not full:
                break
    return sealed


def _seal(uow: UnitOfWork, region: str, now: datetime) -> bool | None:
    """Seal one root of `region` in `uow`: None when nothing grew, else whether more is left."""
    audit = uow.repos.audit
    last = audit.last_root(region)
    n, prev, chain_seq = (last.n, last.root, last.chain_seq) if last else (0, GENESIS, 0)
    grown = audit.unrooted_heads(region, ROOT_LEAVES)
    leaves = [Leaf(chain, seq, digest) for chain, seq, digest in grown]
    head = audit.head(region)
    if head is not None and head.seq != chain_seq:
        leaves.append(Leaf(region, head.seq, head.hash))
        chain_seq = head.seq
    if not leaves:
        return None
    leaves.sort()
    audit.add_root(
        AuditRootRecord(
            region_chain=region,
            n=n + 1,
            prev_root=prev,
            root=root_hash(region, n + 1, prev, leaves),
            chain_seq=chain_seq,
            leaves=[[leaf.chain, leaf.seq, leaf.hash] for leaf in leaves],
            sealed_at=now,
        )
    )
    audit.mark_rooted([(uuid.UUID(chain), seq) for chain, seq, _ in grown])
    uow.flush()  # AlreadyExistsError: another worker sealed root n + 1 first
    return len(grown) == ROOT_LEAVES


def newest_roots(uow: UnitOfWork, at: str) -> list[PublishedHead]:
    """Each region's newest root, as a published head named `root:<region>`."""
    found = []
    for region in sorted(uow.repos.audit.root_regions()):
        last = uow.repos.audit.last_root(region, lock=False)
        if last is not None:
            found.append(PublishedHead(root_chain(region), last.n, last.root, at))
    return found


def verify_roots(
    uow: UnitOfWork, region: str | None, published: list[PublishedHead]
) -> list[ChainBreak]:
    """Every region's roots: linked, matching their leaves, each leaf still the event at
    its place; and each published root still stored as published."""
    breaks = []
    pinned = [p for p in published if is_root_chain(p.chain)]
    regions = uow.repos.audit.root_regions() | {p.chain[len("root:") :] for p in pinned}
    for name in sorted(regions):
        if region is not None and name != region:
            continue
        found = _verify_region(uow, name, [p for p in pinned if p.chain == root_chain(name)])
        if found is not None:
            breaks.append(found)
    return breaks


def _verify_region(
    uow: UnitOfWork, region: str, pinned: list[PublishedHead]
) -> ChainBreak | None:
    chain = root_chain(region)
    marks = {p.seq: p for p in pinned}
    prev, after = GENESIS, 0
    while page := uow.repos.audit.roots_after(region, after, 200):
        for record in page:
            if record.n != after + 1:
                return ChainBreak(chain, after + 1, None, f"root #{after + 1} is missing")
            root = _stored(record)
            problem = root_problem(root, prev) or _leaf_problem(uow, root)
            mark = marks.pop(root.n, None)
            if problem is None and mark is not None and mark.hash != root.root:
                problem = f"root #{root.n} differs from the one published: rewritten"
            if problem is not None:
                return ChainBreak(chain, root.n, None, problem)
            prev, after = root.root, root.n
        uow.repos.audit.forget_loaded()
    if marks:
        n = min(marks)
        return ChainBreak(chain, n, None, f"root #{n} was published but the roots end at #{after}")
    return None


def _stored(record: AuditRootRecord) -> StoredRoot:
    leaves = tuple(Leaf(str(c), int(s), str(h)) for c, s, h in record.leaves)
    return StoredRoot(record.region_chain, record.n, record.prev_root, record.root, leaves)


def _leaf_problem(uow: UnitOfWork, root: StoredRoot) -> str | None:
    found = uow.repos.audit.hashes_at((leaf.chain, leaf.seq) for leaf in root.leaves)
    for leaf in root.leaves:
        if found.get((leaf.chain, leaf.seq)) != leaf.hash:
            return (
                f"root #{root.n}: event #{leaf.seq} of chain {leaf.chain} is missing or "
                "differs from the one the root covers"
            )
    return None
