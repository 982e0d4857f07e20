"""A region's audit root: one Merkle root over the chain heads that moved since the last.

Since migration 0014 an application's events form their own chain (the application's row
lock orders them; its head is kept on the application's row), so a step appends without
touching a region-wide row. A region still needs one figure to publish: the worker seals,
now and then, a *root* over every chain of the region that grew since the previous root
(each leaf is a chain's head: chain, seq, hash), linked to that previous root. A published
root pins every event at or before each of its leaves: rewriting one, even with every hash
after it recomputed, changes that chain's head and so the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.domain.audit_chain import GENESIS

ROOT_PREFIX = "root:"


def root_chain(region_chain: str) -> str:
    """The name a region's roots are published under (`root:3273`)."""
    return ROOT_PREFIX + region_chain


def is_root_chain(name: str) -> bool:
    return name.startswith(ROOT_PREFIX)


@dataclass(frozen=True, slots=True, order=True)
class Leaf:
    """A chain's head as a root covers it."""

    chain: str
    seq: int
    hash: str


def _leaf_hash(leaf: Leaf) -> bytes:
    return hashlib.sha256(f"leaf\n{leaf.chain}\n{leaf.seq}\n{leaf.hash}".encode()).digest()


def merkle(leaves: Iterable[Leaf]) -> str:
    """The Merkle root (SHA-256, an odd node paired with itself) of `leaves` in chain order."""
    level = [_leaf_hash(leaf) for leaf in sorted(leaves)]
    if not level:
        return GENESIS
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()


def root_hash(region_chain: str, n: int, prev_root: str, leaves: Sequence[Leaf]) -> str:
    """Root number `n` of a region: its leaves' Merkle root, linked to the previous root."""
    text = f"root\n{region_chain}\n{n}\n{prev_root}\n{merkle(leaves)}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredRoot:
    region_chain: str
    n: int
    prev_root: str
    root: str
    leaves: tuple[Leaf, ...]


def root_problem(root: StoredRoot, prev_root: str) -> str | None:
    """Why a stored root does not verify on its own (its leaves are checked against the
    events separately), or None."""
    if root.prev_root != prev_root:
        return f"root #{root.n} does not link to the previous root"
    if root_hash(root.region_chain, root.n, root.prev_root, root.leaves) != root.root:
        return f"root #{root.n} does not match its leaves"
    return None
