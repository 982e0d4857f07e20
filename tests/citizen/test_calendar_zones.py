"""Issue #15 item 6 (part): a region in West or Central Kalimantan keeps Asia/Pontianak (WIB)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.services import regions
from tests.citizen.helpers import decision_bpmn
from tests.factories import Clock, upload

WIB = timezone(timedelta(hours=7))


def test_a_pontianak_region_counts_deadlines_in_wib(ctx: EngineContext) -> None:
    regions.create_region(ctx, SYSTEM, "6171", "Kota Pontianak", "Asia/Pontianak")
    assert {r.code: r.timezone for r in regions.list_regions(ctx)}["6171"] == "Asia/Pontianak"
    ctx.clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=WIB))
    upload(ctx, "6171", decision_bpmn())
    from engine.services import applications

    started = applications.start_application(ctx, SYSTEM, "6171", "izin-keputusan", {}, {})
    (check,) = started.tasks
    assert check.due_at == datetime(2026, 3, 3, 16, 0, tzinfo=WIB)  # P1D: Tue 16:00 WIB


def test_a_pontianak_region_over_http(db_url: str) -> None:
    from api import create_app
    from tests.factories import make_user

    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    try:
        _, token = make_user(app.extensions["permitflow"], "admin", region=None)
        response = app.test_client().post(
            "/api/v1/regions",
            headers={"Authorization": f"Bearer {token}"},
            json={"code": "6171", "name": "Kota Pontianak", "timezone": "Asia/Pontianak"},
        )
        assert response.status_code == 201, response.json
        assert response.json["timezone"] == "Asia/Pontianak"
    finally:
        app.extensions["permitflow"].session_factory.kw["bind"].dispose()
