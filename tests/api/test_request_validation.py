"""Issue #11, causes 8 and 9: what JSON or the database cannot hold is a located 422, never a 500.

Each request here answered 500 (or was stored, then served as invalid JSON) before the
request-validation layer (`api/validation.py`, `api/fields.py`); each runs on SQLite and
PostgreSQL, and each checks that nothing was written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.validation import loads_strict
from engine.context import EngineContext
from tests.api.conftest import bearer
from tests.api.test_http_errors import assert_problem, world  # noqa: F401 - fixture

BIG = "9" * 5000
DEEP = "[" * 100 + "]" * 100
DEEPER = '{"data": ' + "[" * 1000 + "]" * 1000 + "}"
DEEPEST = '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"


def located(response: Any, status: int = 422) -> set[str]:
    problem = assert_problem(response, status)
    return {e["field"] for e in problem["errors"]}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"process_key": "tiny", "data": {"n": ' + BIG + "}}", "/data/n"),
        ('{"process_key": "tiny", "data": {"n": -' + BIG + "}}", "/data/n"),
        ('{"process_key": "tiny", "data": {"n": 1' + "0" * 5000 + ".5}}", "/data/n"),
        ('{"process_key": "tiny", "data": {"n": NaN}}', "/data/n"),
        ('{"process_key": "tiny", "data": {"n": Infinity}}', "/data/n"),
        ('{"process_key": "tiny", "data": {"n": [1, -Infinity]}}', "/data/n/1"),
        ('{"process_key": "tiny", "data": {"n": 1e999}}', "/data/n"),
        ('{"process_key": "tiny", "applicant": {"name": "Siti\\u0000"}}', "/applicant/name"),
        ('{"process_key": "tiny", "applicant": {"name": "\\ud800"}}', "/applicant/name"),
        ('{"process_key": "tiny", "applicant": {"a\\u0000b": 1}}', "/applicant/a\x00b"),
        ('{"process_key": "tiny", "data": {"a/b": {"c~d": "\\udfff"}}}', "/data/a~1b/c~0d"),
        ('{"process_key": "tiny", "data": ' + DEEP + "}", "/data" + "/0" * 31),
        (DEEPER, "/"),
        (DEEPEST, "/"),
    ],
    ids=["digits", "negative-digits", "float-digits", "nan", "infinity", "minus-infinity-in-list",
         "overflow", "nul", "lone-surrogate", "nul-in-key", "pointer-escapes", "deep", "deeper", "deepest"],
)
def test_a_start_with_an_unholdable_value_is_a_located_422_and_writes_nothing(
    client: FlaskClient, ctx: EngineContext, world: dict[str, Any], raw: str, field: str  # noqa: F811
) -> None:
    headers = {**bearer(world["3273"]["token"]), "Content-Type": "application/json"}
    before = client.get("/api/v1/applications", headers=headers).json["total"]
    response = client.post("/api/v1/regions/3273/applications", data=raw, headers=headers)
    assert located(response) == {field}
    assert client.get("/api/v1/applications", headers=headers).json["total"] == before


def test_task_data_payments_and_retries_are_held_to_the_same_rules(
    client: FlaskClient, ctx: EngineContext, world: dict[str, Any]  # noqa: F811
) -> None:
    headers = {**bearer(world["3273"]["token"]), "Content-Type": "application/json"}
    task = world["3273"]["task"]
    complete = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers,
                           data='{"data": {"note": "ok\\u0000"}}')
    assert located(complete) == {"/data/note"}
    pay = client.post(f"/api/v1/applications/{task.application_id}/payments", headers=headers,
                      data='{"fee_item": "00000000-0000-0000-0000-000000000000", '
                           '"amount": NaN, "reference": "BJB-1"}')
    assert located(pay) == {"/amount"}
    assert client.get(f"/api/v1/tasks/{task.id}", headers=headers).json["state"] == "ready"


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("get", "/api/v1/regions/3273/process-models/tiny/versions/" + "9" * 20, None, "/path/version"),
        ("get", "/api/v1/regions/3273/process-models/tiny/versions/" + "9" * 5000, None, "/path/version"),
        ("get", "/api/v1/regions/3273/process-models/tiny/versions/2147483648/service-standard",
         None, "/path/version"),
        ("get", "/api/v1/applications?offset=" + "9" * 20, None, "/query/offset"),
        ("get", "/api/v1/catalog?offset=" + "9" * 20, None, "/query/offset"),
        ("get", "/api/v1/catalog?offset=" + "9" * 5000, None, "/query/offset"),
        ("get", "/api/v1/applications?process=%00", None, "/query/process"),
        ("get", "/api/v1/regions/%00/services", None, "/path/region"),
        ("post", "/api/v1/tasks/00000000-0000-0000-0000-000000000000/assign",
         {"user_id": 2**64}, "/user_id"),
        ("post", "/api/v1/regions/3273/process-models/tiny/migrate",
         {"from_version": 1, "to_version": 2**63}, "/to_version"),
        ("post", "/api/v1/regions/3273/process-models/tiny/replicate",
         {"source": {"region": "3510", "key": "tiny", "version": 2**70}}, "/source/version"),
    ],
    ids=["path-int-20-digits", "path-int-5000-digits", "public-path-int", "offset", "public-offset",
         "public-offset-5000-digits", "nul-query", "nul-path", "user-id", "version", "source-version"],
)
def test_integers_past_their_columns_and_nul_in_the_url_are_located_422s(
    client: FlaskClient, admin: dict[str, str], world: dict[str, Any],  # noqa: F811
    method: str, url: str, body: Any, field: str,
) -> None:
    response = getattr(client, method)(url, headers=admin, json=body)
    assert located(response) == {field}


@pytest.mark.parametrize("offset", ["\uff15", "+5", " 5", "5_0", "\u0665"])
def test_query_integers_take_ascii_digits_only(
    client: FlaskClient, admin: dict[str, str], world: dict[str, Any], offset: str,  # noqa: F811
) -> None:
    response = client.get("/api/v1/catalog", query_string={"offset": offset}, headers=admin)
    assert located(response) == {"/query/offset"}
    assert client.get("/api/v1/catalog?offset=5", headers=admin).status_code == 200


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z",
               "2101-01-01T00:00:00+07:00", "2026-02-30T10:00:00+07:00", "2026-03-17 10:00:00+07:00",
               "2026-03-17T10:00:00+0700", "2026-03-17T10:00+07:00"])
def test_times_outside_the_calendar_or_not_rfc3339_are_located_422s(
    client: FlaskClient, admin: dict[str, str], world: dict[str, Any], moment: str  # noqa: F811
) -> None:
    due = client.get("/api/v1/regions/3273/calendar/due", query_string={"from": moment, "sla": "P1D"})
    assert located(due) == {"/query/from"}
    report = client.get("/api/v1/reports/sla", headers=admin,
                        query_string={"from": moment, "to": "2026-01-01T00:00:00Z"})
    assert located(report) == {"/query/from"}


def test_the_calendar_years_at_their_ends_are_answered(client: FlaskClient, world: dict[str, Any]) -> None:  # noqa: F811
    for moment in ("2000-01-01T00:00:00+14:00", "2100-12-31T23:59:59-23:59",
                   "2026-03-17T10:00:00.123456789z"):
        due = client.get("/api/v1/regions/3273/calendar/due", query_string={"from": moment, "sla": "P1D"})
        assert due.status_code == 200, due.json


@pytest.mark.parametrize(
    ("body", "field"),
    [({"code": "9778\n", "name": "Kab. Baru"}, "/code"), ({"code": "97\n78", "name": "X"}, "/code"),
     ({"code": "٩٧٧٨", "name": "X"}, "/code"), ({"code": "9778", "name": " \n\t"}, "/name"),
     ({"code": "9778", "name": "X", "timezone": "Asia/Jakarta\n"}, "/timezone")],
    ids=["trailing-newline", "inner-newline", "arabic-indic-digits", "blank-name", "timezone-newline"],
)
def test_a_region_code_with_a_trailing_newline_is_refused(
    client: FlaskClient, admin: dict[str, str], body: dict[str, str], field: str
) -> None:
    assert located(client.post("/api/v1/regions", json=body, headers=admin)) == {field}
    assert all(r["code"] != body["code"] for r in client.get("/api/v1/regions", headers=admin).json)


def test_strict_json_reads_what_plain_json_reads() -> None:
    text = '{"a": [1, -2.5e3, "x\\u00e9\\ud83d\\ude00", null, true], "b": {"c": 12345678901234567890}}'
    assert loads_strict(text) == json.loads(text)
