"""Races at the service layer (DESIGN §8): 50 threads released together by a barrier try the
same thing; exactly one wins, every other gets a 409-class error (a ConflictError), and the
database holds one completion, one claim, one payment. Each race runs three rounds on fresh
rows to shake out interleavings; both databases via `ctx`.
"""

from __future__ import annotations

import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM, Actor
from engine.persistence.tables import EventRecord, FeeItemRecord, PaymentRecord, TaskRecord
from engine.services import applications, payments, tasks
from engine.services.audit import verify_audit
from tests.factories import make_region, make_user, tiny_bpmn, upload

THREADS = 50
ROUNDS = 3
FEE = 125_000


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    trace: str = ""


def race(attempt: Callable[[int], Any], threads: int = THREADS) -> list[Outcome]:
    """Run `attempt(i)` in `threads` threads released at once; every outcome, in index order."""
    barrier = threading.Barrier(threads)
    outcomes = [Outcome() for _ in range(threads)]

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i].value = attempt(i)
        except BaseException as exc:  # every outcome is inspected below
            outcomes[i].error, outcomes[i].trace = exc, traceback.format_exc()

    pool = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in pool), "a racer hung"
    return outcomes


def one_winner(outcomes: list[Outcome], *allowed: type[errors.ConflictError]) -> Outcome:
    """Exactly one success; every other attempt refused with one of `allowed` (with tracebacks
    of anything else in the failure message)."""
    winners = [o for o in outcomes if o.error is None]
    unexpected = [o for o in outcomes if o.error is not None and not isinstance(o.error, allowed)]
    assert not unexpected, "\n".join(o.trace for o in unexpected[:3]) + (
        f"\n... {len(unexpected)} unexpected errors: {Counter(type(o.error).__name__ for o in unexpected)}")
    assert len(winners) == 1, f"{len(winners)} winners; errors: " + str(
        Counter(type(o.error).__name__ for o in outcomes if o.error))
    return winners[0]


def count_events(ctx: EngineContext, action: str, application_id: uuid.UUID) -> int:
    with ctx.uow() as uow:
        return int(uow._session.scalar(select(func.count()).select_from(EventRecord).where(
            EventRecord.action == action, EventRecord.application_id == application_id)))


@pytest.fixture
def region(ctx: EngineContext) -> str:
    return make_region(ctx, "3273")


def test_fifty_completions_of_one_task_complete_it_once(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, tiny_bpmn(steps=2))
    officers = [make_user(ctx, "front-office")[0] for _ in range(5)]
    for _ in range(ROUNDS):
        app = applications.start_application(ctx, officers[0], region, "tiny", {"name": "Siti"}, {})
        task_id = app.tasks[0].id
        outcomes = race(lambda i, t=task_id: tasks.complete_task(
            ctx, officers[i % len(officers)], t, {"by": i}))
        winner = one_winner(outcomes, errors.TaskNotReadyError, errors.ConcurrentUpdateError)
        assert sum(isinstance(o.error, errors.ConflictError) for o in outcomes) == THREADS - 1
        with ctx.uow() as uow:
            rows = uow._session.scalars(select(TaskRecord).where(
                TaskRecord.application_id == app.id).order_by(TaskRecord.ready_at)).all()
            states = [(r.element_id, r.state) for r in rows]
            done_data, done_by = rows[0].data, rows[0].completed_by
        assert states == [("step_1", "completed"), ("step_2", "ready")]
        winning_index = outcomes.index(winner)
        assert done_data == {"by": winning_index}
        assert done_by == officers[winning_index % len(officers)].id
        assert count_events(ctx, "task.completed", app.id) == 1
    assert verify_audit(ctx) == []


def test_fifty_claims_of_one_task_leave_one_owner(ctx: EngineContext, region: str) -> None:
    upload(ctx, region, tiny_bpmn(steps=1))
    officers: list[Actor] = [make_user(ctx, "front-office")[0] for _ in range(THREADS)]
    for _ in range(ROUNDS):
        app = applications.start_application(ctx, officers[0], region, "tiny", {}, {})
        task_id = app.tasks[0].id
        outcomes = race(lambda i, t=task_id: tasks.claim_task(ctx, officers[i], t))
        winner = one_winner(outcomes, errors.TaskClaimedError)
        owner = officers[outcomes.index(winner)].id
        assert winner.value.claimed_by == owner
        with ctx.uow() as uow:
            assert uow.repos.tasks.get(task_id).claimed_by == owner
        assert count_events(ctx, "task.claimed", app.id) == 1
        holder = officers[outcomes.index(winner)]
        assert task_id in {t.id for t in tasks.inbox(ctx, holder, assigned_to_me=True).items}
        loser = officers[(outcomes.index(winner) + 1) % THREADS]
        assert task_id not in {t.id for t in tasks.inbox(ctx, loser, assigned_to_me=True).items}
    assert verify_audit(ctx) == []


@pytest.fixture
def fee_model(ctx: EngineContext, region: str) -> Actor:
    upload(ctx, region, tiny_bpmn(key="bayar", steps=1, fee=str(FEE)))
    cashier, _ = make_user(ctx, "cashier")
    return cashier


def open_item(ctx: EngineContext, actor: Actor, region: str) -> tuple[uuid.UUID, uuid.UUID]:
    app = applications.start_application(ctx, SYSTEM, region, "bayar", {}, {})  # the counter
    (item,) = payments.fee_items(ctx, actor, app.id)
    return app.id, item["fee_item"]


@dataclass
class Paid:
    fee_item_id: uuid.UUID
    amount: int
    receipt_no: str


def payments_with(ctx: EngineContext, reference: str) -> list[Paid]:
    with ctx.uow() as uow:
        rows = uow._session.scalars(select(PaymentRecord).where(PaymentRecord.reference == reference))
        return [Paid(r.fee_item_id, r.amount, r.receipt_no) for r in rows]


def test_fifty_payments_of_one_fee_item_record_one(ctx: EngineContext, region: str, fee_model: Actor) -> None:
    for round_no in range(ROUNDS):
        app_id, item_id = open_item(ctx, fee_model, region)
        reference = f"BJB-RACE-{round_no:03d}"
        outcomes = race(lambda _i, a=app_id, f=item_id, r=reference: payments.record_payment(
            ctx, fee_model, a, f, FEE, r, "teller"))
        winner = one_winner(outcomes, errors.ConflictError)  # item closed, or reference taken
        (payment,) = payments_with(ctx, reference)
        assert payment.fee_item_id == item_id and payment.amount == FEE
        assert winner.value["receipt_no"] == payment.receipt_no
        with ctx.uow() as uow:
            item = uow._session.get(FeeItemRecord, item_id)
            state = (item.status, item.receipt_no)
        assert state == ("paid", payment.receipt_no)
        assert count_events(ctx, "payment.recorded", app_id) == 1
    with ctx.uow() as uow:  # receipt numbers: one per payment, no gaps, no repeats
        receipts = sorted(uow._session.scalars(select(PaymentRecord.receipt_no)))
    assert [int(r.rsplit("/", 1)[1]) for r in receipts] == list(range(1, ROUNDS + 1))
    assert verify_audit(ctx) == []


def test_two_fee_items_paid_at_once_with_one_reference_record_one(
    ctx: EngineContext, region: str, fee_model: Actor
) -> None:
    for round_no in range(ROUNDS):
        items = [open_item(ctx, fee_model, region) for _ in range(2)]
        reference = f"BJB-TWIN-{round_no:03d}"
        outcomes = race(lambda i, r=reference, pair=items: payments.record_payment(
            ctx, fee_model, pair[i % 2][0], pair[i % 2][1], FEE, r, "teller"))
        one_winner(outcomes, errors.ConflictError)
        (payment,) = payments_with(ctx, reference)
        with ctx.uow() as uow:
            statuses = {i: uow._session.get(FeeItemRecord, i).status for _, i in items}
        assert sorted(statuses.values()) == ["open", "paid"]
        assert statuses[payment.fee_item_id] == "paid"
        assert sum(count_events(ctx, "payment.recorded", a) for a, _ in items) == 1
    assert verify_audit(ctx) == []
