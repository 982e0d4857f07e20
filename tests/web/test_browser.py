"""The web console in a real headless Chromium: what officers, analysts and citizens see."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.domain.actors import SYSTEM
from engine.services import applications, standards, tasks
from tests.web.conftest import ROOT, Site, axe_violations, shot, sign_in, sign_out, wait_diagrams

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PBG = ROOT / "process_models" / "3273" / "pbg"
# Swagger UI's operation headers nest a button in a button (swagger-api/swagger-ui upstream);
# the rest of /api/docs is checked.
SWAGGER_UPSTREAM = (".swagger-ui .opblock-summary",)
STAFF_OF_ROLE = {"front-office": "loket", "technical-team": "teknis", "head-of-office": "kepala"}


def fill_form(page: Any, data: dict[str, Any], path: str = "") -> None:
    """Type `data` into the step form, field by field (inputs are named by JSON pointer)."""
    for key, value in data.items():
        pointer = f"{path}/{key}"
        if isinstance(value, dict):
            fill_form(page, value, pointer)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value):
                if page.locator(f'[name^="{pointer}/{i}/"]').count() == 0:
                    with page.expect_navigation():
                        page.locator(f'button[value="add:{pointer}"]').click()
                fill_form(page, row, f"{pointer}/{i}")
        elif isinstance(value, list):
            for item in value:
                page.locator(f'input[name="{pointer}"][value="{item}"]').check()
        elif isinstance(value, bool):
            page.locator(f'input[name="{pointer}"]').set_checked(value)
        else:
            field = page.locator(f'[name="{pointer}"]')
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(str(value))
            else:
                field.fill(str(value))


def press(page: Any, name: str, **options: Any) -> None:
    """Click a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, **options).click()


def marker_of(page: Any, diagram: str, element_id: str) -> list[str]:
    """The CSS classes bpmn-js gave an element's group in one diagram."""
    classes: list[str] = page.evaluate(
        "([d, id]) => [...(document.querySelector(`#${d} [data-element-id='${id}']`)"
        "?.classList || [])]",
        [diagram, element_id],
    )
    return classes


def become(page: Any, site: Site, label: str, current: list[str]) -> None:
    """Switch the browser's session to staff member `label`."""
    if current and current[0] == label:
        return
    if current:
        sign_out(page)
    sign_in(page, site, label)
    current[:] = [label]


def test_an_officer_works_a_pbg_application_from_the_counter_to_the_signed_permit(
    page: Any, site: Site
) -> None:
    scenario = json.loads((PBG / "scenarios" / "happy_path.json").read_text("utf-8"))
    names = {
        s["element_id"]: s["name"]
        for s in standards.service_standard(site.ctx, "3273", "pbg")["procedure"]
    }
    who: list[str] = []
    become(page, site, "loket", who)
    page.goto(site.url("/konsol/mulai"))
    page.get_by_label("Proses").select_option("pbg")
    page.get_by_label("Nama pemohon").fill(scenario["applicant"]["name"])
    page.get_by_label("NIK pemohon").fill(scenario["applicant"]["nik"])
    press(page, "Daftarkan permohonan")
    assert "Permohonan terdaftar dengan kode lacak PF-" in page.content()
    app_url = page.locator("main p.muted a").first.get_attribute("href")

    # A wrong NIK is refused beside its field, in Indonesian.
    page.locator('[name="/applicant/nik"]').fill("123")
    press(page, "Selesaikan tahap")
    nik_error = page.locator("#f-applicant-nik-error")
    assert "bukan NIK yang sah" in nik_error.inner_text()
    assert page.locator('[name="/applicant/nik"]').get_attribute("aria-invalid") == "true"
    shot(page, "officer-step-form-errors")

    for step in scenario["steps"]:
        if step["pay"]:
            become(page, site, step["role"] and STAFF_OF_ROLE[step["role"]], who)
            page.goto(site.url(app_url))
            with page.expect_navigation():
                page.get_by_role("link", name=names[step["task"]], exact=True).click()
            fill_form(page, step["data"])
            press(page, "Selesaikan tahap")
            assert "Biaya tahap ini belum dibayar" in page.content()  # the 409, in plain words
            shot(page, "officer-step-fee-unpaid")
            become(page, site, "kasir", who)
            page.goto(site.url(app_url))
            page.locator("#ref-1").fill("VA-9001-2026")
            press(page, "Catat pembayaran")
            assert "Pembayaran tercatat; kuitansi 3273/" in page.content()
            shot(page, "officer-application-paid")
        become(page, site, STAFF_OF_ROLE[step["role"]], who)
        page.goto(site.url(app_url))
        with page.expect_navigation():
            page.get_by_role("link", name=names[step["task"]], exact=True).click()
        fill_form(page, step["data"])
        press(page, "Selesaikan tahap")
        assert "Tahap selesai." in page.content(), page.locator(".error-summary").all_inner_texts()

    page.goto(site.url(app_url))
    assert "Selesai" in page.locator("main .badge").first.inner_text()
    states = wait_diagrams(page)
    assert states[0]["ready"] == "1"
    assert "pf-done" in marker_of(page, "diagram", "sign_pbg")
    # The citizen's tracking page lists the issued permit; its check says genuine.
    code = page.locator("main strong.code").first.inner_text()
    page.goto(site.url(f"/track/{code}"))
    with page.expect_navigation():
        page.get_by_role("link", name="Periksa keaslian").first.click()
    assert page.locator("[data-genuine]").first.get_attribute("data-genuine") == "true"
    assert page.locator("[data-holder]").inner_text() == scenario["applicant"]["name"]
    shot(page, "citizen-verify-genuine")
    assert not page.problems, page.problems


def _apply_and_work_first_step(site: Site) -> Any:
    from tests.factories import make_user

    actor, _ = make_user(site.ctx, "front-office", name="Loket 2")
    started = applications.start_application(site.ctx, actor, "3273", "pbg", {"name": "Budi"}, {})
    first = next(t for t in started.tasks if t.state == "ready")
    data = json.loads((PBG / "scenarios" / "happy_path.json").read_text("utf-8"))["steps"][0][
        "data"
    ]
    return tasks.complete_task(site.ctx, actor, first.id, data)


def test_a_citizen_tracks_an_application_at_phone_width(browser: Any, site: Site) -> None:
    app = _apply_and_work_first_step(site)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    page.goto(site.url("/"))
    page.get_by_label("Kode lacak").fill(app.tracking_code.lower())
    press(page, "Lacak")
    assert page.get_by_role("heading", name="Tahap saat ini").is_visible()
    wait_diagrams(page)
    current = next(t for t in app.tasks if t.state == "ready")
    assert "pf-current" in marker_of(page, "diagram", current.element_id)
    assert "pf-done" in marker_of(page, "diagram", "register_application")
    assert page.locator(".pf-overlay-due").count() == 1  # the current step's due time
    assert "Budi" not in page.content()  # no personal data on the public page
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    shot(page, "citizen-tracking-phone")
    page.goto(site.url("/track/PF-0000-0000-0000-000O"))
    assert "Kode lacak tidak ditemukan" in page.content()
    assert page.get_by_label("Kode lacak").is_visible()
    context.close()


def _make_overdue(site: Site, task_id: Any) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import update

    from engine.persistence.tables import TaskRecord

    with site.ctx.session_factory() as session:
        late = datetime(2026, 1, 5, 9, tzinfo=UTC)
        session.execute(update(TaskRecord).where(TaskRecord.id == task_id).values(due_at=late))
        session.commit()


def _broken_sk_domisili() -> bytes:
    xml = (ROOT / "examples" / "sk-domisili" / "model.bpmn").read_text("utf-8")
    xml = re.sub(
        r'(<bpmn:userTask id="verify_documents"[^>]*>.*?)<camunda:property name="fee" value="0"\s*/>',
        r"\1",
        xml,
        count=1,
        flags=re.S,
    )
    xml = re.sub(
        r'(<bpmn:userTask id="sign_letter"[^>]*>.*?<camunda:property name="sla" value=")[^"]*"',
        r'\1sebentar"',
        xml,
        count=1,
        flags=re.S,
    )
    return xml.encode()


def test_an_analyst_sees_each_problem_pinned_on_its_element(
    page: Any, site: Site, tmp_path: Path
) -> None:
    broken = tmp_path / "model.bpmn"
    broken.write_bytes(_broken_sk_domisili())
    forms = sorted((ROOT / "examples" / "sk-domisili" / "forms").glob("*.json"))
    sign_in(page, site, "analis")
    page.goto(site.url("/studio/"))
    page.get_by_label("Berkas BPMN (model.bpmn)").set_input_files(str(broken))
    page.get_by_label("Formulir (forms/*.json, boleh lebih dari satu)").set_input_files(
        [str(f) for f in forms]
    )
    press(page, "Unggah dan periksa")
    assert "Model ditolak" in page.content()
    states = wait_diagrams(page)
    rows = page.locator("#problem-list tbody tr")
    elements = {r for r in rows.evaluate_all("rs => rs.map(r => r.dataset.element)") if r}
    assert {"verify_documents", "sign_letter"} <= elements
    pinned = set(
        page.evaluate(
            "() => [...document.querySelectorAll('.djs-overlays')]"
            ".filter(o => o.querySelector('.pf-overlay-problem')).map(o => o.dataset.containerId)"
        )
    )
    assert pinned == elements, (pinned, elements)
    assert states[0]["pinned"] == rows.evaluate_all(
        "rs => rs.filter(r => r.dataset.element).length"
    )
    for element in elements:
        assert "pf-problem" in marker_of(page, "upload-diagram", element)
    shot(page, "analyst-upload-problems")
    assert not page.problems, page.problems


def test_replicating_from_a_form_and_the_diff_colours_the_changed_steps(
    page: Any, site: Site
) -> None:
    sign_in(page, site, "analis")
    page.goto(site.url("/studio/replikasi?source=3510/sip-dokter@1"))
    step_id = page.locator("input[name^='fee:']").first.get_attribute("name").split(":", 1)[1]
    page.locator(f'input[name="fee:{step_id}"]').fill("50000")
    page.get_by_label("SLA proses (mis. P21D)").fill("P10D")
    press(page, "Replikasi", exact=True)
    assert "Replika tersimpan sebagai versi 1" in page.content()
    page.goto(site.url("/studio/beda?a=3510/sip-dokter@1&b=3273/sip-dokter@1"))
    wait_diagrams(page)
    assert "pf-changed" in marker_of(page, "diagram-a", step_id)
    assert "pf-changed" in marker_of(page, "diagram-b", step_id)
    assert f"~ {step_id}: fee 0 -> 50000" in page.locator("pre.diff-text").inner_text() or (
        step_id in page.locator("pre.diff-text").inner_text()
    )
    shot(page, "analyst-diff")
    assert not page.problems, page.problems


def test_every_page_passes_axe_and_breaks_no_csp_rule(page: Any, site: Site) -> None:
    app = _apply_and_work_first_step(site)
    task = next(t.id for t in app.tasks if t.state == "ready")
    _make_overdue(site, task)  # so the inbox, supervision and report pages show one
    pages = {  # who is signed in -> (screenshot name, path)
        None: [
            ("citizen-home", "/"),
            ("citizen-catalogue", "/layanan/3273"),
            ("citizen-service", "/layanan/3273/pbg"),
            ("citizen-tracking", f"/track/{app.tracking_code}"),
            ("citizen-tracking-not-found", "/track/PF-0000-0000-0000-0000"),
            ("citizen-verify-form", "/periksa"),
            ("citizen-verify-unknown", "/verify/PBG-3273-2026-999999"),
            ("sign-in", "/masuk"),
            ("api-docs", "/api/docs"),
        ],
        "loket": [
            ("officer-inbox", "/konsol/"),
            ("officer-application", f"/konsol/permohonan/{app.id}"),
            ("officer-new-application", "/konsol/mulai"),
            ("officer-task", f"/konsol/tugas/{task}"),
        ],
        "supervisor": [
            ("supervisor-overdue", "/konsol/supervisi/"),
            ("supervisor-sla-report", "/konsol/supervisi/laporan"),
        ],
        "analis": [
            ("analyst-studio", "/studio/"),
            ("analyst-versions", "/studio/model/pbg"),
            ("analyst-replicate", "/studio/replikasi?source=3510/sip-dokter@1"),
        ],
    }
    found = {}
    for label, visits in pages.items():
        if label:
            page.context.clear_cookies()
            sign_in(page, site, label)
        for name, path in visits:
            page.goto(site.url(path))
            if page.locator(".pf-diagram").count():
                assert all(d["ready"] == "1" for d in wait_diagrams(page)), path
            if path == "/api/docs":
                page.wait_for_selector(".swagger-ui .info")
            shot(page, name)
            violations = axe_violations(page, SWAGGER_UPSTREAM if path == "/api/docs" else ())
            if violations:
                found[path] = violations
    assert not found, json.dumps(found, indent=1)
    assert not page.problems, page.problems


def test_a_step_named_like_a_script_shows_as_text(page: Any, site: Site) -> None:
    from engine.domain.definitions import ModelPackage
    from engine.services import models
    from tests.factories import tiny_bpmn

    evil = "&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.pwned=2&quot;&gt;"
    xml = tiny_bpmn("jahat", steps=1).replace(b'name="Langkah 1"', f'name="{evil}"'.encode())
    xml = xml.replace(b'name="Izin jahat"', f'name="Izin {evil}"'.encode())
    models.upload_model(site.ctx, SYSTEM, "3273", ModelPackage(bpmn=xml))
    page.goto(site.url("/layanan/3273/jahat"))
    wait_diagrams(page)
    assert page.evaluate("() => window.pwned") is None
    assert "<script>window.pwned=1</script>" in page.locator("main table").inner_text()
    assert "<img src=x" in page.locator("main table").inner_text()
    assert page.locator("main img").count() == 0
