"""Versions, replication, diff, migration and the catalog over HTTP: one test per endpoint."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer
from tests.factories import make_user, tiny_bpmn

MODELS = "/api/v1/regions/{region}/process-models"
SOURCE = {"region": "3273", "key": "tiny", "version": 1}


@pytest.fixture
def regions(client: FlaskClient, admin: dict[str, str]) -> None:
    for code, name in (("3273", "Kota Bandung"), ("3510", "Kab. Banyuwangi")):
        response = client.post("/api/v1/regions", json={"code": code, "name": name}, headers=admin)
        assert response.status_code == 201


def upload(client: FlaskClient, headers, bpmn: bytes, region: str = "3273") -> dict:
    response = client.post(MODELS.format(region=region), headers=headers,
                           data={"bpmn": (io.BytesIO(bpmn), "model.bpmn")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json


def analyst(app: Flask, region: str) -> dict[str, str]:
    return bearer(make_user(app.extensions["permitflow"], "analyst", region=region)[1])


def test_publish_and_retire(app: Flask, client: FlaskClient, regions: None) -> None:
    headers = analyst(app, "3273")
    upload(client, headers, tiny_bpmn())
    base = MODELS.format(region="3273") + "/tiny/versions/1"
    retired = client.post(f"{base}/retire", headers=headers)
    assert retired.status_code == 200 and retired.json["status"] == "retired"
    officer = bearer(make_user(app.extensions["permitflow"], "front-office")[1])
    refused = client.post("/api/v1/regions/3273/applications", headers=officer,
                          json={"process_key": "tiny"})
    assert refused.status_code == 409 and refused.json["type"] == "model-not-published"
    assert refused.mimetype == "application/problem+json"
    assert client.post(f"{base}/retire", headers=officer).status_code == 403
    assert client.post(f"{base}/publish", headers=analyst(app, "3510")).status_code == 404
    published = client.post(f"{base}/publish", headers=headers)
    assert published.status_code == 200 and published.json["status"] == "published"


def test_replicate(app: Flask, client: FlaskClient, regions: None) -> None:
    upload(client, analyst(app, "3273"), tiny_bpmn(fee="5000"))
    url = MODELS.format(region="3510") + "/tiny/replicate"
    overrides = {"steps": {"step_1": {"fee": 7500, "sla": "P2D"}},
                 "roles": {"front-office": "loket"}, "process": {"title": "Izin tiny BWI"}}
    headers = analyst(app, "3510")
    created = client.post(url, headers=headers, json={"source": SOURCE, "overrides": overrides})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["region"], body["key"], body["version"], body["title"]) == (
        "3510", "tiny", 1, "Izin tiny BWI")
    assert body["lineage"]["source"] == SOURCE and body["lineage"]["overrides"] == overrides
    assert [(s["role"], s["fee"], s["sla"]) for s in body["steps"]] == [
        ("loket", 7500, "P2D"), ("loket", 5000, "P1D")]
    stored = client.get(MODELS.format(region="3510") + "/tiny/versions/1", headers=headers).json
    assert 'value="7500"' in stored["bpmn"] and '<bpmn:lane id="loket"' in stored["bpmn"]

    bad = client.post(url, headers=headers, json={"source": SOURCE, "overrides": {
        "steps": {"nope": {"fee": 1}, "step_1": {"sla": "2 hari"}}}})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    # The format of an SLA is checked where the request is parsed; step ids by the engine.
    assert [e["field"] for e in bad.json["errors"]] == ["/overrides/steps/step_1/sla"]
    unknown = client.post(url, headers=headers, json={"source": SOURCE, "overrides": {
        "steps": {"nope": {"fee": 1}}}})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json["errors"]] == ["/overrides/steps/nope"]
    envelope = client.post(url, headers=headers, json={"source": SOURCE, "overrides": {
        "steps": {"step_1": {"colour": "red"}}}})
    assert envelope.status_code == 422
    missing = client.post(url, headers=headers, json={"source": {**SOURCE, "version": 5}})
    assert missing.status_code == 404
    foreign = client.post(url, headers=analyst(app, "3273"), json={"source": SOURCE})
    assert foreign.status_code == 404


def test_diff(app: Flask, client: FlaskClient, regions: None) -> None:
    headers = analyst(app, "3273")
    upload(client, headers, tiny_bpmn())
    client.post(MODELS.format(region="3510") + "/tiny/replicate", headers=analyst(app, "3510"),
                json={"source": SOURCE, "overrides": {"steps": {"step_2": {"fee": "2000"}}}})
    query = {"a": "3273/tiny@1", "b": "3510/tiny@1"}
    diff = client.get("/api/v1/process-models/diff", query_string=query, headers=headers)
    assert diff.status_code == 200
    assert diff.json["steps"]["changed"] == [
        {"element_id": "step_2", "name": "Langkah 2", "changes": {"fee": {"a": 0, "b": 2000}}}]
    assert diff.json["lineage"]["overrides"] == {"steps": {"step_2": {"fee": "2000"}}}
    text = client.get("/api/v1/process-models/diff", query_string={**query, "format": "text"},
                      headers=headers)
    assert text.status_code == 200 and text.mimetype == "text/plain"
    assert "~ step_2: fee 0 -> 2000" in text.get_data(as_text=True)
    assert client.get("/api/v1/process-models/diff", query_string=query).status_code == 401
    bad = client.get("/api/v1/process-models/diff", query_string={"a": "tiny", "b": "x"},
                     headers=headers)
    # Both are checked where the request is parsed, and both are named (as query fields).
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} == {"/query/a", "/query/b"}
    newline = client.get("/api/v1/process-models/diff", headers=headers,
                         query_string={"a": "3273/tiny@1\n", "b": "3510/tiny@1"})
    assert newline.status_code == 422
    assert [e["field"] for e in newline.json["errors"]] == ["/query/a"]


def test_migrate(app: Flask, client: FlaskClient, regions: None) -> None:
    headers = analyst(app, "3273")
    upload(client, headers, tiny_bpmn(steps=2))
    officer = bearer(make_user(app.extensions["permitflow"], "front-office")[1])
    started = client.post("/api/v1/regions/3273/applications", headers=officer,
                          json={"process_key": "tiny"}).json
    upload(client, headers, tiny_bpmn(steps=3))
    url = MODELS.format(region="3273") + "/tiny/migrate"
    dry = client.post(url, headers=headers, json={"from_version": 1, "to_version": 2,
                                                  "dry_run": True})
    assert dry.status_code == 200 and dry.json["dry_run"] is True
    assert [m["application_id"] for m in dry.json["migrated"]] == [started["id"]]
    assert client.get(f"/api/v1/applications/{started['id']}", headers=officer).json["version"] == 1
    done = client.post(url, headers=headers, json={"from_version": 1, "to_version": 2})
    assert done.status_code == 200 and len(done.json["migrated"]) == 1
    assert client.get(f"/api/v1/applications/{started['id']}", headers=officer).json["version"] == 2
    assert client.post(url, headers=officer, json={"from_version": 1, "to_version": 2}
                       ).status_code == 403
    assert client.post(url, headers=headers, json={"from_version": "1"}).status_code == 422


def test_catalog_is_public(app: Flask, client: FlaskClient, regions: None) -> None:
    upload(client, analyst(app, "3273"), tiny_bpmn(fee="1000"))
    banyuwangi = analyst(app, "3510")
    copied = client.post(MODELS.format(region="3510") + "/tiny/replicate", headers=banyuwangi,
                         json={"source": SOURCE})
    assert copied.json["status"] == "draft"
    assert client.get("/api/v1/catalog", query_string={"region": "3510"}).json["total"] == 0
    assert client.post(MODELS.format(region="3510") + "/tiny/versions/1/publish",
                       headers=banyuwangi).status_code == 200
    listed = client.get("/api/v1/catalog", query_string={"sort": "-replications"})
    assert listed.status_code == 200
    first = listed.json["items"][0]
    assert (first["region"], first["key"], first["replications"], first["total_fee"]) == (
        {"code": "3273", "name": "Kota Bandung"}, "tiny", 1, 2000)
    assert first["started"] == 0 and first["median_days"] is None
    assert listed.json["items"][1]["origin"] == SOURCE and listed.json["total"] == 2
    assert client.get("/api/v1/catalog", query_string={"region": "3510"}).json["total"] == 1
    bad = client.get("/api/v1/catalog", query_string={"sort": "colour"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "/query/sort"
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/catalog", "/api/v1/process-models/diff",
                 "/api/v1/regions/{region}/process-models/{key}/replicate",
                 "/api/v1/regions/{region}/process-models/{key}/migrate",
                 "/api/v1/regions/{region}/process-models/{key}/versions/{version}/retire"):
        assert path in spec["paths"], path


def test_the_standard_is_checked_at_upload_and_publication(
    app: Flask, client: FlaskClient, regions: None
) -> None:
    """Issue #15 item 5 over HTTP: a missing component is refused by name and place; without
    its decree number a version is a draft whose publication is refused, field by field."""
    import json

    from tests.factories import APPLICANT_LOOP_BPMN, complete_standard

    headers = analyst(app, "3273")

    def post(standard: dict):
        return client.post(MODELS.format(region="3273"), headers=headers, data={
            "bpmn": (io.BytesIO(APPLICANT_LOOP_BPMN), "model.bpmn"),
            "standard": (io.BytesIO(json.dumps(standard).encode()), "standard.json")},
            content_type="multipart/form-data")

    refused = post(complete_standard(legal_basis=None))
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    (error,) = refused.json["errors"]
    assert (error["file"], error["field"]) == ("standard.json", "/legal_basis")
    assert "Dasar hukum" in error["message"]

    draft = post(complete_standard(decree={"number": None}))
    assert draft.status_code == 201 and draft.json["status"] == "draft"
    publish = client.post(MODELS.format(region="3273") + "/loop/versions/1/publish",
                          headers=headers)
    assert publish.status_code == 409 and publish.json["type"].endswith("standard-not-publishable")
    assert [e["field"] for e in publish.json["errors"]] == ["/decree/number"]
    assert post(complete_standard()).json["status"] == "published"
