"""The SLA report (engine.services.reports.sla_report) against figures worked out by hand.

Steps are completed at known moments on a settable clock; the expected counts, on-time
rates, median and p90 working hours (nearest rank) and overdue-now figures below are
computed from the office hours 07:30-16:00 WIB, Monday 2 March 2026 being a plain working day.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.services import applications, reports, tasks
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload

WIB = timezone(timedelta(hours=7))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB)


MON_0800, REPORT_AT = at(2, 8), at(3, 12)  # everything starts Mon 08:00; reported Tue 12:00
PERIOD = (at(2, 0), at(4, 0))  # Monday and Tuesday


@pytest.fixture
def world(ctx: EngineContext) -> dict:
    """Region 3273 with processes `lapor` (2 steps) and `lain` (1 step); 3510 with `lapor`.
    Every step has SLA PT4H; every application starts Mon 08:00, so each first step is due
    Mon 12:00."""
    ctx.clock = Clock(MON_0800)
    make_region(ctx, "3273")
    make_region(ctx, "3510")
    upload(ctx, "3273", tiny_bpmn(key="lapor", steps=2, sla="PT4H"))
    upload(ctx, "3273", tiny_bpmn(key="lain", steps=1, sla="PT4H"))
    upload(ctx, "3510", tiny_bpmn(key="lapor", steps=1, sla="PT4H"))
    officer, _ = make_user(ctx, "front-office")
    banyuwangi, _ = make_user(ctx, "front-office", region="3510")
    apps = [applications.start_application(ctx, officer, "3273", "lapor", {}, {}) for _ in range(7)]
    other = applications.start_application(ctx, officer, "3273", "lain", {}, {})
    far = applications.start_application(ctx, banyuwangi, "3510", "lapor", {}, {})

    def complete(actor, app, element_id: str, when: datetime) -> None:
        ctx.clock.now = when
        current = applications.get_application(ctx, actor, app.id)
        (task,) = [t for t in current.tasks if t.element_id == element_id and t.state == "ready"]
        tasks.complete_task(ctx, actor, task.id, {})

    # In time order. Working hours from ready to done in the comments.
    complete(officer, apps[0], "step_1", at(2, 9))        # 1.0 h, on time
    complete(officer, other, "step_1", at(2, 9))          # 1.0 h, on time  (lain)
    complete(banyuwangi, far, "step_1", at(2, 10))        # 2.0 h, on time  (3510)
    complete(officer, apps[1], "step_1", at(2, 10))       # 2.0 h, on time
    complete(officer, apps[2], "step_1", at(2, 11, 30))   # 3.5 h, on time
    complete(officer, apps[3], "step_1", at(2, 12))       # 4.0 h, exactly at due: on time
    complete(officer, apps[4], "step_1", at(2, 15))       # 7.0 h, late
    complete(officer, apps[0], "step_2", at(3, 8))        # ready Mon 09:00: 7 + 0.5 = 7.5 h, late
    complete(officer, apps[5], "step_1", at(3, 8, 30))    # 8 + 1 = 9.0 h, late
    complete(officer, apps[5], "step_2", at(3, 9, 30))    # ready Tue 08:30: 1.0 h, on time
    # apps[6] is never touched: its step_1 (due Mon 12:00) is overdue at the report.
    # step_2 ready and past due at Tue 12:00: apps[1] (due Mon 14:00), apps[2] (15:30),
    # apps[3] (16:00), apps[4] (ready Mon 15:00: 1 h + 3 h -> Tue 10:30). Not apps[5].
    ctx.clock.now = REPORT_AT
    return {"officer": officer}


def nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = -(-len(ordered) * fraction // 1)  # ceil
    return ordered[int(rank) - 1]


def median(values: list[float]) -> float:
    ordered, n = sorted(values), len(values)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def expected(region: str, key: str, element: str, name: str, hours: list[float], on_time: int,
             overdue: int) -> dict:
    return {"region": region, "process_key": key, "element_id": element, "name": name,
            "count": len(hours), "on_time_rate": round(on_time / len(hours), 4) if hours else None,
            "median_hours": round(median(hours), 2) if hours else None,
            "p90_hours": round(nearest_rank(hours, 0.9), 2) if hours else None, "overdue_now": overdue}


def test_the_report_equals_the_figures_worked_out_by_hand(ctx: EngineContext, world: dict) -> None:
    supervisor, _ = make_user(ctx, "supervisor")
    report = reports.sla_report(ctx, supervisor, *PERIOD)
    assert report["from"] == PERIOD[0] and report["to"] == PERIOD[1]
    assert report["generated_at"] == REPORT_AT
    lapor_1 = expected("3273", "lapor", "step_1", "Langkah 1", [1, 2, 3.5, 4, 7, 9], 4, 1)
    # Written out: 4 of 6 on time; median of 1, 2, 3.5, 4, 7, 9 = (3.5 + 4) / 2; p90 = 6th of 6.
    assert (lapor_1["on_time_rate"], lapor_1["median_hours"], lapor_1["p90_hours"]) == (0.6667, 3.75, 9.0)
    lapor_2 = expected("3273", "lapor", "step_2", "Langkah 2", [7.5, 1], 1, 4)
    assert (lapor_2["on_time_rate"], lapor_2["median_hours"], lapor_2["p90_hours"]) == (0.5, 4.25, 7.5)
    lain = expected("3273", "lain", "step_1", "Langkah 1", [1], 1, 0)
    assert report["steps"] == [lain, lapor_1, lapor_2]  # by region, process, step


def test_the_period_is_half_open_and_overdue_now_does_not_depend_on_it(
    ctx: EngineContext, world: dict
) -> None:
    supervisor, _ = make_user(ctx, "supervisor")
    tuesday = reports.sla_report(ctx, supervisor, at(3, 0), at(4, 0), process_key="lapor")["steps"]
    assert tuesday == [
        expected("3273", "lapor", "step_1", "Langkah 1", [9], 0, 1),
        expected("3273", "lapor", "step_2", "Langkah 2", [7.5, 1], 1, 4),
    ]
    # Up to Tue 08:30 exactly: the step completed at 08:30 is not in [from, to).
    until = reports.sla_report(ctx, supervisor, at(2, 0), at(3, 8, 30), process_key="lapor")["steps"]
    assert until[0] == expected("3273", "lapor", "step_1", "Langkah 1", [1, 2, 3.5, 4, 7], 4, 1)
    assert until[1] == expected("3273", "lapor", "step_2", "Langkah 2", [7.5], 0, 4)
    # A period with no completions still shows what is overdue now, with no rates.
    empty = reports.sla_report(ctx, supervisor, at(10, 0), at(11, 0), process_key="lapor")["steps"]
    assert empty == [expected("3273", "lapor", "step_1", "Langkah 1", [], 0, 1),
                     expected("3273", "lapor", "step_2", "Langkah 2", [], 0, 4)]


def test_regions_and_processes_filter_the_report(ctx: EngineContext, world: dict) -> None:
    admin, _ = make_user(ctx, "admin", region=None)
    everywhere = reports.sla_report(ctx, admin, *PERIOD)["steps"]
    assert [(r["region"], r["process_key"], r["element_id"]) for r in everywhere] == [
        ("3273", "lain", "step_1"), ("3273", "lapor", "step_1"), ("3273", "lapor", "step_2"),
        ("3510", "lapor", "step_1")]
    assert everywhere[-1] == expected("3510", "lapor", "step_1", "Langkah 1", [2], 1, 0)
    assert reports.sla_report(ctx, admin, *PERIOD, region="3510")["steps"] == [everywhere[-1]]
    lapor = reports.sla_report(ctx, admin, *PERIOD, process_key="lapor")["steps"]
    assert [r["region"] for r in lapor] == ["3273", "3273", "3510"]
    # A supervisor of 3510 sees 3510 only, whatever region it asks for.
    supervisor, _ = make_user(ctx, "supervisor", region="3510")
    assert reports.sla_report(ctx, supervisor, *PERIOD, region="3273")["steps"] == [everywhere[-1]]
    analyst, _ = make_user(ctx, "analyst")
    assert len(reports.sla_report(ctx, analyst, *PERIOD)["steps"]) == 3


def test_the_report_refuses_officers_and_bad_periods(ctx: EngineContext, world: dict) -> None:
    with pytest.raises(errors.PermissionDeniedError):
        reports.sla_report(ctx, world["officer"], *PERIOD)
    supervisor, _ = make_user(ctx, "supervisor")
    for since, until in ((PERIOD[1], PERIOD[0]), (PERIOD[0], PERIOD[0]),
                         (PERIOD[0].replace(tzinfo=None), PERIOD[1])):
        with pytest.raises(errors.InvalidInputError):
            reports.sla_report(ctx, supervisor, since, until)
