"""The public service pages never call a formula fee free."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.domain.actors import SYSTEM
from engine.services import models
from tests.factories import ROOT


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
