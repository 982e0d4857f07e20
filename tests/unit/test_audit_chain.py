"""The chain check against heads published outside the database."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.domain.audit_chain import (
    GENESIS,
    PublishedHead,
    StoredEvent,
    event_hash,
    hashed_fields,
    verify_chain,
)


def chain(actions: list[str], name: str = "3273") -> list[StoredEvent]:
    events, prev = [], GENESIS
    for seq, action in enumerate(actions, 1):
        fields = hashed_fields(chain=name, seq=seq, at=datetime(2026, 3, 2, tzinfo=UTC),
                               actor="user:1:siti", action=action, subject="application:x",
                               application_id=None, reason=None, data={})
        digest = event_hash(prev, fields)
        events.append(StoredEvent(seq, seq, prev, digest, fields))
        prev = digest
    return events


def test_published_heads_that_are_still_in_the_chain_verify() -> None:
    events = chain(["a", "b", "c"])
    published = [PublishedHead("3273", 2, events[1].hash, "2026-03-02"),
                 PublishedHead("3510", 9, "f" * 64)]  # another chain's: not this one's concern
    assert verify_chain("3273", events, (3, events[2].hash), published) is None


def test_a_chain_rewritten_with_every_hash_recomputed_verifies_only_without_its_published_head(
) -> None:
    honest = chain(["a", "fee.paid", "c"])
    published = [PublishedHead("3273", 3, honest[2].hash, "2026-03-02")]
    forged = chain(["a", "fee.waived", "c"])  # consistent: every link and the head recomputed
    assert verify_chain("3273", forged, (3, forged[2].hash)) is None
    found = verify_chain("3273", forged, (3, forged[2].hash), published)
    assert found is not None and found.seq == 3
    assert "published on 2026-03-02" in found.reason and "rewritten" in found.reason


def test_a_chain_cut_below_its_published_head_is_reported() -> None:
    honest = chain(["a", "b", "c"])
    published = [PublishedHead("3273", 3, honest[2].hash)]
    found = verify_chain("3273", honest[:2], (2, honest[1].hash), published)
    assert found is not None and found.seq == 3 and "log ends at #2" in found.reason
    found = verify_chain("3273", [], None, published)
    assert found is not None and "log ends at #0" in found.reason
