"""Deemed approval, fiktif positif (issue #15 item 1): a model that declares it is granted by
law once its process SLA passes without a decision; recorded once, at the deadline's minute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask

from api import create_app
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.errors import ModelInvalidError
from engine.services import applications, audit, reports, tracking, worker
from tests.citizen.helpers import MONDAY_10, WIB, decision_bpmn, work
from tests.factories import Clock, make_region, make_user, upload

DEEMED = '<camunda:property name="deemedApproval" value="true"/>'
# Started Mon 2 Mar 2026 10:00 WIB; P5D is the closing time (16:00) of the fifth working day
# after that day: Tue 3, Wed 4, Thu 5, Fri 6, Mon 9 March (no holiday in between). Silence
# past that minute is approval, dated at the deadline.
DUE = datetime(2026, 3, 9, 16, 0, tzinfo=WIB)


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.fixture
def ctx(app: Flask) -> EngineContext:
    context: EngineContext = app.extensions["permitflow"]
    context.clock = Clock(MONDAY_10)
    make_region(context, "3273")
    return context


def _deemed_events(ctx: EngineContext, app_id) -> list:
    return [
        e
        for e in audit.application_events(ctx, SYSTEM, app_id)
        if e.action == "application.deemed_granted"
    ]


@pytest.mark.parametrize("sla", ["P5D", ""], ids=["declared-sla", "5-day-backstop"])
def test_deemed_approval_is_recorded_once_at_the_deadlines_minute(
    ctx: EngineContext, sla: str
) -> None:
    upload(ctx, "3273", decision_bpmn(process_props=DEEMED, sla=sla))
    started = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    assert applications.get_application(ctx, SYSTEM, started.id).due_at == DUE

    for before in (DUE - timedelta(minutes=1), DUE):  # due at 16:00: still the office's
        worker.run_pass(ctx, before)
        assert applications.get_application(ctx, SYSTEM, started.id).deemed_granted_at is None
    assert worker.run_pass(ctx, DUE + timedelta(minutes=1)).applications_breached == 1
    assert applications.get_application(ctx, SYSTEM, started.id).deemed_granted_at == DUE
    for later in (DUE + timedelta(hours=1), DUE + timedelta(days=3)):
        worker.run_pass(ctx, later)

    view = applications.get_application(ctx, SYSTEM, started.id)
    assert view.deemed_granted_at == DUE and view.status == "running"
    (event,) = _deemed_events(ctx, started.id)
    assert datetime.fromisoformat(event.data["deemed_granted_at"]) == DUE
    assert event.data["backstop"] is (sla == "")
    # The remaining steps carry the fact.
    assert all(t.deemed_granted for t in view.tasks)
    ctx.clock = Clock(DUE + timedelta(days=3))
    assert tracking.track(ctx, started.tracking_code)["deemed_granted_at"] == DUE
    report = reports.sla_report(ctx, SYSTEM, DUE - timedelta(days=30), DUE + timedelta(days=1))
    assert report["deemed_granted"] == [
        {"region": "3273", "process_key": "izin-keputusan", "count": 1}
    ]


def test_without_the_property_only_the_breach_is_reported(ctx: EngineContext) -> None:
    upload(ctx, "3273", decision_bpmn())
    started = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    worker.run_pass(ctx, DUE + timedelta(days=1))
    view = applications.get_application(ctx, SYSTEM, started.id)
    assert view.overdue and view.deemed_granted_at is None
    assert _deemed_events(ctx, started.id) == []
    assert [e.action for e in audit.application_events(ctx, SYSTEM, started.id)].count(
        "sla.breached"
    ) >= 1


def test_a_decision_in_time_is_never_deemed(ctx: EngineContext) -> None:
    upload(ctx, "3273", decision_bpmn(process_props=DEEMED))
    started = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    for step, data in (("check", {}), ("pay", {}), ("decide", {"keputusan": "tolak"})):
        work(ctx, started.id, step, data)
    worker.run_pass(ctx, DUE + timedelta(days=10))
    assert applications.get_application(ctx, SYSTEM, started.id).deemed_granted_at is None


def test_a_malformed_declaration_is_refused_with_its_property(ctx: EngineContext) -> None:
    bad = '<camunda:property name="deemedApproval" value="ya"/>'
    with pytest.raises(ModelInvalidError) as refused:
        upload(ctx, "3273", decision_bpmn(process_props=bad))
    assert any(p.field == "deemedApproval" for p in refused.value.problems)


def test_deemed_approval_over_http(app: Flask, ctx: EngineContext) -> None:
    upload(ctx, "3273", decision_bpmn(process_props=DEEMED))
    started = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    worker.run_pass(ctx, DUE + timedelta(minutes=1))
    ctx.clock = Clock(DUE + timedelta(hours=2))
    _, token = make_user(ctx, "front-office", region="3273")
    client = app.test_client()
    body = client.get(
        f"/api/v1/applications/{started.id}", headers={"Authorization": f"Bearer {token}"}
    ).json
    assert body["deemed_granted_at"], body
    assert datetime.fromisoformat(body["deemed_granted_at"]) == DUE
    assert all(t["deemed_granted"] for t in body["tasks"])
    assert (
        datetime.fromisoformat(
            client.get(f"/track/{started.tracking_code}").json["deemed_granted_at"]
        )
        == DUE
    )
    page = client.get(f"/track/{started.tracking_code}", headers={"Accept": "text/html"})
    assert "dianggap dikabulkan secara hukum (fiktif positif)" in page.get_data(as_text=True)
    _, boss = make_user(ctx, "supervisor", region="3273")
    report = client.get("/api/v1/reports/sla", headers={"Authorization": f"Bearer {boss}"},
                        query_string={"from": "2026-03-01T00:00:00+07:00",
                                      "to": "2026-03-10T00:00:00+07:00"})
    assert report.status_code == 200, report.json
    assert report.json["deemed_granted"] == [
        {"region": "3273", "process_key": "izin-keputusan", "count": 1}]


def test_the_applicant_is_told_of_a_deemed_approval_once(ctx: EngineContext) -> None:
    from engine.services import notification_admin
    from tests.service.test_notifications import outbox_rows, webhook_channel

    upload(ctx, "3273", decision_bpmn(process_props=DEEMED))
    # A receiver that never answers: the rows stay in the outbox to be counted.
    notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel("http://127.0.0.1:9/h"))
    started = applications.start_application(
        ctx, SYSTEM, "3273", "izin-keputusan", {"email": "warga@example.com"}, {})
    for later in (DUE + timedelta(minutes=1), DUE + timedelta(hours=1), DUE + timedelta(days=2)):
        worker.run_pass(ctx, later)
    decisions = [r for r in outbox_rows(ctx) if r.event == "decision"]
    assert len(decisions) == 1 and decisions[0].application_id == started.id
    assert decisions[0].audience == "applicant"
    assert decisions[0].payload["facts"]["outcome"] == "deemed_granted"
