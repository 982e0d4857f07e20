"""A called model's steps and fees are published with its caller's (issues #10, #14, #15):
the service standard, the catalogue, the fee estimate and the tracking page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.context import EngineContext
from engine.services import applications, catalog, fee_assessment, standards
from tests.conformance.runner import MODELS, model_forms
from tests.factories import make_region, make_user, upload

FEE0 = b'<camunda:property name="fee" value="0" />'


def _publish(ctx: EngineContext, name: str, fee: int, *, binding: bytes = b"") -> None:
    path = MODELS / f"{name}.bpmn"
    data = path.read_bytes().replace(FEE0, f'<camunda:property name="fee" value="{fee}" />'
                                     .encode(), 1)
    if binding:
        data = data.replace(b'calledElement="cf-call-payment"',
                            b'calledElement="cf-call-payment" ' + binding)
    upload(ctx, "3273", data, dict(model_forms(path).items()))


def _figures(ctx: EngineContext) -> tuple[list[tuple[str, int, str | None]], int, int, int]:
    standard = standards.service_standard(ctx, "3273", "cf-call-latest")
    steps = [(p["element_id"], p["fee"], (p.get("called") or {}).get("key"))
             for p in standard["procedure"]]
    (item,) = [i for i in catalog.catalog(ctx, region="3273")["items"]
               if i["key"] == "cf-call-latest"]
    estimate = fee_assessment.fee_estimate(ctx, "3273", "cf-call-latest", {})
    return steps, standard["totals"]["fee"], item["total_fee"], estimate["total"]


def test_the_called_models_fees_are_published_and_follow_its_latest_version(
    app: Flask, client: FlaskClient
) -> None:
    ctx: EngineContext = app.extensions["permitflow"]
    make_region(ctx, "3273")
    _publish(ctx, "call_payment_v1", 25000)
    _publish(ctx, "call_latest", 10000)
    steps, total, listed, estimated = _figures(ctx)
    assert steps == [("register", 10000, None), ("sign", 0, None),
                     ("pay_fee", 25000, "cf-call-payment")]
    assert total == listed == estimated == 35000
    page = client.get("/layanan/3273/cf-call-latest").get_data(as_text=True)
    row = next(r for r in page.split("</tr>") if "Terima pembayaran retribusi" in r)
    assert "Prosedur pembayaran bersama" in row and "25.000" in row
    assert "35.000" in page
    first = applications.start_application(
        ctx, make_user(ctx, "front-office")[0], "3273", "cf-call-latest", {"name": "Siti"}, {})

    _publish(ctx, "call_payment_v2", 40000)  # a new latest version of the called model
    steps, total, listed, estimated = _figures(ctx)
    assert ("pay_fee", 40000, "cf-call-payment") in steps
    assert total == listed == estimated == 50000
    second = applications.start_application(
        ctx, make_user(ctx, "front-office")[0], "3273", "cf-call-latest", {"name": "Budi"}, {})

    # Each tracking page shows the fees of the version its application bound at start.
    for started, fee, whole in ((first, 25000, 35000), (second, 40000, 50000)):
        data = client.get(f"/track/{started.tracking_code}",
                          headers={"Accept": "application/json"}).json
        schedule = data["fee_schedule"]
        assert [(s["name"], s["fee"]) for s in schedule["steps"]] == [
            ("Daftarkan permohonan", 10000), ("Terima pembayaran retribusi", fee)]
        assert schedule["total"] == whole
        html = client.get(f"/track/{started.tracking_code}",
                          headers={"Accept": "text/html"}).get_data(as_text=True)
        assert f"{whole:,}".replace(",", ".") in html
        assert "tahap prosedur Prosedur pembayaran bersama" in html


def test_a_fixed_version_call_keeps_showing_that_versions_fee(
    app: Flask, client: FlaskClient
) -> None:
    ctx: EngineContext = app.extensions["permitflow"]
    make_region(ctx, "3273")
    _publish(ctx, "call_payment_v1", 25000)
    _publish(ctx, "call_fixed_version", 10000)
    _publish(ctx, "call_payment_v2", 40000)
    standard = standards.service_standard(ctx, "3273", "cf-call-fixed")
    called = [p for p in standard["procedure"] if p.get("called")]
    assert [(p["fee"], p["called"]["version"]) for p in called] == [(25000, 1)]
    assert standard["totals"]["fee"] == 35000


def test_a_multi_instance_call_is_charged_per_item(app: Flask, client: FlaskClient) -> None:
    ctx: EngineContext = app.extensions["permitflow"]
    make_region(ctx, "3273")
    _publish(ctx, "call_payment_v1", 25000)
    path = MODELS / "call_latest.bpmn"
    data = path.read_bytes().replace(FEE0, b'<camunda:property name="fee" value="10000" />', 1)
    data = data.replace(
        b"</bpmn:callActivity>",
        b"<bpmn:multiInstanceLoopCharacteristics>"
        b"<bpmn:loopCardinality>2</bpmn:loopCardinality>"
        b"</bpmn:multiInstanceLoopCharacteristics></bpmn:callActivity>",
    )
    upload(ctx, "3273", data, dict(model_forms(path).items()))
    standard = standards.service_standard(ctx, "3273", "cf-call-latest")
    (called,) = [p for p in standard["procedure"] if p.get("called")]
    assert called["called"]["per_item"] is True
    assert (standard["totals"]["fee"], standard["totals"]["fee_per_item"]) == (10000, 25000)
    page = client.get("/layanan/3273/cf-call-latest").get_data(as_text=True)
    assert "25.000 per butir" in page
