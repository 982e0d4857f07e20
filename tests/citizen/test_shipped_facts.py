"""The shipped facts corrected (issue #15 item 7): each one pinned here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.modeling import compile_model, read_package_dir
from tests.factories import ROOT

SIP = ROOT / "process_models" / "3510" / "sip-dokter"
DOMISILI = ROOT / "examples" / "sk-domisili"
MODEL_DIRS = sorted(
    p.parent
    for p in [*ROOT.glob("process_models/*/*/model.bpmn"), *ROOT.glob("examples/*/model.bpmn")]
)


def test_sip_dokter_asks_for_no_professional_association_recommendation() -> None:
    """UU 17/2023 art. 264(1): STR and a practice location; an IDI/PDGI letter is an extra
    requirement, exactly what the Ombudsman flags."""
    standard = json.loads((SIP / "standard.json").read_text())
    asked = json.dumps(standard["requirements"]).lower()
    assert "rekomendasi" not in asked and "idi" not in asked and "pdgi" not in asked
    assert {r["code"] for r in standard["requirements"]} >= {
        "str",
        "surat_pernyataan_tempat_praktik",
    }
    for path in [*SIP.glob("forms/*.json"), *SIP.glob("scenarios/*.json")]:
        assert "rekomendasi_organisasi_profesi" not in path.read_text(), path.name
        assert "organisasi profesi" not in path.read_text(), path.name


def test_sip_is_valid_five_years_renewable_and_the_str_for_life() -> None:
    product = json.loads((SIP / "standard.json").read_text())["product"]
    assert "5 (lima) tahun" in product["id"] and "diperpanjang" in product["id"]
    assert "seumur hidup" in product["id"] and "selama STR berlaku" not in product["id"]
    assert "five years and renewable" in product["en"] and "for life" in product["en"]


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda p: p.name)
def test_a_standards_time_limit_is_the_models_process_sla(model_dir: Path) -> None:
    """The time limit a standard publishes is the model's process SLA, never a second figure:
    standard.json types no SLA or fee total of its own (issue #15 item 5)."""
    compiled = compile_model(read_package_dir(model_dir))
    assert compiled.process_sla is not None
    standard = compiled.standard or {}
    assert standard.get("time_limit"), "every standard explains its time limit"
    assert "sla" not in standard["time_limit"]
    assert "total" not in (standard.get("fees") or {}) and "total" not in (standard.get("fee") or {})


def test_sk_domisili_promises_what_its_p1d_sla_means() -> None:
    """P1D is 16:00 of the next working day (DESIGN §3), so "same day" is no promise."""
    standard = json.loads((DOMISILI / "standard.json").read_text())
    assert compile_model(read_package_dir(DOMISILI)).process_sla == "P1D"
    assert "16.00 hari kerja berikutnya" in standard["time_limit"]["id"]
    assert "next working day" in standard["time_limit"]["en"]
    promise = json.dumps(standard["service_guarantee"], ensure_ascii=False).lower()
    assert "hari yang sama" not in promise and "same day" not in promise


def test_sk_domisili_cites_no_civil_registration_regulation() -> None:
    """A domicile letter is a kelurahan's service letter, not an adminduk document."""
    basis = " ".join(json.loads((DOMISILI / "standard.json").read_text())["legal_basis"]).lower()
    for wrong in (
        "108/2019",
        "108 tahun 2019",
        "administrasi kependudukan",
        "adminduk",
        "pencatatan sipil",
    ):
        assert wrong not in basis
    assert "25 tahun 2009" in basis
