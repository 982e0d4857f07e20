"""Every error over HTTP is application/problem+json (RFC 9457) from one table (DESIGN §6).

401/403/404/405/413/415/422/500, titles in Bahasa Indonesia unless the client prefers
English, another region's data answering exactly like missing data, and bad model uploads
(files in tests/fixtures/bpmn/bad, zip packages) refused with located problems while the
server keeps serving.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api import create_app
from engine.context import EngineContext
from engine.services import applications
from tests.api.conftest import bearer
from tests.factories import FIXTURES, make_region, make_user, tiny_bpmn, upload

PROBLEM = "application/problem+json"
BAD = FIXTURES / "bpmn" / "bad"


def assert_problem(response: TestResponse, status: int, type_: str | None = None) -> dict[str, Any]:
    """The response is a problem+json of `status` with the four required members."""
    assert response.status_code == status, (response.status_code, response.data[:500])
    assert response.mimetype == PROBLEM, response.mimetype
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if type_ is not None:
        assert body["type"] == type_, body
    for item in body.get("errors", []):
        assert isinstance(item["message"], str) and item["message"], item
    return body


def post_model(client: FlaskClient, headers: dict[str, str], bpmn: bytes, name: str = "model.bpmn",
               region: str = "3273", **files: Any) -> TestResponse:
    data: dict[str, Any] = {"bpmn": (io.BytesIO(bpmn), name), **files}
    return client.post(f"/api/v1/regions/{region}/process-models", data=data, headers=headers,
                       content_type="multipart/form-data")


def post_zip(client: FlaskClient, headers: dict[str, str], entries: dict[str, bytes],
             region: str = "3273") -> TestResponse:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return client.post(f"/api/v1/regions/{region}/process-models",
                       data={"package": (io.BytesIO(buffer.getvalue()), "package.zip")},
                       headers=headers, content_type="multipart/form-data")


@pytest.fixture
def ctx(app: Flask) -> EngineContext:  # the app's own context (shadows the service fixture)
    context: EngineContext = app.extensions["permitflow"]
    return context


@pytest.fixture
def world(ctx: EngineContext) -> dict[str, Any]:
    """Two regions, each with a model, an application and its ready task; users of both."""
    out: dict[str, Any] = {}
    for code in ("3273", "3510"):
        make_region(ctx, code)
        upload(ctx, code, tiny_bpmn(key="tiny"))
        officer, token = make_user(ctx, "front-office", region=code)
        app = applications.start_application(ctx, officer, code, "tiny", {"name": "X"}, {})
        out[code] = {"token": token, "app": app, "task": app.tasks[0]}
    _, out["analyst"] = make_user(ctx, "analyst", region="3273")
    return out


# -- 401 / 403 -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer pf_not-a-real-token"}, {"Authorization": "Bearer "},
    {"Authorization": "Basic YWRtaW46YWRtaW4="}, {"Authorization": "pf_token-without-scheme"},
], ids=["none", "unknown", "empty", "basic", "no-scheme"])
def test_missing_or_bad_credentials_answer_401_with_a_bearer_challenge(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    for path in ("/api/v1/tasks", "/api/v1/regions", "/api/v1/applications"):
        response = client.get(path, headers=headers)
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_officer_uploading_a_model_gets_403(client: FlaskClient, world) -> None:
    response = post_model(client, bearer(world["3273"]["token"]), tiny_bpmn(key="mine"))
    body = assert_problem(response, 403, "forbidden")
    assert "analyst" in body["detail"]
    assert "WWW-Authenticate" not in response.headers


# -- 404 -------------------------------------------------------------------------------------


def test_unknown_routes_and_malformed_ids_are_404_problems(client: FlaskClient, admin) -> None:
    for path in ("/api/v1/nowhere", "/nowhere", "/api/v1/applications/not-a-uuid",
                 "/api/v1/tasks/12345", "/api/v1/regions/3273/process-models/x/versions/one"):
        assert_problem(client.get(path, headers=admin), 404, "not-found")


def test_unknown_ids_are_404_problems(client: FlaskClient, world, admin) -> None:
    missing = uuid.uuid4()
    for path in (f"/api/v1/applications/{missing}", f"/api/v1/tasks/{missing}",
                 f"/api/v1/applications/{missing}/fees", f"/api/v1/applications/{missing}/audit",
                 "/api/v1/regions/3273/process-models/nope",
                 "/api/v1/regions/3273/process-models/tiny/versions/99",
                 "/api/v1/regions/3273/process-models/tiny/versions/99/service-standard",
                 "/api/v1/regions/9999/process-models", "/api/v1/regions/9999/calendar"):
        assert_problem(client.get(path, headers=admin), 404, "not-found")
    assert_problem(client.post(f"/api/v1/tasks/{missing}/complete", json={"data": {}},
                               headers=admin), 404, "not-found")


def _same_answer(first: TestResponse, second: TestResponse, first_id: str, second_id: str) -> None:
    """Identical status, headers that matter and body, once each answer's own id is masked."""
    assert first.status_code == second.status_code == 404
    assert first.mimetype == second.mimetype == PROBLEM
    one, two = first.get_data(as_text=True), second.get_data(as_text=True)
    if first_id:
        one, two = one.replace(first_id, "<id>"), two.replace(second_id, "<id>")
    # ... and each answer's own request id (X-Request-Id, echoed in the problem).
    one = one.replace(first.headers["X-Request-Id"], "<request>")
    two = two.replace(second.headers["X-Request-Id"], "<request>")
    assert one == two
    assert sorted(k for k, _ in first.headers) == sorted(k for k, _ in second.headers)


def test_another_regions_data_is_indistinguishable_from_missing_data(client: FlaskClient, world) -> None:
    ours = bearer(world["3273"]["token"])
    theirs_app, theirs_task = world["3510"]["app"].id, world["3510"]["task"].id
    missing = uuid.uuid4()
    for template in ("/api/v1/applications/{}", "/api/v1/applications/{}/fees",
                     "/api/v1/applications/{}/audit", "/api/v1/tasks/{}"):
        _same_answer(client.get(template.format(theirs_app if "applications" in template else theirs_task),
                                headers=ours),
                     client.get(template.format(missing), headers=ours),
                     str(theirs_app if "applications" in template else theirs_task), str(missing))
    for action, body in (("claim", None), ("unclaim", None), ("complete", {"data": {}})):
        _same_answer(client.post(f"/api/v1/tasks/{theirs_task}/{action}", json=body, headers=ours),
                     client.post(f"/api/v1/tasks/{missing}/{action}", json=body, headers=ours),
                     str(theirs_task), str(missing))
    payment = {"fee_item": str(uuid.uuid4()), "amount": 1000, "reference": "REF-0001"}
    _same_answer(client.post(f"/api/v1/applications/{theirs_app}/payments", json=payment, headers=ours),
                 client.post(f"/api/v1/applications/{missing}/payments", json=payment, headers=ours),
                 str(theirs_app), str(missing))
    # A model of the other region answers like a model that does not exist there.
    analyst = bearer(world["analyst"])
    _same_answer(client.get("/api/v1/regions/3510/process-models/tiny", headers=analyst),
                 client.get("/api/v1/regions/3510/process-models/absent", headers=analyst), "", "")
    _same_answer(client.get("/api/v1/regions/3510/process-models/tiny/versions/1", headers=analyst),
                 client.get("/api/v1/regions/3510/process-models/absent/versions/1", headers=analyst),
                 "", "")
    _same_answer(client.get("/api/v1/regions/3510/process-models", headers=analyst),
                 client.get("/api/v1/regions/9999/process-models", headers=analyst), "3510", "9999")
    _same_answer(post_model(client, analyst, tiny_bpmn(key="x"), region="3510"),
                 post_model(client, analyst, tiny_bpmn(key="x"), region="9999"), "3510", "9999")
    # ... and nothing of theirs shows up in our listings.
    assert client.get("/api/v1/applications", headers=ours).json["total"] == 1
    assert client.get("/api/v1/tasks", headers=ours).json["total"] == 1


# -- 405 / 413 / 415 / 422 -------------------------------------------------------------------


def test_a_wrong_method_is_405_with_allow(client: FlaskClient, world, admin) -> None:
    response = client.delete("/api/v1/regions", headers=admin)
    assert_problem(response, 405, "method-not-allowed")
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    task = world["3273"]["task"].id
    response = client.put(f"/api/v1/tasks/{task}/complete", json={}, headers=admin)
    assert_problem(response, 405, "method-not-allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed and "PUT" not in allowed
    response = client.post("/api/v1/openapi.json")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_an_upload_over_the_limit_is_413(db_url: str) -> None:
    app = create_app({"DATABASE_URL": db_url, "MAX_UPLOAD_BYTES": 1000})
    try:
        ctx = app.extensions["permitflow"]
        make_region(ctx, "3273")
        _, token = make_user(ctx, "analyst")
        client = app.test_client()
        big = tiny_bpmn(key="big", steps=12)
        assert len(big) > 1000
        response = post_model(client, bearer(token), big)
        assert_problem(response, 413, "payload-too-large")
        # Not a model problem: nothing was stored, and the server answers the next request.
        assert client.get("/api/v1/regions/3273/process-models", headers=bearer(token)).json == []
        too_big_json = client.post("/api/v1/regions/3273/applications", headers=bearer(token),
                                   json={"process_key": "x", "data": {"pad": "x" * 2000}})
        assert_problem(too_big_json, 413, "payload-too-large")
    finally:
        app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.mark.parametrize("body", ["[1, 2]", '"a string"', "42", "null", "true"])
def test_a_json_body_that_is_not_an_object_is_422(client: FlaskClient, admin, body: str) -> None:
    response = client.post("/api/v1/regions", data=body, headers=admin,
                           content_type="application/json")
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"] and all(e["field"].startswith("/") for e in problem["errors"])


@pytest.mark.parametrize("body", ["{bad", '{"code": "3273",}', "{'code': '3273'}", "\xff\xfe"])
def test_malformed_json_is_a_400_problem(client: FlaskClient, admin, body: str) -> None:
    # RFC 9110 §15.5.1: syntax the server cannot parse is 400 (422 is for parsed content).
    response = client.post("/api/v1/regions", data=body, headers=admin,
                           content_type="application/json")
    problem = assert_problem(response, 400, "bad-request")
    [error] = problem["errors"]
    assert error["field"] == "/" and error["message"].startswith("line 1, column ")
    assert client.get("/api/v1/regions", headers=admin).status_code == 200


def test_a_body_that_is_not_json_is_415(client: FlaskClient, admin) -> None:
    response = client.post("/api/v1/regions", data='{"code": "3273", "name": "Kota Bandung"}',
                           headers=admin, content_type="text/plain")
    assert_problem(response, 415, "unsupported-media-type")


def test_envelope_errors_are_422_with_every_field_path(client: FlaskClient, world, admin) -> None:
    cases = [
        (client.post("/api/v1/regions", json={"code": 5, "name": ""}, headers=admin),
         {"/code", "/name"}),
        (client.post("/api/v1/regions/3273/applications", headers=admin,
                     json={"process_key": 7, "applicant": "Siti", "data": []}),
         {"/process_key", "/applicant", "/data"}),
        (client.put("/api/v1/regions/3273/calendar", headers=admin, json={
            "year": 1900, "overrides": [{"day": "2026-02-30", "kind": "maybe"}]}),
         {"/year", "/overrides/0/day", "/overrides/0/kind", "/overrides/0/reason"}),
        (client.get("/api/v1/tasks?limit=0&offset=-1&assigned=you", headers=admin),
         {"/query/limit", "/query/offset", "/query/assigned"}),
        (client.get("/api/v1/applications?status=lost&overdue=maybe", headers=admin),
         {"/query/status", "/query/overdue"}),
        (client.post(f"/api/v1/applications/{world['3273']['app'].id}/payments", headers=admin,
                     json={"fee_item": "nope", "amount": "1000"}),
         {"/fee_item", "/amount", "/reference"}),
        (client.get("/api/v1/regions/3273/calendar/due?sla=P1D&from=2026-03-17T10:00:00"),
         {"/query/from"}),
        (client.get("/api/v1/reports/sla", headers=admin), {"/query/from", "/query/to"}),
    ]
    for response, fields in cases:
        problem = assert_problem(response, 422, "invalid-input")
        assert {e["field"] for e in problem["errors"]} == fields, problem["errors"]


def test_engine_input_errors_are_422_with_field_paths(client: FlaskClient, world, admin) -> None:
    response = client.post("/api/v1/regions", json={"code": "12x", "name": "X", "timezone": "UTC"},
                           headers=admin)
    problem = assert_problem(response, 422, "invalid-input")
    # The engine names fields bare ("code"), marshmallow and forms as JSON pointers ("/code").
    assert {e["field"].lstrip("/") for e in problem["errors"]} == {"code", "timezone"}
    response = client.get("/api/v1/regions/3273/calendar/due?from=2026-03-17T10:00:00%2B07:00&sla=3d")
    problem = assert_problem(response, 422, "invalid-input")
    assert {e["field"] for e in problem["errors"]} == {"/query/sla"}


def test_a_conflict_is_a_409_problem(client: FlaskClient, world, admin) -> None:
    assert_problem(client.post("/api/v1/regions", json={"code": "3273", "name": "Lagi"}, headers=admin),
                   409, "already-exists")


# -- 500 -------------------------------------------------------------------------------------

SECRET = "password=hunter2 at db.internal:5432"


@pytest.fixture
def prod_app(db_url: str) -> Iterator[Flask]:
    """An app as it runs in production (TESTING off), with a route that fails."""
    app = create_app({"DATABASE_URL": db_url})

    @app.get("/api/v1/_boom")
    def boom() -> str:
        raise RuntimeError(SECRET)

    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


def test_an_unhandled_error_is_a_500_problem_that_leaks_nothing(
    prod_app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = prod_app.test_client()
    response = client.get("/api/v1/_boom")
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert "Traceback" not in body["detail"]
    assert any(SECRET in (r.exc_text or "") for r in caplog.records)  # logged, not sent

    from engine.services import regions

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError(SECRET)

    _, token = make_user(prod_app.extensions["permitflow"], "admin", region=None)
    monkeypatch.setattr(regions, "list_regions", broken)
    response = client.get("/api/v1/regions", headers=bearer(token))
    assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.get_data(as_text=True)
    english = client.get("/api/v1/_boom", headers={"Accept-Language": "en"})
    assert assert_problem(english, 500)["title"] == "Internal server error"


# -- language --------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "title"), [
    (None, "Tidak ditemukan"), ("en", "Not found"), ("en-US,en;q=0.9", "Not found"),
    ("id", "Tidak ditemukan"), ("id-ID, en;q=0.5", "Tidak ditemukan"), ("fr", "Tidak ditemukan"),
    ("fr, en;q=0.8", "Not found"),
])
def test_titles_follow_accept_language_with_bahasa_indonesia_by_default(
    client: FlaskClient, language: str | None, title: str
) -> None:
    headers = {"Accept-Language": language} if language else {}
    assert assert_problem(client.get("/api/v1/nowhere", headers=headers), 404)["title"] == title


def test_english_titles_for_domain_and_envelope_errors(client: FlaskClient, admin) -> None:
    en = {**admin, "Accept-Language": "en"}
    assert assert_problem(client.get("/api/v1/tasks", headers={"Accept-Language": "en"}),
                          401)["title"] == "Authentication required"
    assert assert_problem(client.get("/api/v1/tasks"), 401)["title"] == "Perlu autentikasi"
    assert assert_problem(client.post("/api/v1/regions", json={}, headers=en),
                          422)["title"] == "Invalid input"
    assert assert_problem(client.post("/api/v1/regions", json={}, headers=admin),
                          422)["title"] == "Masukan tidak valid"
    assert assert_problem(client.delete("/api/v1/regions", headers=en),
                          405)["title"] == "Method not allowed"


# -- bad uploads -----------------------------------------------------------------------------

# file -> (element ids that must be named, the `field` of those problems or None)
BAD_FILES: dict[str, tuple[set[str], str | None]] = {
    "not_xml.bpmn": (set(), None),
    "not_bpmn.bpmn": (set(), None),
    "xxe.bpmn": (set(), None),
    "billion_laughs.bpmn": (set(), None),
    "duplicate_ids.bpmn": ({"task_a"}, None),
    "dangling_flow.bpmn": ({"task_b"}, None),
    "missing_sla.bpmn": ({"task_a"}, "sla"),
    "missing_fee.bpmn": ({"task_a"}, "fee"),
    "missing_form.bpmn": ({"task_a"}, "form"),
    "hostile_script.bpmn": ({"evil"}, None),
}


@pytest.fixture
def analyst(ctx: EngineContext) -> dict[str, str]:
    make_region(ctx, "3273")
    _, token = make_user(ctx, "analyst")
    return bearer(token)


def test_every_bad_upload_is_422_with_located_problems_and_the_server_keeps_serving(
    client: FlaskClient, analyst: dict[str, str]
) -> None:
    for name, (element_ids, field) in BAD_FILES.items():
        response = post_model(client, analyst, (BAD / name).read_bytes(), name=name)
        problem = assert_problem(response, 422, "model-invalid")
        errors = problem["errors"]
        assert errors, name
        assert all(isinstance(e.get("line"), int) and e["line"] >= 1 for e in errors), (name, errors)
        assert all(e.get("file") == name for e in errors), (name, errors)
        named = {e["element_id"] for e in errors if "element_id" in e}
        assert element_ids <= named, (name, errors)
        if field is not None:
            assert any(e.get("field") == field and e.get("element_id") in element_ids
                       for e in errors), (name, errors)
        text = response.get_data(as_text=True)
        assert "root:" not in text and "Traceback" not in text, name
        assert client.get("/api/v1/regions/3273/process-models", headers=analyst).json == []
    served = post_model(client, analyst, tiny_bpmn(key="after"))
    assert served.status_code == 201, served.json


def test_the_entity_attacks_are_refused_before_any_entity_is_resolved(
    client: FlaskClient, analyst: dict[str, str]
) -> None:
    for name in ("xxe.bpmn", "billion_laughs.bpmn"):
        problem = assert_problem(post_model(client, analyst, (BAD / name).read_bytes(), name=name),
                                 422, "model-invalid")
        assert any("entit" in e["message"].lower() or "dtd" in e["message"].lower()
                   for e in problem["errors"]), problem


def test_a_raw_xml_upload_of_a_bad_model_is_refused_the_same_way(
    client: FlaskClient, analyst: dict[str, str]
) -> None:
    response = client.post("/api/v1/regions/3273/process-models", headers=analyst,
                           data=(BAD / "missing_fee.bpmn").read_bytes(), content_type="application/xml")
    problem = assert_problem(response, 422, "model-invalid")
    assert [(e["element_id"], e["field"]) for e in problem["errors"]] == [("task_a", "fee")]


def test_an_upload_without_a_file_field_says_what_to_send(client: FlaskClient, analyst) -> None:
    response = client.post("/api/v1/regions/3273/process-models", headers=analyst,
                           data={"something": (io.BytesIO(b"x"), "x.txt")},
                           content_type="multipart/form-data")
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"] == [{"field": "bpmn", "message": "missing file field"}]
    response = client.post("/api/v1/regions/3273/process-models", headers=analyst, json={"bpmn": "<x/>"})
    assert_problem(response, 422, "invalid-input")


FORM = json.dumps({"type": "object", "properties": {"ok": {"type": "boolean"}}}).encode()


def test_a_zip_package_upload_good_and_bad(client: FlaskClient, analyst: dict[str, str]) -> None:
    good = {"izin/model.bpmn": tiny_bpmn(key="zipped", form="f.json"), "izin/forms/f.json": FORM}
    created = post_zip(client, analyst, good)
    assert created.status_code == 201, created.json
    assert (created.json["key"], created.json["version"]) == ("zipped", 1)

    bad_packages = {
        "parent entry": ({"model.bpmn": tiny_bpmn(key="evil"), "../evil.json": b"{}"}, "'..'"),
        "absolute entry": ({"model.bpmn": tiny_bpmn(key="evil"), "/etc/x.json": b"{}"}, "absolute"),
        "no bpmn": ({"forms/f.json": FORM}, "model.bpmn"),
        "bad model inside": ({"model.bpmn": (BAD / "missing_sla.bpmn").read_bytes()}, "no SLA"),
        "form missing": ({"model.bpmn": tiny_bpmn(key="z2", form="gone.json")}, "gone.json"),
    }
    for label, (entries, needle) in bad_packages.items():
        problem = assert_problem(post_zip(client, analyst, entries), 422, "model-invalid")
        assert any(needle in e["message"] for e in problem["errors"]), (label, problem)
    not_a_zip = client.post("/api/v1/regions/3273/process-models", headers=analyst,
                            data={"package": (io.BytesIO(b"PK\x03\x04 but not really"), "p.zip")},
                            content_type="multipart/form-data")
    assert "zip" in assert_problem(not_a_zip, 422, "model-invalid")["errors"][0]["message"]
    listed = client.get("/api/v1/regions/3273/process-models", headers=analyst).json
    assert [(m["key"], m["latest_version"]) for m in listed] == [("zipped", 1)]
