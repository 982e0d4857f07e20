"""The public catalog: newest published versions, replication counts and measured figures."""

from __future__ import annotations

import math
import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.services import applications, catalog, payments, replication, tasks, versions
from engine.services.calendars import region_calendar
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload

WIB = ZoneInfo("Asia/Jakarta")
PROCESS_SLA = (b'isExecutable="true"><bpmn:extensionElements><camunda:properties>'
               b'<camunda:property name="sla" value="P1D"/></camunda:properties>'
               b"</bpmn:extensionElements>")


def at(day: int, hour: int, minute: int = 0, month: int = 7) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


def imb_bpmn(fee: str = "25000") -> bytes:
    """One step of one working day, a process SLA of one working day."""
    return tiny_bpmn("imb", steps=1, fee=fee).replace(b'isExecutable="true">', PROCESS_SLA)


# (start, completion or "cancel" or None for still running)
RUNS = [
    (at(6, 9), at(6, 10)),
    (at(6, 9), at(8, 12)),           # finished after its one-day SLA
    (at(7, 10), at(7, 15)),
    (at(2, 9, month=3), at(2, 10, month=3)),  # before the 90-day window
    (at(8, 9), None),                # running, past its SLA by now
    (at(9, 9), "cancel"),
]
NOW = at(10, 12)


def run(ctx: EngineContext, clock: Clock, officer, supervisor, start, end):
    clock.now = start
    app = applications.start_application(ctx, officer, "3273", "imb", {}, {})
    if end == "cancel":
        clock.now = start.replace(hour=start.hour + 1)
        applications.cancel_application(ctx, supervisor, app.id, "ditarik pemohon")
    elif end is not None:
        clock.now = end
        task = app.tasks[0]
        item = payments.fee_items(ctx, SYSTEM, app.id)[0]
        payments.record_payment(ctx, SYSTEM, app.id, item["fee_item"], item["amount"],
                                f"IMB-{app.id.hex[:10]}")
        assert tasks.complete_task(ctx, officer, task.id, {}).status == "completed"
    return app


def expected_figures(ctx: EngineContext) -> dict:
    """The figures, computed here from the runs above and the region's calendar."""
    with ctx.uow() as uow:
        calendar = region_calendar(ctx, uow, "3273")
    since = NOW.timestamp() - 90 * 86400
    finished = [(s, e) for s, e in RUNS if isinstance(e, datetime) and e.timestamp() >= since]
    days = sorted(calendar.working_minutes_between(s, e) / 510 for s, e in finished)
    on_time = [e <= calendar.due(s, "P1D") for s, e in finished]
    return {
        "started": sum(1 for s, _ in RUNS if s.timestamp() >= since),
        "finished": len(finished),
        "median_days": round(statistics.median(days), 2),
        "p90_days": round(days[math.ceil(0.9 * len(days)) - 1], 2),
        "on_time_rate": round(sum(on_time) / len(on_time), 4),
        "overdue_running": 1,
    }


@pytest.fixture
def measured(ctx: EngineContext) -> EngineContext:
    clock = Clock(at(1, 8))
    ctx.clock = clock
    make_region(ctx, "3273")
    make_region(ctx, "3510")
    upload(ctx, "3273", imb_bpmn())
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    for start, end in RUNS:
        run(ctx, clock, officer, supervisor, start, end)
    clock.now = NOW
    upload(ctx, "3273", imb_bpmn(fee="99000"))
    versions.retire_version(ctx, SYSTEM, "3273", "imb", 2)  # the catalog shows v1
    source = {"region": "3273", "key": "imb", "version": 1}
    replication.replicate_model(ctx, SYSTEM, "3510", "imb", source, {"steps": {"step_1": {
        "fee": 10000}}})
    versions.publish_version(ctx, SYSTEM, "3510", "imb", 1)  # a replica starts as a draft
    replication.replicate_model(ctx, SYSTEM, "3510", "imb", {**source, "region": "3510"})
    versions.publish_version(ctx, SYSTEM, "3510", "imb", 2)
    replication.replicate_model(ctx, SYSTEM, "3273", "imb-copy", source)
    versions.publish_version(ctx, SYSTEM, "3273", "imb-copy", 1)
    return ctx


def test_catalog_figures_equal_the_figures_of_the_applications(measured: EngineContext) -> None:
    page = catalog.catalog(measured)
    rows = {(r["region"]["code"], r["key"]): r for r in page["items"]}
    assert set(rows) == {("3273", "imb"), ("3273", "imb-copy"), ("3510", "imb")}
    imb = rows[("3273", "imb")]
    assert imb["region"] == {"code": "3273", "name": "Kota Bandung"}
    assert (imb["version"], imb["title"], imb["origin"]) == (1, "Izin imb", None)
    assert (imb["steps"], imb["total_fee"], imb["legal_sla"]) == (1, 25000, "P1D")
    assert imb["replications"] == 2  # 3510/imb and 3273/imb-copy; not itself
    figures = {k: imb[k] for k in expected_figures(measured)}
    assert figures == expected_figures(measured)
    assert figures["finished"] == 3 and figures["on_time_rate"] == round(2 / 3, 4)

    copy = rows[("3510", "imb")]
    assert copy["version"] == 2 and copy["origin"] == {"region": "3510", "key": "imb", "version": 1}
    assert copy["total_fee"] == 10000 and copy["replications"] == 0
    assert (copy["started"], copy["finished"], copy["median_days"], copy["on_time_rate"]) == (
        0, 0, None, None)
    assert page["total"] == 3 and page["window_days"] == 90


def test_catalog_filters_sorts_and_pages(measured: EngineContext) -> None:
    def keys(**args) -> list[tuple[str, str]]:
        return [(r["region"]["code"], r["key"]) for r in catalog.catalog(measured, **args)["items"]]

    assert keys(text="COPY") == [("3273", "imb-copy")]
    assert keys(text="izin imb", region="3510") == [("3510", "imb")]
    assert keys(sort="-finished")[0] == ("3273", "imb")
    assert keys(sort="median_days")[0] == ("3273", "imb")  # rows without figures come last
    assert keys(sort="-total_fee") == [("3273", "imb"), ("3273", "imb-copy"), ("3510", "imb")]
    assert keys(sort="-region") == [("3510", "imb"), ("3273", "imb"), ("3273", "imb-copy")]
    assert keys(limit=1, offset=1) == [("3273", "imb-copy")]
    with pytest.raises(errors.InvalidInputError):
        catalog.catalog(measured, sort="-nope")
