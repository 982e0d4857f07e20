"""DMN fee tables over HTTP (issue #14 item 1): uploaded as a package file (multipart field
`decisions`, or `decisions/*.dmn` in a zip), published in the service standard, and used by
the public fee estimate exactly like a formula; a table with a gap is refused at upload with
its location."""

from __future__ import annotations

import io
import zipfile

from flask.testing import FlaskClient

from tests.factories import make_region
from tests.support import dmn as t

SERVICE = "/api/v1/regions/3273/services/reklame/service-standard"
MODELS = "/api/v1/regions/3273/process-models"


def multipart(client: FlaskClient, admin: dict, table: bytes):
    return client.post(MODELS, headers=admin, content_type="multipart/form-data", data={
        "bpmn": (io.BytesIO(t.bpmn()), "model.bpmn"),
        "standard": (io.BytesIO(t.standard()), "standard.json"),
        "decisions": [(io.BytesIO(table), "retribusi_reklame.dmn")],
    })


def test_a_table_uploaded_published_and_estimated_for_the_public(app, client, admin) -> None:
    make_region(app.extensions["permitflow"])
    answer = multipart(client, admin, t.dmn(t.REKLAME_RULES))
    assert answer.status_code == 201, answer.json
    standard = client.get(SERVICE)
    (published,) = standard.json["totals"]["fee_formulas"]
    assert published["name"] == "retribusi_reklame" and "tabel_reklame" in published["dmn"]
    estimate = client.post(f"{SERVICE}/fee-estimate",
                           json={"inputs": {"jenis": "billboard", "luas": 9.5}})
    assert estimate.status_code == 200, estimate.json
    (fee,) = estimate.json["fees"]
    assert fee["amount"] == estimate.json["total"] == 500_000
    assert fee["assessment"]["decision_table"]["row"] == 1
    assert fee["assessment"]["sha256"] == published["sha256"]
    bad = client.post(f"{SERVICE}/fee-estimate", json={"inputs": {"jenis": "neon", "luas": 2}})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "reklame.jenis"


def test_a_zip_package_carries_its_table_under_decisions(app, client, admin) -> None:
    make_region(app.extensions["permitflow"])
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("reklame/model.bpmn", t.bpmn())
        archive.writestr("reklame/standard.json", t.standard())
        archive.writestr("reklame/decisions/retribusi_reklame.dmn", t.dmn(t.REKLAME_RULES))
    answer = client.post(MODELS, headers=admin, content_type="multipart/form-data",
                         data={"package": (io.BytesIO(packed.getvalue()), "reklame.zip")})
    assert answer.status_code == 201, answer.json
    estimate = client.post(f"{SERVICE}/fee-estimate",
                           json={"inputs": {"jenis": "spanduk", "luas": 40}})
    assert estimate.json["total"] == 100_000


def test_a_table_with_a_gap_or_a_fraction_is_refused_with_its_location(
    app, client, admin
) -> None:
    make_region(app.extensions["permitflow"])
    gap = multipart(client, admin, t.dmn(t.REKLAME_RULES[:2]))
    assert gap.status_code == 422 and gap.mimetype == "application/problem+json"
    problem = gap.json["errors"][0]  # one per uncovered case (up to five)
    assert {e["element_id"] for e in gap.json["errors"]} == {"tabel_reklame"}
    assert problem["field"] == "fee_formulas.retribusi_reklame.dmn"
    assert "no rule matches jenis='spanduk'" in problem["message"]
    fraction = multipart(client, admin, t.dmn([(['"billboard"', "-"], "2500.5"),
                                               (['"spanduk"', "-"], "1000")]))
    assert fraction.status_code == 422
    assert fraction.json["errors"][0]["element_id"] == "r1_out"
