"""The live-workflow cache on the other paths that run an application's workflow: a message
delivered and an external task's result run on the cached object and leave theirs for the
next step (both databases)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.services import applications, billing, payments, tasks
from engine.services import external_tasks as ext
from engine.services.external_task_terms import TopicRequest
from engine.services.messages import Message, correlate_message
from engine.services.variables import application_variables
from tests.factories import FIXTURES, Clock, make_region, make_user, tiny_bpmn, upload

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def ready(view) -> dict[str, object]:
    return {t.element_id: t.id for t in view.tasks if t.state == "ready"}


def test_a_message_runs_on_the_cached_workflow_and_leaves_one(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", (FIXTURES / "bpmn" / "messages" / "message-catch.bpmn").read_bytes())
    officer = make_user(ctx, "front-office")[0]
    bank = make_user(ctx, "integration")[0]
    app = applications.start_application(ctx, officer, "3273", "message-catch", {}, {"n": 1})
    after = correlate_message(ctx, bank, Message("payment-confirmed", {"amount": 5},
                                                 application_id=app.id))
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)
    done = tasks.complete_task(ctx, officer, ready(after)["review"], {"ok": True})
    assert (ctx.live.hits, ctx.live.misses) == (2, 0)
    assert done.status == "completed"


def test_an_external_task_result_runs_on_the_cached_workflow(ctx: EngineContext) -> None:
    ctx.clock = Clock(NOW)
    make_region(ctx, "3273")
    upload(ctx, "3273", (FIXTURES / "bpmn" / "external" / "external-task.bpmn").read_bytes())
    counter = make_user(ctx, "front-office")[0]
    worker = make_user(ctx, "external-worker")[0]
    app = applications.start_application(ctx, counter, "3273", "external-task", {}, {"nib": "8"})
    # The lock reads the workflow the start left and gives it back (it writes task rows only).
    (task,) = ext.fetch_and_lock(ctx, worker, "w1", [TopicRequest("oss-check-nib", 60_000)], 1)
    ext.complete(ctx, worker, task.id, "w1", {"nib_valid": True})
    assert (ctx.live.hits, ctx.live.misses) == (2, 0)
    view = applications.get_application(ctx, counter, app.id)
    tasks.complete_task(ctx, counter, ready(view)["review"], {"ok": True})
    assert (ctx.live.hits, ctx.live.misses) == (3, 0)
    variables = application_variables(ctx, SYSTEM, app.id)["variables"]
    assert variables == {"nib": "8", "nib_valid": True, "ok": True}


def test_a_bank_callback_payment_carries_the_cached_workflow(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="fee", steps=1, fee="125000"))
    secret = "a-shared-secret-of-at-least-32-characters!"
    billing.add_channel(ctx, SYSTEM, "3273", "bjb-va", "virtual_account", secret)
    officer = make_user(ctx, "front-office")[0]
    app = applications.start_application(ctx, officer, "3273", "fee", {}, {})
    (item,) = payments.fee_items(ctx, SYSTEM, app.id)
    raw = json.dumps({"billing_code": item["billing_code"], "amount": 125000,
                      "reference": "VA-1"}).encode()
    stamp = str(int(ctx.clock().timestamp()))
    billing.receive_notification(ctx, "bjb-va", raw, stamp, billing.signature(secret, stamp, raw))
    done = tasks.complete_task(ctx, officer, ready(app)["step_1"], {})
    assert done.status == "completed"
    assert (ctx.live.hits, ctx.live.misses) == (1, 0)
