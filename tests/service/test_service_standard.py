"""The service standard, complete and true (issue #15 item 5): the 14 components at upload,
no second figure for what the model says, a decree before publication, the diff."""

from __future__ import annotations

import json

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ModelPackage
from engine.domain.diff import render_text
from engine.domain.service_standard import COMPONENTS
from engine.modeling import compile_model
from engine.services import models, standards, versions
from tests.factories import (
    APPLICANT_LOOP_BPMN,
    complete_standard,
    make_region,
    tiny_bpmn,
    upload,
)

FROM_STANDARD = [c for c in COMPONENTS if c.source == "standard"]


def refusal(bpmn: bytes, standard: dict) -> list[dict]:
    with pytest.raises(errors.ModelInvalidError) as refused:
        compile_model(ModelPackage(bpmn=bpmn, standard=json.dumps(standard).encode()))
    return [p.as_dict() for p in refused.value.problems]


def test_the_list_is_the_fourteen_components_of_the_regulation() -> None:
    """UU 25/2009 art. 21, PermenPAN-RB 15/2014 (permit-domain §1.2), numbered 1-14 once."""
    assert [c.number for c in COMPONENTS] == list(range(1, 15))
    assert {c.name_id for c in COMPONENTS} >= {
        "Dasar hukum", "Persyaratan", "Sistem, mekanisme, dan prosedur", "Jangka waktu pelayanan",
        "Biaya/tarif", "Produk pelayanan", "Sarana, prasarana, dan/atau fasilitas",
        "Kompetensi pelaksana", "Pengawasan internal", "Penanganan pengaduan, saran, dan masukan",
        "Jumlah pelaksana", "Jaminan pelayanan", "Jaminan keamanan dan keselamatan pelayanan",
        "Evaluasi kinerja pelaksana"}
    # The procedure, the time limit and the fees are the model's, never typed twice.
    assert [c.number for c in COMPONENTS if c.source == "model"] == [2, 3, 4]


@pytest.mark.parametrize("component", FROM_STANDARD, ids=lambda c: c.key)
def test_a_standard_missing_a_component_is_refused_with_its_name(component) -> None:
    for empty in (None, " ", [], {}):  # None: the key is left out
        (problem,) = refusal(APPLICANT_LOOP_BPMN, complete_standard(**{component.key: empty}))
        assert problem["file"] == "standard.json" and problem["field"] == f"/{component.key}"
        assert f"komponen {component.number}, {component.name_id}" in problem["message"]


def test_every_missing_component_is_named_in_one_answer() -> None:
    problems = refusal(APPLICANT_LOOP_BPMN, {"decree": {"number": "X"}})
    assert sorted(p["field"] for p in problems) == sorted(f"/{c.key}" for c in FROM_STANDARD)


def test_the_time_limit_comes_from_the_model() -> None:
    no_sla = tiny_bpmn()  # its process declares no sla
    (problem,) = refusal(no_sla, complete_standard())
    assert problem["field"] == "sla" and problem["element_id"] == "tiny"
    assert "Jangka waktu pelayanan" in problem["message"]


def test_a_figure_that_contradicts_the_model_is_refused_naming_both() -> None:
    bpmn = APPLICANT_LOOP_BPMN  # process sla P3D
    problems = refusal(bpmn, complete_standard(time_limit={"sla": "P5D", "id": "5 hari"}))
    assert [(p["field"], p["file"]) for p in problems] == [("/time_limit/sla", "standard.json")]
    assert "'P5D'" in problems[0]["message"] and "'P3D'" in problems[0]["message"]

    problems = refusal(bpmn, complete_standard(fees={"total": 50000}))
    assert [p["field"] for p in problems] == ["/fees/total"]
    assert "50000" in problems[0]["message"] and ", 0" in problems[0]["message"]

    compiled = compile_model(ModelPackage(bpmn=bpmn, standard=json.dumps(complete_standard(
        time_limit={"sla": "p3d"}, fees={"total": 0})).encode()))
    assert compiled.process_sla == "P3D"  # saying what the model says is allowed

    step = compiled.steps[0]
    problems = refusal(bpmn, complete_standard(procedure=[
        {"element_id": step.element_id, "sla": step.sla, "fee": 10, "role": step.role},
        {"element_id": "nowhere"}]))
    assert sorted(p["field"] for p in problems) == ["/procedure/0/fee", "/procedure/1"]


def test_a_standard_without_its_decree_is_a_draft_until_the_decree_is_there(
    ctx: EngineContext,
) -> None:
    make_region(ctx)
    bpmn = APPLICANT_LOOP_BPMN
    draft = upload(ctx, "3273", bpmn, standard=json.dumps(
        complete_standard(decree={"number": "", "date": None})).encode())
    assert draft.status == "draft"
    with pytest.raises(errors.NotFoundError):  # nothing published: no public standard
        standards.service_standard(ctx, "3273", "loop")
    with pytest.raises(errors.StandardNotPublishableError) as refused:
        versions.publish_version(ctx, SYSTEM, "3273", "loop", 1)
    assert [(p.field, p.file) for p in refused.value.problems] == [
        ("/decree/number", "standard.json")]
    with pytest.raises(errors.ModelNotPublishedError):
        from engine.services import applications

        applications.start_application(ctx, SYSTEM, "3273", "loop", {}, {})

    decreed = upload(ctx, "3273", bpmn, standard=json.dumps(complete_standard()).encode())
    assert (decreed.version, decreed.status) == (2, "published")
    public = standards.service_standard(ctx, "3273", "loop")
    assert public["version"] == 2 and public["totals"]["legal_sla"] == "P3D"
    assert public["standard"]["decree"]["number"] == "TEST/SP/3273/1"
    # A bare BPMN has no public standard to withhold: published as before.
    assert upload(ctx, "3273", tiny_bpmn("bare")).status == "published"


def test_the_diff_covers_the_standard(ctx: EngineContext) -> None:
    make_region(ctx)
    bpmn = APPLICANT_LOOP_BPMN
    upload(ctx, "3273", bpmn, standard=json.dumps(complete_standard()).encode())
    changed = complete_standard(
        legal_basis=["UU 25/2009", "Perda Kota Bandung (uji)"],
        decree={"number": "TEST/SP/3273/2", "date": "2026-06-01"},
        staffing=None, note="extra")
    with pytest.raises(errors.ModelInvalidError):  # staffing is a component
        upload(ctx, "3273", bpmn, standard=json.dumps(changed).encode())
    changed["staffing"] = [{"role": "front-office", "count": 3}]
    upload(ctx, "3273", bpmn, standard=json.dumps(changed).encode())

    diff = versions.diff_versions(ctx, SYSTEM, "3273/loop@1", "3273/loop@2")
    assert not diff["identical"] and diff["steps"]["changed"] == []
    assert [(c["key"], c["component"]) for c in diff["standard"]] == [
        ("decree", None), ("legal_basis", 7), ("note", None), ("staffing", 11)]
    assert diff["standard"][3]["a"] == [{"role": "front-office", "count": 2}]
    text = render_text(diff)
    assert "standard:\n" in text
    assert "  ~ legal_basis (komponen 7, Dasar hukum): /legal_basis\n" in text
    assert "  ~ decree: /decree/date, /decree/number" in text
    same = versions.diff_versions(ctx, SYSTEM, "3273/loop@2", "3273/loop@2")
    assert same["identical"] and same["standard"] == []
    assert models.get_version(ctx, SYSTEM, "3273", "loop", 2).status == "published"


def test_replication_checks_the_copied_standard_too(ctx: EngineContext) -> None:
    """A source stored before the check (here: its standard emptied in the database) is not
    copied with a component missing; the copy of a complete one is a draft."""
    from sqlalchemy import select

    from engine.persistence.tables import ModelVersionRecord
    from engine.services import replication

    make_region(ctx, "3273")
    make_region(ctx, "3510")
    upload(ctx, "3273", APPLICANT_LOOP_BPMN, standard=json.dumps(complete_standard()).encode())
    upload(ctx, "3273", APPLICANT_LOOP_BPMN, standard=json.dumps(
        complete_standard(note="v2")).encode())
    with ctx.uow() as uow:
        old = uow._session.scalars(select(ModelVersionRecord).where(
            ModelVersionRecord.version == 1)).one()
        old.standard = {k: v for k, v in old.standard.items() if k != "legal_basis"}
        uow.commit()
    with pytest.raises(errors.ModelInvalidError) as refused:
        replication.replicate_model(
            ctx, SYSTEM, "3510", "loop", {"region": "3273", "key": "loop", "version": 1})
    assert [(p.file, p.field) for p in refused.value.problems] == [
        ("standard.json", "/legal_basis")]
    copied = replication.replicate_model(
        ctx, SYSTEM, "3510", "loop", {"region": "3273", "key": "loop", "version": 2})
    assert (copied.version, copied.status) == (1, "draft")
