"""The audit chain per application (issue #16) and the regions' roots the worker seals.

An application's events chain on their own, their head on the application's row; a
region's root covers the heads that moved since its previous root. Tamper evidence holds
under this layout: an edit, a deletion and an insertion are each caught, and a rewrite with
every hash recomputed is caught by a root published before it.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text

from engine.context import EngineContext
from engine.domain.audit_chain import GENESIS, event_hash, hashed_fields
from engine.persistence.tables import ApplicationRecord, AuditRootRecord, EventRecord
from engine.services import applications, tasks, worker
from engine.services.audit import published_heads, verify_audit
from engine.services.audit_roots import seal_roots
from tests.factories import make_region, make_user, tiny_bpmn, upload

COLUMNS = ("id", "region_code", "application_id", "actor", "action", "subject", "at", "reason",
           "data", "chain", "seq", "prev_hash", "hash")


@pytest.fixture
def walked(ctx: EngineContext):
    """An application three steps long, two of them completed: five events in its chain."""
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="tiny", steps=3))
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "tiny", {"name": "Siti"}, {})
    for _ in range(2):
        (task,) = [t for t in app.tasks if t.state == "ready"]
        tasks.claim_task(ctx, officer, task.id)
        app = tasks.complete_task(ctx, officer, task.id, {"note": "ok"})
    return officer, app


def chain_rows(ctx: EngineContext, chain: str) -> list[dict]:
    with ctx.uow() as uow:
        rows = uow._session.scalars(
            select(EventRecord).where(EventRecord.chain == chain).order_by(EventRecord.seq)
        ).all()
        return [{c: getattr(r, c) for c in COLUMNS} for r in rows]


def tamper(ctx: EngineContext, sql: str, **params) -> list:
    with ctx.uow() as uow:
        uow._session.execute(text(sql), params)
        uow.commit()
    return verify_audit(ctx, "3273")


def test_an_applications_events_form_its_own_chain_headed_on_its_row(
    ctx: EngineContext, walked
) -> None:
    _, app = walked
    events = chain_rows(ctx, str(app.id))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert len(events) >= 5 and {e["application_id"] for e in events} == {app.id}
    assert events[0]["prev_hash"] == GENESIS
    with ctx.uow() as uow:
        record = uow._session.get(ApplicationRecord, app.id)
        assert (record.audit_seq, record.audit_hash) == (events[-1]["seq"], events[-1]["hash"])
        # No application event went to the region's chain.
        assert uow._session.scalars(select(EventRecord.id).where(
            EventRecord.chain == "3273", EventRecord.application_id.is_not(None))).all() == []
    assert verify_audit(ctx) == []


def test_an_edit_a_deletion_and_an_insertion_in_an_application_chain_are_each_caught(
    ctx: EngineContext, walked
) -> None:
    _, app = walked
    chain = str(app.id)
    events = chain_rows(ctx, chain)
    target = events[2]
    seq, event_id = target["seq"], target["id"]

    original = json.dumps(target["data"])
    broken = tamper(ctx, "UPDATE events SET data = :d WHERE id = :i",
                    d=json.dumps({"note": "changed"}), i=event_id)
    assert [(b.chain, b.seq, b.event_id) for b in broken] == [(chain, seq, event_id)]
    assert "content" in broken[0].reason
    assert tamper(ctx, "UPDATE events SET data = :d WHERE id = :i", d=original, i=event_id) == []

    broken = tamper(ctx, "DELETE FROM events WHERE id = :i", i=event_id)
    assert [(b.chain, b.seq) for b in broken] == [(chain, seq)] and "missing" in broken[0].reason
    with ctx.uow() as uow:  # put back exactly: intact again
        uow._session.add(EventRecord(**target))
        uow.commit()
    assert verify_audit(ctx, "3273") == []

    last = events[-1]
    broken = tamper(
        ctx,
        "INSERT INTO events (region_code, application_id, actor, action, subject, at, data, "
        "chain, seq, prev_hash, hash) VALUES ('3273', :app, 'x', 'fee.waived', 's', :at, '{}', "
        ":c, :seq, :p, :h)",
        app=app.id.hex if ctx.session_factory.kw["bind"].dialect.name == "sqlite" else app.id,
        at=last["at"], c=chain, seq=last["seq"] + 1, p=last["hash"], h="0" * 64,
    )
    assert [(b.chain, b.seq) for b in broken] == [(chain, last["seq"] + 1)]
    tamper(ctx, "DELETE FROM events WHERE chain = :c AND seq = :s", c=chain, s=last["seq"] + 1)
    # The last event deleted: the head on the application's row still names it.
    broken = tamper(ctx, "DELETE FROM events WHERE id = :i", i=last["id"])
    assert [b.chain for b in broken] == [chain] and "head says" in broken[0].reason


def test_a_rewrite_with_every_hash_recomputed_is_caught_by_a_published_root(
    ctx: EngineContext, walked
) -> None:
    _, app = walked
    assert worker.run_pass(ctx).roots_sealed == 1
    published = published_heads(ctx)
    roots = [p for p in published if p.chain == "root:3273"]
    assert [(r.seq, len(r.hash)) for r in roots] == [(1, 64)]
    assert verify_audit(ctx, published=published) == []
    forge(ctx, app.id)
    # Chains and their heads agree again: only a root can tell.
    assert [b.chain for b in verify_audit(ctx)] == ["root:3273"]
    (broken,) = verify_audit(ctx, "3273", published)
    assert broken.chain == "root:3273" and "differs from the one the root covers" in broken.reason
    with ctx.uow() as uow:  # ... and the forger rewrites the root too: the published one holds
        record = uow._session.get(AuditRootRecord, ("3273", 1))
        from engine.domain.audit_roots import Leaf, root_hash

        head = uow._session.get(ApplicationRecord, app.id)
        leaves = [Leaf(str(app.id), head.audit_seq, head.audit_hash)]
        record.leaves = [[x.chain, x.seq, x.hash] for x in leaves]
        record.root = root_hash("3273", 1, GENESIS, leaves)
        uow.commit()
    assert verify_audit(ctx) == []  # a consistent rewrite: invisible from inside
    (broken,) = verify_audit(ctx, published=published)
    assert (broken.chain, broken.seq) == ("root:3273", 1) and "rewritten" in broken.reason


def test_roots_chain_on_and_cover_only_what_moved(ctx: EngineContext, walked) -> None:
    officer, app = walked
    with ctx.uow() as uow:
        assert uow._session.get(ApplicationRecord, app.id).audit_pending
    assert seal_roots(ctx) == 1
    assert seal_roots(ctx) == 0  # nothing grew
    (task,) = [t for t in app.tasks if t.state == "ready"]
    tasks.complete_task(ctx, officer, task.id, {"note": "last"})
    with ctx.uow() as uow:
        assert uow._session.get(ApplicationRecord, app.id).audit_pending
    assert seal_roots(ctx) == 1
    with ctx.uow() as uow:
        first, second = uow._session.scalars(
            select(AuditRootRecord).order_by(AuditRootRecord.n)).all()
        record = uow._session.get(ApplicationRecord, app.id)
        assert second.prev_root == first.root
        assert second.leaves == [[str(app.id), record.audit_seq, record.audit_hash]]
        assert record.audit_rooted_seq == record.audit_seq and not record.audit_pending
    assert verify_audit(ctx) == []
    broken = tamper(ctx, "UPDATE audit_roots SET prev_root = :p WHERE n = 2", p="1" * 64)
    assert [(b.chain, b.seq) for b in broken] == [("root:3273", 2)]


def forge(ctx: EngineContext, app_id: uuid.UUID) -> None:
    """Edit the application's first completion and recompute every hash after it and the
    head on the application's row."""
    with ctx.uow() as uow:
        rows = uow._session.scalars(
            select(EventRecord).where(EventRecord.chain == str(app_id)).order_by(EventRecord.seq)
        ).all()
        prev, editing = GENESIS, False
        for row in rows:
            if row.action == "task.completed" and not editing:
                row.data, editing = {**row.data, "data": {"note": "forged"}}, True
            fields = hashed_fields(chain=row.chain, seq=row.seq, at=row.at, actor=row.actor,
                                   action=row.action, subject=row.subject, reason=row.reason,
                                   data=row.data, application_id=str(row.application_id))
            row.prev_hash, row.hash = prev, event_hash(prev, fields)
            prev = row.hash
        assert editing
        uow._session.execute(
            select(ApplicationRecord).where(ApplicationRecord.id == app_id)
        ).scalar_one().audit_hash = prev
        uow.commit()


def test_the_worker_leaves_a_step_whose_application_a_request_holds_to_the_next_pass(
    ctx: EngineContext, db_url: str
) -> None:
    """A breach advances its application's chain, so the worker takes the application's row
    too, without waiting: one held by a step in flight is skipped, never deadlocked on."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: there is no row lock to skip")
    from datetime import timedelta

    from sqlalchemy import create_engine

    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="tiny", steps=1, sla="P1D"))
    officer, _ = make_user(ctx, "front-office")
    busy, free = (applications.start_application(ctx, officer, "3273", "tiny", {}, {})
                  for _ in range(2))
    later = ctx.clock() + timedelta(days=30)
    engine = ctx.session_factory.kw["bind"]
    other = create_engine(engine.url)
    try:
        with other.connect() as conn:  # a request holding the busy application's row
            txn = conn.begin()
            conn.execute(text("SELECT id FROM applications WHERE id = :i FOR UPDATE"),
                         {"i": busy.id})
            report = worker.run_pass(ctx, later)
            assert report.steps_breached == 1
            txn.rollback()
    finally:
        other.dispose()
    assert worker.run_pass(ctx, later).steps_breached == 1  # the next pass takes it
    with ctx.uow() as uow:
        breached = uow._session.scalars(select(EventRecord.chain).where(
            EventRecord.action == "sla.breached", EventRecord.subject.like("task:%"))).all()
    assert sorted(breached) == sorted([str(free.id), str(busy.id)])
    assert verify_audit(ctx) == []
