"""GET /tasks/{id}: the data earlier steps entered for the fields of the step's form."""

from __future__ import annotations

import json

from engine.context import EngineContext
from engine.services import applications, tasks
from tests.factories import make_region, make_user, tiny_bpmn, upload

FORM = json.dumps(
    {
        "type": "object",
        "properties": {"nik": {"type": "string"}, "note": {"type": "string"}},
    }
).encode()


def test_a_task_shows_the_process_data_its_form_refers_to(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=2, form="review.json"), {"review.json": FORM})
    officer, _ = make_user(ctx, "front-office", region="3273")
    app = applications.start_application(
        ctx, officer, "3273", "tiny", {}, {"nik": "3273010101010001", "secret": "x"}
    )
    (first,) = [t for t in app.tasks if t.state == "ready"]
    assert tasks.get_task(ctx, officer, first.id).earlier_data == {"nik": "3273010101010001"}
    after = tasks.complete_task(ctx, officer, first.id, {"note": "berkas lengkap"})
    (second,) = [t for t in after.tasks if t.state == "ready"]
    view = tasks.get_task(ctx, officer, second.id)
    assert view.earlier_data == {"nik": "3273010101010001", "note": "berkas lengkap"}
    cashier, _ = make_user(ctx, "cashier", region="3273")
    assert tasks.get_task(ctx, cashier, second.id).earlier_data is None  # redacted


def test_opening_a_step_reads_the_live_workflow_and_leaves_it_for_the_step(
    ctx: EngineContext,
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=2, form="review.json"), {"review.json": FORM})
    officer, _ = make_user(ctx, "front-office", region="3273")
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {"nik": "1"})
    app = tasks.complete_task(ctx, officer, app.tasks[0].id, {"note": "lengkap"})
    (second,) = [t for t in app.tasks if t.state == "ready"]
    hits, misses = ctx.live.hits, ctx.live.misses
    assert tasks.get_task(ctx, officer, second.id).earlier_data == {"nik": "1", "note": "lengkap"}
    assert (ctx.live.hits, ctx.live.misses) == (hits + 1, misses)  # no restore
    done = tasks.complete_task(ctx, officer, second.id, {"note": "disetujui"})
    assert done.status == "completed"
    assert (ctx.live.hits, ctx.live.misses) == (hits + 2, misses)  # given back, used again
