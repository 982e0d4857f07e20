"""The web console over HTTP (no browser), on SQLite and PostgreSQL: sessions, CSRF, headers,
escaping, the form renderer, languages, and what a mistyped tracking code gets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from api import create_app
from api.config import MissingSecretError, ensure_secret_key
from api.web.formrender import Builder, parse
from api.web.i18n import CATALOGUE
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ModelPackage
from engine.services import applications, models
from tests.factories import make_region, make_user, tiny_bpmn

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "api" / "web" / "templates"
PBG_FORMS = ROOT / "process_models" / "3273" / "pbg" / "forms"


@pytest.fixture
def ctx(app: Flask) -> EngineContext:
    context: EngineContext = app.extensions["permitflow"]
    make_region(context, "3273")
    return context


def signed_in(client: FlaskClient, token: str) -> str:
    """Sign `client` in; the session's CSRF token."""
    page = client.get("/masuk").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    answer = client.post("/masuk", data={"token": token, "csrf_token": csrf[1], "next": "/konsol/"})
    assert answer.status_code == 302 and answer.location.endswith("/konsol/")
    page = client.get("/konsol/").get_data(as_text=True)
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert fresh is not None and fresh[1] != csrf[1]  # a new session at sign-in
    return fresh[1]


def test_pages_carry_a_strict_csp_and_the_security_headers(
    client: FlaskClient, ctx: EngineContext
) -> None:
    for path in ("/", "/masuk", "/api/docs", "/layanan/3273", "/api/v1/regions"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        )
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert (
            headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        )
    page = client.get("/").get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_templates_have_no_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text("utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert " style=" not in text and "<style" not in text and " on" + "click=" not in text, (
            template.name
        )


def test_sign_in_sets_an_httponly_samesite_cookie_and_sign_out_ends_it(
    client: FlaskClient, ctx: EngineContext
) -> None:
    _, token = make_user(ctx, "front-office", name="Dewi")
    assert client.get("/konsol/").status_code == 302  # to the sign-in page
    client.get("/masuk")
    csrf = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/masuk").get_data(as_text=True)
    )[1]  # type: ignore[index]
    answer = client.post("/masuk", data={"token": token, "csrf_token": csrf})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and token not in cookie
    page = client.get("/konsol/").get_data(as_text=True)
    assert "Masuk sebagai" in page and "Dewi" in page
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    client.post("/keluar", data={"csrf_token": fresh})
    assert client.get("/konsol/").status_code == 302
    bad = client.post("/masuk", data={"token": "pf_wrong", "csrf_token": csrf})
    assert bad.status_code in (400, 401)


def test_a_form_post_without_the_csrf_token_is_refused(
    client: FlaskClient, ctx: EngineContext
) -> None:
    upload = models.upload_model(ctx, SYSTEM, "3273", ModelPackage(bpmn=tiny_bpmn("izin")))
    actor, token = make_user(ctx, "front-office")
    started = applications.start_application(ctx, actor, "3273", upload.key, {"name": "A"}, {})
    task_id = started.tasks[0].id
    csrf = signed_in(client, token)
    refused = client.post(f"/konsol/tugas/{task_id}", data={"action": "complete"})
    assert refused.status_code == 400 and "Formulir kedaluwarsa" in refused.get_data(as_text=True)
    forged = client.post(
        f"/konsol/tugas/{task_id}", data={"action": "complete", "csrf_token": "x" * 43}
    )
    assert forged.status_code == 400
    assert "ready" in {t.state for t in applications.get_application(ctx, actor, started.id).tasks}
    done = client.post(f"/konsol/tugas/{task_id}", data={"action": "complete", "csrf_token": csrf})
    assert done.status_code == 302


def test_text_from_a_model_is_escaped_on_every_page(
    client: FlaskClient, ctx: EngineContext
) -> None:
    evil = "&lt;script&gt;alert(1)&lt;/script&gt;"
    xml = tiny_bpmn("jahat").replace(b'name="Langkah 1"', f'name="{evil}"'.encode())
    models.upload_model(ctx, SYSTEM, "3273", ModelPackage(bpmn=xml))
    actor, token = make_user(ctx, "front-office", "supervisor", "analyst")
    started = applications.start_application(ctx, actor, "3273", "jahat", {"name": "<b>x</b>"}, {})
    signed_in(client, token)
    for path in (
        "/layanan/3273/jahat",
        f"/track/{started.tracking_code}",
        "/konsol/",
        f"/konsol/tugas/{started.tasks[0].id}",
        f"/konsol/permohonan/{started.id}",
        "/studio/model/jahat",
    ):
        page = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<b>x</b>" not in page, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/layanan/3273/jahat").get_data(
        as_text=True
    )


def test_a_mistyped_tracking_code_gets_a_friendly_page(
    client: FlaskClient, ctx: EngineContext
) -> None:
    answer = client.get("/track/PF-AAAA-BBBB", headers={"Accept": "text/html"})
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert "Kode lacak tidak ditemukan" in page and 'name="code"' in page
    assert client.get("/track/PF-AAAA-BBBB").mimetype == "application/problem+json"
    assert client.get("/lacak?code=pf-aaaa bbbb").location.endswith("/track/PF-AAAABBBB")


def test_the_language_follows_the_switch_then_the_browser(app: Flask, ctx: EngineContext) -> None:
    browser = app.test_client()
    assert '<html lang="en">' in browser.get("/", headers={"Accept-Language": "en-GB"}).get_data(
        as_text=True
    )
    assert '<html lang="id">' in browser.get(
        "/", headers={"Accept-Language": "id-ID,en;q=0.5"}
    ).get_data(as_text=True)
    assert "Track application" in browser.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in browser.get("/").get_data(as_text=True)  # the choice is kept


def test_the_catalogue_is_complete_in_both_languages() -> None:
    assert set(CATALOGUE["id"]) == set(CATALOGUE["en"])
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_0-9]+)", template.read_text("utf-8")))
    for module in (ROOT / "api" / "web").glob("*.py"):
        used |= set(
            re.findall(r"""texts\([^)]*\)\[["']([a-z_]+)["']\]""", module.read_text("utf-8"))
        )
    assert used - set(CATALOGUE["id"]) == set()


def test_production_mode_refuses_to_start_without_a_session_secret(db_url: str) -> None:
    with pytest.raises(MissingSecretError):
        create_app({"DATABASE_URL": db_url, "PRODUCTION": True})
    environ: dict[str, str] = {}
    ensure_secret_key(environ)  # make serve: one secret for every gunicorn worker
    assert len(environ["PERMITFLOW_SECRET_KEY"]) > 40
    with pytest.raises(MissingSecretError):
        ensure_secret_key({"PERMITFLOW_PRODUCTION": "1"})


# -- the form renderer (no database) ----------------------------------------------------------


def _schema(name: str) -> dict[str, Any]:
    return json.loads((PBG_FORMS / name).read_text("utf-8"))


def _leaves(field: Any) -> list[Any]:
    return [field] if not field.children else [x for c in field.children for x in _leaves(c)]


def test_every_field_of_every_shipped_form_gets_a_label_and_a_widget() -> None:
    for path in ROOT.glob("process_models/*/*/forms/*.json"):
        form = Builder(json.loads(path.read_text("utf-8")), lang="id").form({})
        for leaf in _leaves(form):
            assert leaf.label and leaf.kind in {
                "text",
                "textarea",
                "number",
                "checkbox",
                "select",
                "choices",
                "json",
                "rows",
                "group",
            }, (path, leaf.path)


def test_the_registration_form_round_trips_the_scenario_data() -> None:
    scenario = json.loads(
        (ROOT / "process_models/3273/pbg/scenarios/happy_path.json").read_text("utf-8")
    )
    data = scenario["steps"][0]["data"]
    posted = MultiDict()

    def walk(value: Any, pointer: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{pointer}/{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{pointer}/{i}")
        elif value is not False:  # a browser posts nothing for an unchecked box
            posted.add(pointer, str(value))

    walk(data, "")
    assert parse(_schema("registration.json"), posted) == data


def test_empty_rows_and_optional_groups_are_left_out_and_numbers_read_the_indonesian_way() -> None:
    posted = MultiDict(
        [
            ("/building/floors", "2"),
            ("/building/floor_area_m2", "150,5"),
            ("/documents/0/requirement", "ktp"),
            ("/documents/1/file/name", ""),
            ("/applicant/npwp", ""),
            ("/building/height_m", "8.5"),
        ]
    )
    data = parse(_schema("registration.json"), posted)
    assert data["building"]["floors"] == 2 and data["building"]["floor_area_m2"] == 150.5
    assert data["building"]["height_m"] == 8.5
    assert data["documents"] == [{"requirement": "ktp", "file": {}}]
    assert "npwp" not in data["applicant"]
    assert (
        parse(_schema("registration.json"), MultiDict([("/building/floors", "dua")]))["building"][
            "floors"
        ]
        == "dua"
    )


def test_errors_land_beside_their_fields_in_indonesian() -> None:
    from forms import FormValidator

    schema = _schema("registration.json")
    data = {"applicant": {"nik": "123"}}
    errors = {e.field: e.message for e in FormValidator().validate(schema, data, lang="id")}
    builder = Builder(schema, lang="id", errors=errors)
    form = builder.form(data)
    nik = next(f for f in _leaves(form) if f.path == "/applicant/nik")
    assert nik.error == "bukan NIK yang sah (16 digit sesuai KTP/KK)" and nik.hint.startswith(
        "Nomor Induk"
    )
    assert errors["/applicant/name"] == "wajib diisi"
    english = Builder(schema, lang="en").form({})
    assert next(f for f in _leaves(english) if f.path == "/applicant/nik").hint.startswith(
        "Population"
    )


def test_inbox_filters_reassignment_and_publishing_through_the_pages(
    client: FlaskClient, ctx: EngineContext
) -> None:
    for key in ("izin-a", "izin-b"):
        models.upload_model(ctx, SYSTEM, "3273", ModelPackage(bpmn=tiny_bpmn(key)))
    boss, token = make_user(ctx, "supervisor", "analyst", "front-office", name="Bu Kepala")
    other, _ = make_user(ctx, "front-office", name="Pak Loket")
    a = applications.start_application(ctx, boss, "3273", "izin-a", {"name": "A"}, {})
    applications.start_application(ctx, boss, "3273", "izin-b", {"name": "B"}, {})
    csrf = signed_in(client, token)

    def inbox(query: str) -> str:
        return client.get(f"/konsol/?{query}").get_data(as_text=True)

    assert "2 tugas" in inbox("") and "1 tugas" in inbox("process=izin-a")
    assert "0 tugas" in inbox("claimed=me") and "2 tugas" in inbox("claimed=free")
    task_id = a.tasks[0].id
    claimed = client.post(f"/konsol/tugas/{task_id}", data={"action": "claim", "csrf_token": csrf})
    assert claimed.status_code == 302
    assert "1 tugas" in inbox("claimed=me") and "1 tugas" in inbox("claimed=free")
    handed = client.post(
        f"/konsol/supervisi/tugas/{task_id}/alihkan",
        data={"user_id": str(other.id), "reason": "cuti", "csrf_token": csrf},
    )
    assert handed.status_code == 302
    assert "Pak Loket" in client.get(f"/konsol/tugas/{task_id}").get_data(as_text=True)
    retired = client.post("/studio/model/izin-b/1/retire", data={"csrf_token": csrf})
    assert retired.status_code == 302
    assert "pensiun" in client.get("/studio/model/izin-b").get_data(as_text=True)
    assert [s["key"] for s in client.get("/api/v1/regions/3273/services").json] == ["izin-a"]



def test_the_inbox_says_at_least_when_its_count_is_capped(
    client: FlaskClient, ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.web import officers
    from engine.domain.views import Page

    _, token = make_user(ctx, "front-office", name="Bu Loket")
    signed_in(client, token)
    assert "0 tugas" in client.get("/konsol/").get_data(as_text=True)
    # The console asks for 100 a page; its count stops at COUNT_CAP (engine/domain/views.py).
    capped = Page([], 1000, 100, 0, total_capped=True)
    monkeypatch.setattr(officers.tasks, "inbox", lambda *a, **k: capped)
    assert "1000+ tugas" in client.get("/konsol/").get_data(as_text=True)
