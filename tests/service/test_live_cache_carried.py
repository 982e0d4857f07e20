"""Use cases that change an application's row but never run its workflow (claim, unclaim,
assign, a payment at the counter or from a bank channel) lock the row without reading the
workflow state and carry the live workflow to the row version they commit; a workflow
cached at an older row version is never carried nor used (both databases)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from api.wiring import build_context
from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM, Actor
from engine.services import applications, billing, payments, tasks
from engine.services.variables import application_variables
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.service.test_live_cache import counting


def ready(view) -> dict[str, object]:
    return {t.element_id: t.id for t in view.tasks if t.state == "ready"}


def reads_state(statements: list[str]) -> bool:
    return any("applications.state" in s for s in statements)


@pytest.fixture
def officer(ctx: EngineContext) -> Actor:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=2))
    upload(ctx, "3273", tiny_bpmn(key="fee", steps=1, fee="125000"))
    return make_user(ctx, "front-office")[0]


def test_claim_unclaim_and_assign_never_read_the_state_and_carry_the_workflow(
    ctx: EngineContext, officer: Actor
) -> None:
    supervisor = make_user(ctx, "supervisor")[0]
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    step_1 = ready(app)["step_1"]
    with counting(ctx) as claim:
        claimed = tasks.claim_task(ctx, officer, step_1)
    with counting(ctx) as unclaim:
        unclaimed = tasks.unclaim_task(ctx, officer, step_1, "salah ambil")
    with counting(ctx) as assign:
        assigned = tasks.assign_task(ctx, supervisor, step_1, officer.id, "bagi tugas")
    assert (claimed.claimed_by, unclaimed.claimed_by, assigned.claimed_by) == (
        officer.id, None, officer.id,
    )
    for statements in (claim, unclaim, assign):
        assert not reads_state(statements), statements
        # One statement reads the application and the task row, both locked.
        assert sum(s.lstrip().startswith("SELECT") and " tasks" in s for s in statements) == 1
    assert len(ctx.live) == 1  # carried three times, never dropped
    view = tasks.complete_task(ctx, officer, step_1, {"a": 1})
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)
    assert list(ready(view)) == ["step_2"]
    assert application_variables(ctx, SYSTEM, app.id)["variables"] == {"a": 1}


def test_claims_keep_their_refusals(ctx: EngineContext, officer: Actor) -> None:
    stranger = make_user(ctx, "cashier")[0]  # sees the region, not the step's role
    supervisor = make_user(ctx, "supervisor")[0]
    make_region(ctx, "3204")
    elsewhere = make_user(ctx, "supervisor", region="3204")[0]
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    step_1 = ready(app)["step_1"]
    with pytest.raises(errors.PermissionDeniedError):
        tasks.claim_task(ctx, stranger, step_1)
    tasks.claim_task(ctx, officer, step_1)
    colleague = make_user(ctx, "front-office")[0]
    with pytest.raises(errors.TaskClaimedError):
        tasks.claim_task(ctx, colleague, step_1)
    with pytest.raises(errors.PermissionDeniedError):
        tasks.unclaim_task(ctx, colleague, step_1)
    with pytest.raises(errors.InvalidInputError):
        tasks.assign_task(ctx, supervisor, step_1, stranger.id)
    for call in (
        lambda: tasks.claim_task(ctx, officer, uuid.uuid4()),
        lambda: tasks.unclaim_task(ctx, officer, uuid.uuid4()),
        lambda: tasks.assign_task(ctx, supervisor, uuid.uuid4(), officer.id),
        lambda: tasks.unclaim_task(ctx, elsewhere, step_1),
        lambda: tasks.assign_task(ctx, elsewhere, step_1, officer.id),
    ):
        with pytest.raises(errors.NotFoundError):
            call()
    view = tasks.complete_task(ctx, officer, step_1, {})
    with pytest.raises(errors.TaskNotReadyError):
        tasks.unclaim_task(ctx, officer, step_1)
    with pytest.raises(errors.TaskNotReadyError):
        tasks.assign_task(ctx, supervisor, step_1, officer.id)
    assert list(ready(view)) == ["step_2"]


def test_a_payment_never_reads_the_state_and_carries_the_workflow(
    ctx: EngineContext, officer: Actor
) -> None:
    cashier = make_user(ctx, "cashier")[0]
    app = applications.start_application(ctx, officer, "3273", "fee", {}, {})
    (item,) = payments.fee_items(ctx, SYSTEM, app.id)
    with counting(ctx) as paid:
        receipt = payments.record_payment(
            ctx, cashier, app.id, item["fee_item"], 125000, "TELLER-0001", "teller"
        )
    assert receipt["status"] == "paid"
    assert not reads_state(paid), paid
    done = tasks.complete_task(ctx, officer, ready(app)["step_1"], {})
    assert done.status == "completed"
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)


def test_a_bank_callback_never_reads_the_state(ctx: EngineContext, officer: Actor) -> None:
    secret = "a-shared-secret-of-at-least-32-characters!"
    billing.add_channel(ctx, SYSTEM, "3273", "bjb-va", "virtual_account", secret)
    app = applications.start_application(ctx, officer, "3273", "fee", {}, {})
    (item,) = payments.fee_items(ctx, SYSTEM, app.id)
    raw = json.dumps({"billing_code": item["billing_code"], "amount": 125000,
                      "reference": "VA-1"}).encode()
    stamp = str(int(ctx.clock().timestamp()))
    with counting(ctx) as paid:
        billing.receive_notification(
            ctx, "bjb-va", raw, stamp, billing.signature(secret, stamp, raw)
        )
    assert not reads_state(paid), paid
    assert tasks.complete_task(ctx, officer, ready(app)["step_1"], {}).status == "completed"
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)


def test_a_workflow_cached_at_an_older_row_version_is_not_carried(
    ctx: EngineContext, db_url: str, officer: Actor, tmp_path: Path
) -> None:
    """Another process moves the application on: this one's claim and payment carry only
    the entry of the row they locked (none), so the stale object is never used."""
    other = build_context(db_url, signing_key_dir=str(tmp_path / "signing-keys"))
    cashier = make_user(ctx, "cashier")[0]
    try:
        app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
        view = tasks.complete_task(ctx, officer, ready(app)["step_1"], {"a": 1})  # cached here
        # The other process claims and releases step_2: the row moves on twice.
        step_2 = ready(view)["step_2"]
        tasks.claim_task(other, officer, step_2)
        tasks.unclaim_task(other, officer, step_2)
        assert len(ctx.live) == 1  # this process still holds step_2 ready, two versions ago
        tasks.claim_task(ctx, officer, step_2)  # carries nothing: no entry for the locked row
        view = tasks.complete_task(ctx, officer, step_2, {"b": 2})
        assert (ctx.live.hits, ctx.live.misses) == (1, 1)
        fee_app = applications.start_application(ctx, officer, "3273", "fee", {}, {})
        (item,) = payments.fee_items(ctx, SYSTEM, fee_app.id)
        step = ready(fee_app)["step_1"]
        tasks.claim_task(other, officer, step)  # the row moves on elsewhere
        payments.record_payment(ctx, cashier, fee_app.id, item["fee_item"], 125000, "TLR-2")
        done = tasks.complete_task(ctx, officer, step, {})
    finally:
        other.session_factory.kw["bind"].dispose()
    assert view.status == "completed" and done.status == "completed"
    assert (ctx.live.hits, ctx.live.misses) == (1, 2)
    assert application_variables(ctx, SYSTEM, app.id)["variables"] == {"a": 1, "b": 2}
