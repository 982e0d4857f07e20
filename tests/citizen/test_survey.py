"""The satisfaction survey (issue #15 item 3): offered once per completed application on the
tracking page; the IKM per service and region in the catalogue and the report equals the
hand computation. Service and HTTP, both databases."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from flask import Flask

from engine.context import EngineContext
from engine.domain import skm
from engine.domain.actors import SYSTEM
from engine.domain.errors import AlreadyExistsError, ConflictError, InvalidInputError
from engine.services import applications, standards, survey, tracking
from tests.citizen.helpers import work
from tests.factories import make_user
from tests.unit.test_skm import SHEET


def _completed(ctx: EngineContext):
    started = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    for step, data in (("check", {}), ("pay", {}), ("decide", {"keputusan": "setuju"})):
        work(ctx, started.id, step, data)
    return started


def _answers(row) -> dict[str, int]:
    return dict(zip(skm.ELEMENT_KEYS, row, strict=True))


def test_the_survey_is_offered_once_and_the_index_equals_the_hand_computation(
    ctx: EngineContext,
) -> None:
    running = applications.start_application(ctx, SYSTEM, "3273", "izin-keputusan", {}, {})
    assert tracking.track(ctx, running.tracking_code)["survey"] == {"offered": False,
                                                                    "given": False}
    with pytest.raises(ConflictError):
        survey.submit_survey(ctx, running.tracking_code, _answers(SHEET[0]))
    done = [_completed(ctx) for _ in SHEET]
    assert tracking.track(ctx, done[0].tracking_code)["survey"] == {"offered": True,
                                                                    "given": False}
    for started, row in zip(done, SHEET, strict=True):
        survey.submit_survey(ctx, started.tracking_code, _answers(row))
    with pytest.raises(AlreadyExistsError):
        survey.submit_survey(ctx, done[0].tracking_code, _answers(SHEET[1]))
    assert tracking.track(ctx, done[0].tracking_code)["survey"] == {"offered": False,
                                                                    "given": True}
    with pytest.raises(InvalidInputError):
        survey.submit_survey(ctx, running.tracking_code, {**_answers(SHEET[0]), "fee": 5})

    # By hand (tests/unit/test_skm.py): sum of element averages 29.75 x 1/9 x 25 = 82.64, B.
    (service,) = standards.region_services(ctx, "3273")
    assert service["skm"]["ikm"] == "82.64" and service["skm"]["category"] == "B"
    assert service["skm"]["respondents"] == 4
    analyst, _ = make_user(ctx, "analyst", region="3273")
    report = survey.skm_report(ctx, analyst)
    assert report["regions"][0]["region"] == "3273" and report["regions"][0]["ikm"] == "82.64"
    assert report["services"][0]["process_key"] == "izin-keputusan"
    assert Decimal(report["services"][0]["element_averages"]["complaints"]) == Decimal("2.5")


def test_the_survey_over_http(app: Flask, ctx: EngineContext) -> None:
    client = app.test_client()
    started = _completed(ctx)
    code = started.tracking_code
    page = html.unescape(client.get(f"/track/{code}", headers={"Accept": "text/html"})
                         .get_data(as_text=True))
    assert "Survei Kepuasan Masyarakat" in page
    bad = client.post(f"/track/{code}/survey", json={"answers": {**_answers(SHEET[0]), "fee": 0}})
    assert bad.status_code == 422
    named = client.post(f"/track/{code}/survey",
                        json={"answers": _answers(SHEET[0]), "name": "Siti Aminah"})
    assert named.status_code == 422 and [e["field"] for e in named.json["errors"]] == ["/name"]
    given = client.post(f"/track/{code}/survey", json={"answers": _answers(SHEET[0])})
    assert given.status_code == 201, given.json
    assert client.post(f"/track/{code}/survey",
                       json={"answers": _answers(SHEET[0])}).status_code == 409
    page = html.unescape(client.get(f"/track/{code}", headers={"Accept": "text/html"})
                         .get_data(as_text=True))
    assert "Terima kasih" in page
    one = skm.ikm([_answers(SHEET[0])])
    catalogue = html.unescape(client.get("/layanan/3273").get_data(as_text=True))
    assert f"{one.as_dict()['ikm']} ({one.as_dict()['category']}, 1 responden)" in catalogue
    _, token = make_user(ctx, "supervisor", region="3273")
    report = client.get("/api/v1/reports/skm", headers={"Authorization": f"Bearer {token}"})
    assert report.status_code == 200 and report.json["regions"][0]["respondents"] == 1
    backwards = client.get("/api/v1/reports/skm", headers={"Authorization": f"Bearer {token}"},
                           query_string={"from": "2026-03-05T00:00:00+07:00",
                                         "to": "2026-03-01T00:00:00+07:00"})
    assert backwards.status_code == 422 and backwards.mimetype == "application/problem+json"
    assert [e["field"] for e in backwards.json["errors"]] == ["from"]
