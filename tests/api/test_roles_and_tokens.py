"""Issue #11 causes 11 and 12: who may do what inside a region; tokens that expire and end.

Before: any user of a region, whatever its role (even a made-up one), read every application
with the applicant's NIK and every task's data, and could start applications; the powers to
act for the applicant and to record payments were the fixed names `front-office` and
`cashier`; `users add` took any misspelled role; tokens never expired and could be neither
listed nor revoked nor disabled except by SQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.domain.actors import SYSTEM
from engine.services import applications, regions, users
from tests.api.conftest import bearer
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload

NIK = "3273014501900002"


@pytest.fixture
def region(app: Flask) -> dict[str, Any]:
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="izin", role="technical-team"))
    upload(ctx, "3273", tiny_bpmn(key="lain", role="head-of-office"))
    counter, counter_token = make_user(ctx, "front-office")
    app_ = applications.start_application(ctx, counter, "3273", "izin", {"nik": NIK}, {})
    tokens = {role: make_user(ctx, role)[1]
              for role in ("technical-team", "head-of-office", "cashier", "analyst", "supervisor")}
    return {"ctx": ctx, "app": app_, "tokens": {**tokens, "front-office": counter_token}}


def test_personal_data_is_read_by_the_roles_of_the_model_only(
    client: FlaskClient, region: dict[str, Any]
) -> None:
    app_id, task_id = region["app"].id, region["app"].tasks[0].id
    seen = {}
    for role, token in region["tokens"].items():
        one = client.get(f"/api/v1/applications/{app_id}", headers=bearer(token))
        listed = client.get("/api/v1/applications", headers=bearer(token)).json
        task = client.get(f"/api/v1/tasks/{task_id}", headers=bearer(token))
        seen[role] = (one.status_code, (one.json or {}).get("applicant"), listed["total"],
                      task.status_code)
    assert seen == {
        "front-office": (200, {"nik": NIK}, 1, 200),      # acts for the applicant
        "supervisor": (200, {"nik": NIK}, 1, 200),
        "technical-team": (200, {"nik": NIK}, 1, 200),    # has steps in this model
        "cashier": (200, {}, 1, 200),                     # records payments: no personal data
        "head-of-office": (404, None, 0, 404),            # steps in another model only
        "analyst": (404, None, 0, 404),
    }
    audit = client.get(f"/api/v1/applications/{app_id}/audit", headers=bearer(region["tokens"]["cashier"]))
    assert audit.status_code == 404


def test_only_the_counter_and_applicants_start_applications(
    client: FlaskClient, region: dict[str, Any]
) -> None:
    body = {"process_key": "izin", "applicant": {"nik": NIK}}
    for role in ("technical-team", "cashier", "analyst", "supervisor"):
        answer = client.post("/api/v1/regions/3273/applications", json=body,
                             headers=bearer(region["tokens"][role]))
        assert answer.status_code == 403, role
    _, applicant = make_user(region["ctx"], "applicant")
    for token in (region["tokens"]["front-office"], applicant):
        answer = client.post("/api/v1/regions/3273/applications", json=body, headers=bearer(token))
        assert answer.status_code == 201


def test_a_region_declares_which_roles_act_for_the_applicant(
    client: FlaskClient, admin: dict[str, str], region: dict[str, Any]
) -> None:
    ctx = region["ctx"]
    upload(ctx, "3273", tiny_bpmn(key="loket", role="front_office"))
    _, counter = make_user(ctx, "front_office")
    body = {"process_key": "loket", "applicant": {"nik": NIK}}
    start = "/api/v1/regions/3273/applications"
    assert client.post(start, json=body, headers=bearer(counter)).status_code == 403
    declared = client.put("/api/v1/regions/3273/powers", headers=admin,
                          json={"acts-for-applicant": ["front_office"]})
    assert declared.json == {"acts-for-applicant": ["front_office"],
                             "records-payments": ["cashier", "front-office"]}
    assert client.post(start, json=body, headers=bearer(counter)).status_code == 201
    # the old name lost the power in this region
    assert client.post(start, json=body,
                       headers=bearer(region["tokens"]["front-office"])).status_code == 403
    events = client.get("/api/v1/regions/3273/powers", headers=bearer(counter))
    assert events.json["acts-for-applicant"] == ["front_office"]


def test_users_are_added_with_known_roles_only(
    client: FlaskClient, admin: dict[str, str], region: dict[str, Any]
) -> None:
    typo = client.post("/api/v1/users", headers=admin,
                       json={"name": "Budi", "roles": ["tecnical-team"], "region": "3273"})
    assert typo.status_code == 422
    assert "technical-team" in typo.json["errors"][0]["message"]  # the known ones are listed
    ok = client.post("/api/v1/users", headers=admin,
                     json={"name": "Budi", "roles": ["technical-team"], "region": "3273"})
    assert ok.status_code == 201 and ok.json["token"].startswith("pf_")
    assert client.get("/api/v1/regions", headers=bearer(ok.json["token"])).status_code == 200
    with pytest.raises(Exception, match="unknown role"):
        users.add_user(region["ctx"], SYSTEM, "X", ["kepala-dinas"], "3273")


def test_tokens_expire_are_revoked_and_users_disabled(
    app: Flask, client: FlaskClient, admin: dict[str, str], region: dict[str, Any]
) -> None:
    ctx = region["ctx"]
    clock = Clock(ctx.clock())
    ctx.clock = clock
    created = users.add_user(ctx, SYSTEM, "Sari", ["technical-team"], "3273", timedelta(days=1))
    assert client.get("/api/v1/regions", headers=bearer(created.token)).status_code == 200
    clock.advance(days=1, seconds=1)
    expired = client.get("/api/v1/regions", headers=bearer(created.token))
    assert expired.status_code == 401 and expired.mimetype == "application/problem+json"

    issued = client.post(f"/api/v1/users/{created.id}/tokens", headers=admin)
    assert issued.status_code == 201
    fresh = issued.json["token"]
    assert client.get("/api/v1/regions", headers=bearer(fresh)).status_code == 200
    listed = client.get("/api/v1/users", headers=admin, query_string={"region": "3273"}).json
    mine = next(u for u in listed if u["id"] == created.id)
    assert [t["state"] for t in mine["tokens"]] == ["expired", "active"]
    assert all("token" not in t for t in mine["tokens"])  # never shown again

    revoked = client.delete(f"/api/v1/users/{created.id}/tokens/{issued.json['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json["state"] == "revoked"
    assert client.get("/api/v1/regions", headers=bearer(fresh)).status_code == 401

    again = users.issue_token(ctx, SYSTEM, created.id, timedelta(days=1))["token"]
    assert client.post(f"/api/v1/users/{created.id}/disable", headers=admin).status_code == 200
    assert client.get("/api/v1/regions", headers=bearer(again)).status_code == 401
    actions = set(audited_actions(ctx))
    assert {"user.created", "token.issued", "token.revoked", "user.disabled"} <= actions
    # only admins manage users
    officer = region["tokens"]["supervisor"]
    assert client.get("/api/v1/users", headers=bearer(officer)).status_code == 403
    assert client.post(f"/api/v1/users/{created.id}/disable", headers=bearer(officer)).status_code == 403


def audited_actions(ctx: Any) -> list[str]:
    from sqlalchemy import select

    from engine.persistence.tables import EventRecord

    with ctx.reader() as uow:
        return list(uow._session.scalars(select(EventRecord.action)))


def test_region_powers_refuse_unknown_powers(region: dict[str, Any]) -> None:
    with pytest.raises(Exception, match="powers are not valid"):
        regions.set_powers(region["ctx"], SYSTEM, "3273", {"signs-permits": ["kepala"]})
