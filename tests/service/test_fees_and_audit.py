"""Fees: exact payments, receipts, refusals; the hash-chained audit log; public tracking."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.audit_chain import GENESIS, PublishedHead, event_hash, hashed_fields
from engine.persistence.tables import EventRecord
from engine.services import applications, audit, payments, tasks, tracking
from engine.services.audit import published_heads, read_published, verify_audit
from tests.factories import make_region, make_user, tiny_bpmn, upload

FEE = 2_700_000


@pytest.fixture
def paying_app(ctx: EngineContext):
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="pbg", steps=2, fee=str(FEE)))
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(
        ctx,
        officer,
        "3273",
        "pbg",
        {"name": "Siti Aminah", "nik": "3273014501900002", "address": "Jl. Braga 1"},
        {},
    )
    return officer, app


def fee_item(ctx, officer, app):
    return payments.fee_items(ctx, officer, app.id)[0]


def test_a_step_with_a_fee_cannot_be_completed_until_paid_exactly(
    ctx: EngineContext, paying_app
) -> None:
    officer, app = paying_app
    item = fee_item(ctx, officer, app)
    assert item["amount"] == FEE and item["status"] == "open"
    assert [f["fee_item"] for f in app.fees] == [item["fee_item"]]  # the start answer shows it
    with pytest.raises(errors.FeeUnpaidError):
        tasks.complete_task(ctx, officer, app.tasks[0].id, {})
    for wrong in (FEE + 1, FEE - 1, float(FEE), -FEE, 0, True, str(FEE)):
        with pytest.raises(errors.InvalidInputError):
            payments.record_payment(ctx, officer, app.id, item["fee_item"], wrong, "BJB-0001")
    receipt = payments.record_payment(
        ctx, officer, app.id, item["fee_item"], FEE, "BJB-0001", "qris"
    )
    assert receipt["status"] == "paid" and receipt["receipt_no"].startswith("3273/")
    with pytest.raises(errors.ConflictError):  # the item is closed now
        payments.record_payment(ctx, officer, app.id, item["fee_item"], FEE, "BJB-0002")
    tasks.complete_task(ctx, officer, app.tasks[0].id, {})
    second = next(i for i in payments.fee_items(ctx, officer, app.id) if i["status"] == "open")
    with pytest.raises(errors.AlreadyExistsError):  # a reference is used once, ever
        payments.record_payment(ctx, officer, app.id, second["fee_item"], FEE, "BJB-0001")
    with pytest.raises(errors.NotFoundError):
        payments.record_payment(ctx, officer, app.id, uuid.uuid4(), FEE, "BJB-0003")


def test_cancelling_keeps_fee_items_marked_with_the_reason(ctx: EngineContext, paying_app) -> None:
    officer, app = paying_app
    supervisor, _ = make_user(ctx, "supervisor")
    with pytest.raises(errors.PermissionDeniedError):
        applications.cancel_application(ctx, officer, app.id, "ditarik pemohon")
    cancelled = applications.cancel_application(ctx, supervisor, app.id, "ditarik pemohon")
    assert cancelled.status == "cancelled" and cancelled.cancelled_reason == "ditarik pemohon"
    item = fee_item(ctx, officer, app)
    assert item["status"] == "cancelled" and item["cancelled_reason"] == "ditarik pemohon"


def test_the_audit_chain_detects_edits_deletions_and_insertions(
    ctx: EngineContext, paying_app
) -> None:
    officer, app = paying_app
    item = fee_item(ctx, officer, app)
    payments.record_payment(ctx, officer, app.id, item["fee_item"], FEE, "BJB-0009")
    assert verify_audit(ctx) == []
    columns = (
        "id",
        "region_code",
        "application_id",
        "actor",
        "action",
        "subject",
        "at",
        "reason",
        "data",
        "chain",
        "seq",
        "prev_hash",
        "hash",
    )
    chain = str(app.id)  # an application's events form its own chain (issue #16)
    with ctx.uow() as uow:
        rows = uow._session.scalars(
            select(EventRecord).where(EventRecord.chain == chain).order_by(EventRecord.seq)
        ).all()
        events = [{c: getattr(r, c) for c in columns} for r in rows]
    assert len(events) == 3  # started, fee billed, payment recorded
    target = events[1]
    seq, event_id = target["seq"], target["id"]

    def tamper(sql: str, **params) -> list:
        with ctx.uow() as uow:
            uow._session.execute(text(sql), params)
            uow.commit()
        return verify_audit(ctx, "3273")

    original = json.dumps(target["data"])
    broken = tamper(
        "UPDATE events SET data = :d WHERE id = :i", d=json.dumps({"amount": 1}), i=event_id
    )
    assert [(b.seq, b.event_id) for b in broken] == [(seq, event_id)]
    assert tamper("UPDATE events SET data = :d WHERE id = :i", d=original, i=event_id) == []
    broken = tamper("UPDATE events SET actor = 'user:99:x' WHERE id = :i", i=event_id)
    assert broken[0].seq == seq
    tamper("UPDATE events SET actor = :a WHERE id = :i", a=target["actor"], i=event_id)
    broken = tamper("DELETE FROM events WHERE id = :i", i=event_id)
    assert broken[0].seq == seq and "missing" in broken[0].reason
    with ctx.uow() as uow:  # put it back exactly: intact again
        uow._session.add(EventRecord(**target))
        uow.commit()
    assert verify_audit(ctx, "3273") == []
    last = events[-1]["seq"]
    broken = tamper(
        "INSERT INTO events (region_code, actor, action, subject, at, data, chain, seq, "
        "prev_hash, hash) VALUES ('3273', 'x', 'fee.waived', 's', :at, '{}', :c, :seq, "
        ":p, :h)",
        c=chain,
        at=events[-1]["at"],
        seq=last + 1,
        p=events[-1]["hash"],
        h="0" * 64,
    )
    assert broken[0].seq == last + 1


def test_a_rewritten_chain_is_caught_by_a_head_published_before(
    ctx: EngineContext, paying_app
) -> None:
    # Someone with write access edits a payment's event and recomputes every later hash and
    # the head: the chain verifies on its own. The head published earlier does not match.
    officer, app = paying_app
    payments.record_payment(ctx, officer, app.id, fee_item(ctx, officer, app)["fee_item"], FEE,
                            "BJB-0010")
    published = published_heads(ctx)
    assert {h.chain for h in published} >= {"3273"}
    assert verify_audit(ctx, published=published) == []
    # The region's own chain holds the events of no application (here: the upload).
    forge_chain(ctx, "3273", "model.uploaded", {"key": "forged"})
    assert verify_audit(ctx) == []  # a consistent rewrite: invisible from inside
    (broken,) = verify_audit(ctx, published=published)
    head = next(h for h in published if h.chain == "3273")
    assert (broken.chain, broken.seq) == ("3273", head.seq) and "rewritten" in broken.reason
    with ctx.uow() as uow:  # the forger also cuts the chain below the published head
        uow._session.execute(text("DELETE FROM events WHERE chain = '3273' AND seq = :s"),
                            {"s": head.seq})
        uow._session.execute(text("UPDATE audit_chain_heads SET seq = :s, hash = "
                                 "(SELECT hash FROM events WHERE chain = '3273' AND seq = :s) "
                                 "WHERE chain = '3273'"), {"s": head.seq - 1})
        uow.commit()
    assert verify_audit(ctx) == []
    (broken,) = verify_audit(ctx, "3273", published)
    assert broken.seq == head.seq and f"log ends at #{head.seq - 1}" in broken.reason


def test_verifying_while_the_chain_grows_reports_no_false_break(
    ctx: EngineContext, paying_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The heads are read first, the events after: an event committed in between must not
    # look like an event its head does not know (the check reads one snapshot).
    officer, app = paying_app
    real = audit.verify_chain
    appended = []

    def append_meanwhile(chain, events, head, published=()):
        if not appended:
            appended.append(tasks.claim_task(ctx, officer, app.tasks[0].id))  # commits an event
        return real(chain, events, head, published)

    monkeypatch.setattr(audit, "verify_chain", append_meanwhile)
    assert verify_audit(ctx) == []
    assert appended and verify_audit(ctx) == []


def forge_chain(ctx: EngineContext, chain: str, action: str, data: dict) -> None:
    """Edit the first `action` event's data and recompute every hash after it and the head."""
    with ctx.uow() as uow:
        rows = uow._session.scalars(
            select(EventRecord).where(EventRecord.chain == chain).order_by(EventRecord.seq)
        ).all()
        prev, editing = GENESIS, False
        for row in rows:
            if row.action == action and not editing:
                row.data, editing = data, True
            fields = hashed_fields(chain=row.chain, seq=row.seq, at=row.at, actor=row.actor,
                                   action=row.action, subject=row.subject, reason=row.reason,
                                   data=row.data, application_id=str(row.application_id)
                                   if row.application_id else None)
            row.prev_hash, row.hash = prev, event_hash(prev, fields)
            prev = row.hash
        assert editing
        uow._session.execute(text("UPDATE audit_chain_heads SET hash = :h WHERE chain = :c"),
                            {"h": prev, "c": chain})
        uow.commit()


def test_published_heads_are_read_with_every_bad_line_named() -> None:
    good = json.dumps({"chain": "3273", "seq": 4, "hash": "a" * 64, "published_at": "x"})
    assert read_published(good + "\n\n") == [PublishedHead("3273", 4, "a" * 64, "x")]
    with pytest.raises(errors.InvalidInputError) as caught:
        read_published("\n".join([good, "not json", json.dumps({"chain": "3273", "seq": 1}),
                                   json.dumps({"chain": "3273", "seq": -1, "hash": "a" * 64})]))
    assert [p.line for p in caught.value.problems] == [2, 3, 4]


def test_tracking_shows_progress_and_no_personal_data(ctx: EngineContext, paying_app) -> None:
    officer, app = paying_app
    public = tracking.track(ctx, app.tracking_code)
    payload = json.dumps(public, default=str)
    for personal in ("Siti", "Aminah", "3273014501900002", "Braga", officer.name):
        assert personal not in payload
    assert public["status"] == "running" and public["current_steps"][0]["name"] == "Langkah 1"
    assert public["fees"][0] == {
        "name": "Langkah 1",
        "amount": FEE,
        "status": "open",
        "receipt_no": None,
        "paid_at": None,
    }
    for unknown in ("PF-0000-0000-0000-0000", "nonsense", "' OR 1=1 --"):
        with pytest.raises(errors.NotFoundError):
            tracking.track(ctx, unknown)


def test_a_reference_with_a_trailing_newline_is_not_a_second_reference(
    ctx: EngineContext, paying_app
) -> None:
    # Issue #11 cause 9: Python's `$` matches before a final "\n", so "X" and "X\n" were
    # both recorded as distinct, valid references for the same money.
    officer, app = paying_app
    item = fee_item(ctx, officer, app)
    for reference in ("BJB-0001\n", "BJB-0001\r\n", "\nBJB-0001", "BJB-0001 ", "BJB-\u0660\u0661"):
        with pytest.raises(errors.InvalidInputError):
            payments.record_payment(ctx, officer, app.id, item["fee_item"], FEE, reference)
    assert fee_item(ctx, officer, app)["status"] == "open"
    payments.record_payment(ctx, officer, app.id, item["fee_item"], FEE, "BJB-0001")
