"""Fees: exact payments, receipts, refusals; the hash-chained audit log; public tracking."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text

from engine.domain import errors
from engine.persistence.tables import EventRecord
from engine.services import applications, payments, tasks, tracking
from engine.services.audit import verify_audit
from engine.services.context import EngineContext
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
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(EventRecord).where(EventRecord.chain == "3273").order_by(EventRecord.seq)
        ).all()
        events = [{c: getattr(r, c) for c in columns} for r in rows]
    target = events[2]
    seq, event_id = target["seq"], target["id"]

    def tamper(sql: str, **params) -> list:
        with ctx.uow() as uow:
            uow.session.execute(text(sql), params)
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
        uow.session.add(EventRecord(**target))
        uow.commit()
    assert verify_audit(ctx, "3273") == []
    last = events[-1]["seq"]
    broken = tamper(
        "INSERT INTO events (region_code, actor, action, subject, at, data, chain, seq, "
        "prev_hash, hash) VALUES ('3273', 'x', 'fee.waived', 's', :at, '{}', '3273', :seq, "
        ":p, :h)",
        at=events[-1]["at"],
        seq=last + 1,
        p=events[-1]["hash"],
        h="0" * 64,
    )
    assert broken[0].seq == last + 1


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
