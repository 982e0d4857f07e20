"""The public service pages never call a formula fee free."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.domain.actors import SYSTEM
from engine.services import applications, models
from tests.factories import ROOT, make_user


def test_the_pbg_page_shows_its_retribution_by_formula_not_as_free(
    app: Flask, client: FlaskClient
) -> None:
    models.import_directory(app.extensions["permitflow"], SYSTEM, ROOT / "process_models")
    page = client.get("/layanan/3273/pbg").get_data(as_text=True)
    row = next(r for r in page.split("</tr>") if "Pembayaran retribusi PBG" in r)
    assert "Sesuai rumus retribusi yang dipublikasikan (retribusi_pbg 2026.1)" in row
    assert "Gratis" not in row
    assert "ditambah retribusi menurut rumus" in page
    english = client.get("/layanan/3273/pbg?lang=en").get_data(as_text=True)
    assert "By the published charge formula" in english
    catalogue = client.get("/layanan/3273").get_data(as_text=True)  # English kept from above
    assert "plus the charge by formula" in catalogue


def test_the_tracking_page_shows_the_formula_fee_before_the_bill_opens(
    app: Flask, client: FlaskClient
) -> None:
    ctx = app.extensions["permitflow"]
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    officer, _ = make_user(ctx, "front-office")
    started = applications.start_application(ctx, officer, "3273", "pbg", {"name": "Siti"}, {})
    page = client.get(f"/track/{started.tracking_code}", headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert "Sesuai rumus retribusi yang dipublikasikan" in text
    assert "ditambah retribusi menurut rumus" in text
    data = client.get(f"/track/{started.tracking_code}",
                      headers={"Accept": "application/json"}).json
    assert data["fee_schedule"]["formulas"] == ["retribusi_pbg"]


def test_the_service_page_shows_every_component_and_the_example_decree(
    app: Flask, client: FlaskClient
) -> None:
    """Issue #15 item 5: the public page is the whole standard, and a shipped example decree
    says it is one."""
    models.import_directory(app.extensions["permitflow"], SYSTEM, ROOT / "process_models")
    page = client.get("/layanan/3510/sip-dokter").get_data(as_text=True)
    for heading in ("Persyaratan", "Dasar hukum", "Sarana, prasarana, dan/atau fasilitas",
                    "Kompetensi pelaksana", "Pengawasan internal", "Jumlah pelaksana",
                    "Jaminan pelayanan", "Jaminan keamanan dan keselamatan pelayanan",
                    "Evaluasi kinerja pelaksana"):
        assert f">{heading}</h2>" in page, heading
    assert "CONTOH/SP/3510/SIP-DOKTER" in page
    assert "CONTOH, bukan keputusan yang berlaku" in page
