"""The public fee estimate and the current service standard, over HTTP."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.domain.actors import SYSTEM
from engine.services import models
from tests.factories import ROOT

URL = "/api/v1/regions/3273/services/pbg/service-standard"
HOUSE = {"luas_lantai": 150, "fungsi": "hunian", "kompleksitas": "sederhana", "jumlah_lantai": 2}


def test_a_citizen_computes_the_pbg_fee_before_applying(app: Flask, client: FlaskClient) -> None:
    models.import_directory(app.extensions["permitflow"], SYSTEM, ROOT / "process_models")
    standard = client.get(URL)  # public: no token
    assert standard.status_code == 200
    (formula,) = standard.json["totals"]["fee_formulas"]
    estimate = client.post(f"{URL}/fee-estimate", json={"inputs": HOUSE})
    assert estimate.status_code == 200, estimate.json
    assert estimate.json["total"] == 443_700 and estimate.json["currency"] == "IDR"
    (fee,) = estimate.json["fees"]
    assert fee["element_id"] == "pay_retribution"
    assert fee["assessment"]["sha256"] == formula["sha256"]
    mbr = client.post(f"{URL}/fee-estimate", json={"inputs": {**HOUSE, "mbr": True}})
    assert mbr.json["total"] == 0


def test_bad_inputs_are_named_and_never_a_500(app: Flask, client: FlaskClient) -> None:
    models.import_directory(app.extensions["permitflow"], SYSTEM, ROOT / "process_models")
    bad = client.post(f"{URL}/fee-estimate", json={"inputs": {**HOUSE, "luas_lantai": "banyak"}})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert [e["field"] for e in bad.json["errors"]] == ["building.floor_area_m2"]
    assert client.post(f"{URL}/fee-estimate", json={}).status_code == 422
    assert client.post("/api/v1/regions/3273/services/nope/service-standard/fee-estimate",
                       json={"inputs": HOUSE}).status_code == 404
