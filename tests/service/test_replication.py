"""Versions (publish, retire), replication across regions with lineage, and the diff."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from api.commands.cli import main
from api.commands.scenarios import load_scenario, run_scenario
from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ModelPackage
from engine.domain.diff import render_text
from engine.modeling import compile_model
from engine.modeling.rewrite import rewrite_model
from engine.persistence.tables import EventRecord, FeeItemRecord, TaskRecord
from engine.services import applications, models, payments, replication, tasks, versions
from engine.services.calendars import region_calendar
from tests.factories import APPLICANT_LOOP_BPMN, ROOT, make_region, make_user, tiny_bpmn, upload

# The shipped PBG's published fee formula, as a diff names it (name@version, hash start).
PBG_FORMULA = "retribusi_pbg@2026.1 ({})".format(
    __import__("engine.domain.fees_formula", fromlist=["x"]).definition_hash(
        json.loads((ROOT / "process_models/3273/pbg/standard.json").read_text())
        ["fee_formulas"]["retribusi_pbg"]
    )[:12]
)

SHIPPED = ROOT / "process_models"
PBG = SHIPPED / "3273" / "pbg"
OVERRIDES = {
    "steps": {
        "pay_retribution": {"fee": 1500000, "sla": "P14D"},
        "check_completeness": {"sla": "p2d"},
        "verify_payment": {"role": "cashier"},
    },
    "roles": {"head-of-office": "kepala-dpmptsp", "technical-team": "tim-teknis"},
    "process": {"sla": "P21D", "title": "Persetujuan Bangunan Gedung (Banyuwangi)"},
}


def pay_open_fees(ctx: EngineContext, app_id, element_id: str, reference: str) -> None:
    for item in payments.fee_items(ctx, SYSTEM, app_id):
        if item["element_id"] == element_id and item["status"] == "open":
            payments.record_payment(ctx, SYSTEM, app_id, item["fee_item"], item["amount"], reference)


def complete_ready(ctx: EngineContext, actor, app_id):
    (task,) = [t for t in applications.get_application(ctx, actor, app_id).tasks if t.state == "ready"]
    if task.fee:
        pay_open_fees(ctx, app_id, task.element_id, f"REF-{task.id.hex[:12]}")
    return tasks.complete_task(ctx, actor, task.id, {})


def fee_rows(ctx: EngineContext, app_id) -> list[tuple]:
    with ctx.uow() as uow:
        rows = uow._session.scalars(select(FeeItemRecord).where(FeeItemRecord.application_id == app_id))
        return sorted((r.element_id, r.amount, r.status) for r in rows)


def task_rows(ctx: EngineContext, app_id) -> list[tuple]:
    with ctx.uow() as uow:
        rows = uow._session.scalars(select(TaskRecord).where(TaskRecord.application_id == app_id))
        return sorted((r.element_id, r.sla, r.fee, r.due_at, r.state) for r in rows)


# -- 1. versions ------------------------------------------------------------------------


def test_running_applications_finish_on_their_version_and_new_ones_take_the_newest_published(
    ctx: EngineContext,
) -> None:
    region = make_region(ctx, "3273")
    analyst, _ = make_user(ctx, "analyst")
    officer, _ = make_user(ctx, "front-office")
    upload(ctx, region, tiny_bpmn(steps=2, fee="5000", sla="P1D"))
    running = [applications.start_application(ctx, officer, region, "tiny", {}, {}) for _ in range(2)]
    before = {a.id: (task_rows(ctx, a.id), fee_rows(ctx, a.id)) for a in running}

    v2 = upload(ctx, region, tiny_bpmn(steps=2, fee="7000", sla="P3D"))
    assert v2.version == 2 and v2.status == "published"
    assert {a.id: (task_rows(ctx, a.id), fee_rows(ctx, a.id)) for a in running} == before
    for app in running:
        done = complete_ready(ctx, officer, app.id)
        done = complete_ready(ctx, officer, app.id)
        assert done.status == "completed" and done.version == 1
        full = applications.get_application(ctx, officer, app.id)
        assert [(t.sla, t.fee) for t in full.tasks] == [("P1D", 5000), ("P1D", 5000)]
        assert [(f[1], f[2]) for f in fee_rows(ctx, app.id)] == [(5000, "paid"), (5000, "paid")]

    fresh = applications.start_application(ctx, officer, region, "tiny", {}, {})
    assert fresh.version == 2 and (fresh.tasks[0].sla, fresh.tasks[0].fee) == ("P3D", 7000)

    retired = versions.retire_version(ctx, analyst, region, "tiny", 2)
    assert retired.status == "retired"
    assert applications.start_application(ctx, officer, region, "tiny", {}, {}).version == 1
    assert complete_ready(ctx, officer, fresh.id).version == 2  # runs on, on its version

    versions.retire_version(ctx, analyst, region, "tiny", 1)
    with pytest.raises(errors.ModelNotPublishedError):
        applications.start_application(ctx, officer, region, "tiny", {}, {})
    versions.publish_version(ctx, analyst, region, "tiny", 2)
    assert applications.start_application(ctx, officer, region, "tiny", {}, {}).version == 2
    assert [v.status for v in models.list_versions(ctx, analyst, region, "tiny")] == [
        "retired", "published"]

    with ctx.uow() as uow:
        events = [(e.action, e.data["version"], e.data["before"], e.data["after"])
                  for e in uow._session.scalars(select(EventRecord).where(EventRecord.action.in_(
                      ["model.published", "model.retired"])).order_by(EventRecord.id))]
    assert events == [
        ("model.retired", 2, {"status": "published"}, {"status": "retired"}),
        ("model.retired", 1, {"status": "published"}, {"status": "retired"}),
        ("model.published", 2, {"status": "retired"}, {"status": "published"}),
    ]


def test_only_admins_and_analysts_of_the_region_change_a_version_status(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    make_region(ctx, "3510")
    upload(ctx, "3273", tiny_bpmn())
    officer, _ = make_user(ctx, "front-office")
    foreign, _ = make_user(ctx, "analyst", region="3510")
    with pytest.raises(errors.PermissionDeniedError):
        versions.retire_version(ctx, officer, "3273", "tiny", 1)
    with pytest.raises(errors.NotFoundError):
        versions.retire_version(ctx, foreign, "3273", "tiny", 1)
    with pytest.raises(errors.NotFoundError):
        versions.retire_version(ctx, SYSTEM, "3273", "tiny", 9)
    assert versions.publish_version(ctx, SYSTEM, "3273", "tiny", 1).status == "published"


# -- 2. replication ---------------------------------------------------------------------


@pytest.fixture
def shipped(ctx: EngineContext) -> None:
    models.import_directory(ctx, SYSTEM, SHIPPED)


def scenario_for_copy(name: str) -> dict:
    """A shipped pbg scenario for the copy: each step is done by its task's own role (the
    copy renamed some), and the retribution is the copy's."""
    scenario = copy.deepcopy(load_scenario(PBG / "scenarios" / f"{name}.json"))
    for step in scenario["steps"]:
        step.pop("role", None)
    scenario["expect"]["total_fees"] = 1500000
    return scenario


def paying(ctx: EngineContext, prefix: str):
    references = iter(range(1, 1000))

    def pay(actor, app, task) -> None:
        pay_open_fees(ctx, app.id, task.element_id, f"{prefix}-{next(references):04d}")

    return pay


LOCAL = {  # Banyuwangi's own facts for a standard copied from Bandung (test values)
    "region": {"code": "3510", "name": "Kabupaten Banyuwangi", "province": "Jawa Timur",
               "timezone": "Asia/Jakarta"},
    "agency": {"id": "DPMPTSP Kabupaten Banyuwangi", "en": "DPMPTSP, Banyuwangi Regency"},
    "complaints": {"channels": [{"type": "sp4n-lapor", "url": "https://www.lapor.go.id"},
                                {"type": "email", "value": "pengaduan@test.banyuwangi"}]},
    "decree": {"number": "TEST/SP/3510/1", "date": "2026-12-01"},
}


def localise(ctx: EngineContext, actor, region: str, key: str, version: int, **changes):
    """Upload over a stored replica the same model with its standard made local."""
    stored = models.get_version(ctx, actor, region, key, version)
    standard = {**(stored.standard or {}), **LOCAL, **changes}
    return models.upload_model(ctx, actor, region, ModelPackage(
        bpmn=stored.bpmn.encode(),
        forms={n: json.dumps(s).encode() for n, s in stored.forms.items()},
        standard=json.dumps(standard).encode()))


def test_a_replicated_procedure_runs_in_the_target_region_with_its_overrides(
    ctx: EngineContext, shipped: None
) -> None:
    bandung_officer, _ = make_user(ctx, "front-office", region="3273")
    waiting = applications.start_application(ctx, bandung_officer, "3273", "pbg", {}, {})
    untouched = (task_rows(ctx, waiting.id), fee_rows(ctx, waiting.id))
    analyst, _ = make_user(ctx, "analyst", region="3510", name="Analis Banyuwangi")

    copy_view = replication.replicate_model(
        ctx, analyst, "3510", "pbg", {"region": "3273", "key": "pbg", "version": 1}, OVERRIDES)

    assert (copy_view.region, copy_view.key, copy_view.version) == ("3510", "pbg", 1)
    assert copy_view.status == "draft"  # its standard is still Bandung's
    with pytest.raises(errors.StandardNotPublishableError) as refused:
        versions.publish_version(ctx, analyst, "3510", "pbg", 1)
    assert [p.field for p in refused.value.problems] == [
        "/region/code", "/agency", "/complaints", "/decree/number"]
    local = localise(ctx, analyst, "3510", "pbg", 1)
    assert (local.version, local.status) == (2, "published")
    assert {k: local.lineage[k] for k in ("source", "origin", "overrides")} == {
        k: copy_view.lineage[k] for k in ("source", "origin", "overrides")}
    assert local.lineage["reupload_of"]["version"] == 1
    assert copy_view.title == "Persetujuan Bangunan Gedung (Banyuwangi)"
    assert copy_view.process_sla == "P21D" and copy_view.total_fee == 1500000
    lineage = copy_view.lineage
    assert lineage["source"] == {"region": "3273", "key": "pbg", "version": 1}
    assert lineage["origin"] == lineage["source"] and lineage["overrides"] == OVERRIDES
    assert lineage["by"] == analyst.label and lineage["at"]
    steps = {s.element_id: s for s in copy_view.steps}
    assert (steps["pay_retribution"].fee, steps["pay_retribution"].sla) == (1500000, "P14D")
    assert steps["verify_payment"].role == "cashier" and steps["sign_pbg"].role == "kepala-dpmptsp"
    assert steps["architecture_review"].role == "tim-teknis"

    result = run_scenario(ctx, "3510", "pbg", scenario_for_copy("happy_path"), pay=paying(ctx, "BWI"))
    assert result.passed, (result.failures, result.application.error)
    done = {t.element_id: t for t in result.application.tasks}
    assert (done["pay_retribution"].fee, done["pay_retribution"].sla) == (1500000, "P14D")
    assert done["check_completeness"].sla == "P2D" and done["verify_payment"].role == "cashier"
    with ctx.uow() as uow:
        calendar = region_calendar(ctx, uow, "3510")
    for task in done.values():
        assert task.due_at == calendar.due(task.ready_at, task.sla)
    assert [(f[1], f[2]) for f in fee_rows(ctx, result.application.id)] == [
        (1500000, "paid")]

    assert (task_rows(ctx, waiting.id), fee_rows(ctx, waiting.id)) == untouched
    source = run_scenario(ctx, "3273", "pbg", load_scenario(PBG / "scenarios" / "happy_path.json"),
                          pay=paying(ctx, "BDG"))
    assert source.passed, source.failures  # the original still charges by its formula


def test_the_stored_copy_is_exactly_what_runs_and_the_diff_shows_exactly_the_overrides(
    ctx: EngineContext, shipped: None
) -> None:
    copy_view = replication.replicate_model(
        ctx, SYSTEM, "3510", "pbg", {"region": "3273", "key": "pbg", "version": 1}, OVERRIDES)
    stored = models.get_version(ctx, SYSTEM, "3510", "pbg", 1)
    recompiled = compile_model(ModelPackage(
        bpmn=stored.bpmn.encode(), forms={n: json.dumps(s).encode() for n, s in stored.forms.items()},
        standard=json.dumps(stored.standard).encode()))
    assert [(s.element_id, s.role, s.sla, s.fee, s.form) for s in recompiled.steps] == [
        (s.element_id, s.role, s.sla, s.fee, s.form) for s in copy_view.steps]
    assert recompiled.title == copy_view.title and recompiled.process_sla == "P21D"
    source = models.get_version(ctx, SYSTEM, "3273", "pbg", 1)
    assert stored.forms == source.forms and stored.standard == source.standard

    diff = versions.diff_versions(ctx, SYSTEM, "3273/pbg@1", "3510/pbg@1")
    assert diff["lineage"]["overrides"] == OVERRIDES
    assert diff["process"] == {
        "title": {"a": "Persetujuan Bangunan Gedung (PBG)", "b": OVERRIDES["process"]["title"]},
        "process_sla": {"a": "P28D", "b": "P21D"},
    }
    assert diff["steps"]["added"] == diff["steps"]["removed"] == diff["steps"]["renamed"] == []
    assert diff["flows"] == {"added": [], "removed": [], "changed": []}
    changed = {c["element_id"]: c["changes"] for c in diff["steps"]["changed"]}
    assert changed == {
        "check_completeness": {"sla": {"a": "P1D", "b": "P2D"}},
        "architecture_review": {"role": {"a": "technical-team", "b": "tim-teknis"}},
        "structural_review": {"role": {"a": "technical-team", "b": "tim-teknis"}},
        "approve_technical_standard": {"role": {"a": "head-of-office", "b": "kepala-dpmptsp"}},
        "issue_rejection_letter": {"role": {"a": "head-of-office", "b": "kepala-dpmptsp"}},
        "pay_retribution": {
            "sla": {"a": "P20D", "b": "P14D"}, "fee": {"a": 0, "b": 1500000},
            "fee_formula": {"a": PBG_FORMULA, "b": None},  # a fixed fee replaces the formula
        },
        "verify_payment": {"role": {"a": "front-office", "b": "cashier"}},
        "sign_pbg": {"role": {"a": "head-of-office", "b": "kepala-dpmptsp"}},
    }
    text = render_text(diff)
    assert text.splitlines()[0] == "diff 3273/pbg@1 -> 3510/pbg@1"
    assert "~ pay_retribution: sla 'P20D' -> 'P14D'; fee 0 -> 1500000; fee_formula" in text
    assert "replicated from 3273/pbg@1" in text
    assert versions.diff_versions(ctx, SYSTEM, "3510/pbg@1", "3273/pbg@1")["lineage"] is None


def test_the_rewritten_file_keeps_ids_and_diagram_and_moves_lanes(ctx: EngineContext) -> None:
    source = (PBG / "model.bpmn").read_bytes()
    out = rewrite_model(source, key="pbg", overrides=OVERRIDES)
    ids = lambda data: sorted(  # noqa: E731
        e.get("id") for e in etree.fromstring(data).iter() if e.get("id"))
    renamed = {"head-of-office": "kepala-dpmptsp", "technical-team": "tim-teknis"}
    assert ids(out) == sorted([renamed.get(i, i) for i in ids(source)] + ["cashier"])
    root = etree.fromstring(out)
    lanes = {lane.get("id"): [r.text for r in lane] for lane in root.iter("{*}lane")}
    assert lanes["cashier"] == ["verify_payment"]
    assert "verify_payment" not in lanes["front-office"]
    shapes = {s.get("bpmnElement"): s for s in root.iter("{*}BPMNShape")}
    assert "kepala-dpmptsp" in shapes and "head-of-office" not in shapes
    original = {s.get("bpmnElement"): etree.tostring(s[0]) for s in etree.fromstring(source).iter(
        "{*}BPMNShape")}
    assert etree.tostring(shapes["verify_payment"][0]) == original["verify_payment"]  # DI kept


ZEEBE_SPIFF = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs"
  targetNamespace="http://permitflow.test">
  <bpmn:process id="mixed" name="Izin campuran" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="check" name="Periksa">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition candidateGroups="front-office"/>
        <zeebe:properties><zeebe:property name="sla" value="P1D"/></zeebe:properties>
        <spiffworkflow:properties><spiffworkflow:property name="fee" value="1000"/></spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_properties_are_changed_where_they_are_written_and_added_when_missing() -> None:
    out = rewrite_model(ZEEBE_SPIFF, key="mixed-copy", overrides={
        "steps": {"check": {"sla": "PT4H", "fee": "2500"}}, "roles": {"front-office": "loket"},
        "process": {"sla": "P3D"}})
    compiled = compile_model(ModelPackage(bpmn=out))
    (step,) = compiled.steps
    assert (compiled.key, compiled.process_sla) == ("mixed-copy", "P3D")
    assert (step.sla, step.fee, step.role) == ("PT4H", 2500, "loket")
    assert b'<zeebe:property name="sla" value="PT4H"/>' in out
    assert b'<spiffworkflow:property name="fee" value="2500"/>' in out
    assert b'<camunda:property name="sla" value="P3D"/>' in out


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"steps": {"nope": {"fee": 1}}}, ["/overrides/steps/nope"]),
        ({"steps": {"step_1": {"sla": "3 hari", "fee": "Rp 1.000"}}},
         ["/overrides/steps/step_1/fee", "/overrides/steps/step_1/sla"]),
        ({"steps": {"step_1": {"fee": -5, "role": "Kepala Dinas"}}},
         ["/overrides/steps/step_1/fee", "/overrides/steps/step_1/role"]),
        ({"steps": {"step_1": {"fee": 1.5, "form": "x.json"}}},
         ["/overrides/steps/step_1/fee", "/overrides/steps/step_1/form"]),
        ({"steps": {"step_1": {"fee": True}}}, ["/overrides/steps/step_1/fee"]),
        ({"roles": {"cashier": "kasir", "front-office": "Loket"}},
         ["/overrides/roles/cashier", "/overrides/roles/front-office"]),
        ({"roles": {"front-office": "step_1"}}, ["/overrides/roles/front-office"]),
        ({"process": {"sla": "P1M", "title": " ", "fee": 1}},
         ["/overrides/process/fee", "/overrides/process/sla", "/overrides/process/title"]),
        ({"stepz": {}}, ["/overrides/stepz"]),
    ],
)
def test_bad_overrides_are_refused_with_every_problem_located(
    ctx: EngineContext, overrides: dict, fields: list[str]
) -> None:
    make_region(ctx, "3273")
    make_region(ctx, "3510")
    upload(ctx, "3273", tiny_bpmn())
    with pytest.raises(errors.InvalidInputError) as refused:
        replication.replicate_model(
            ctx, SYSTEM, "3510", "tiny", {"region": "3273", "key": "tiny", "version": 1}, overrides)
    assert sorted(p.field for p in refused.value.problems) == fields
    with ctx.uow() as uow:
        assert uow.repos.models.get("3510", "tiny") is None


def test_the_key_of_the_copy_is_checked(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    source = {"region": "3273", "key": "tiny", "version": 1}
    with pytest.raises(errors.InvalidInputError) as refused:  # the process id is the key
        replication.replicate_model(ctx, SYSTEM, "3273", "9-bad key", source)
    assert [p.field for p in refused.value.problems] == ["key"]
    with pytest.raises(errors.InvalidInputError) as refused:
        replication.replicate_model(ctx, SYSTEM, "3273", "step_1", source)
    assert [p.element_id for p in refused.value.problems] == ["step_1"]


def test_sources_and_targets_are_checked(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    make_region(ctx, "3510")
    upload(ctx, "3273", tiny_bpmn())
    bandung, _ = make_user(ctx, "analyst", region="3273")
    officer, _ = make_user(ctx, "front-office", region="3510")
    banyuwangi, _ = make_user(ctx, "analyst", region="3510")
    source = {"region": "3273", "key": "tiny", "version": 1}
    with pytest.raises(errors.PermissionDeniedError):
        replication.replicate_model(ctx, officer, "3510", "tiny", source)
    with pytest.raises(errors.NotFoundError):  # another region's models are not the caller's
        replication.replicate_model(ctx, bandung, "3510", "tiny", source)
    with pytest.raises(errors.NotFoundError):
        replication.replicate_model(ctx, banyuwangi, "3510", "tiny", {**source, "version": 2})
    with pytest.raises(errors.InvalidInputError):
        replication.replicate_model(ctx, banyuwangi, "3510", "tiny", {**source, "version": "1"})
    versions.retire_version(ctx, SYSTEM, "3273", "tiny", 1)
    with pytest.raises(errors.ModelNotPublishedError):
        replication.replicate_model(ctx, banyuwangi, "3510", "tiny", source)
    versions.publish_version(ctx, SYSTEM, "3273", "tiny", 1)
    first = replication.replicate_model(ctx, banyuwangi, "3510", "izin-tiny", source)
    assert first.status == "draft"
    with pytest.raises(errors.ModelNotPublishedError):  # a draft is no source
        replication.replicate_model(
            ctx, banyuwangi, "3510", "izin-tiny", {"region": "3510", "key": "izin-tiny",
                                                    "version": 1})
    versions.publish_version(ctx, banyuwangi, "3510", "izin-tiny", 1)  # no standard to localise
    again = replication.replicate_model(
        ctx, banyuwangi, "3510", "izin-tiny", {"region": "3510", "key": "izin-tiny", "version": 1},
        {"process": {"sla": "P2D"}})
    assert (first.key, first.version, again.version) == ("izin-tiny", 1, 2)
    assert again.lineage["origin"] == source  # the originator keeps the credit
    with ctx.uow() as uow:
        actions = uow._session.scalars(select(EventRecord.action).where(
            EventRecord.action == "model.replicated")).all()
    assert len(actions) == 2


# -- 3. diff ----------------------------------------------------------------------------


FORM_A = {"type": "object", "properties": {"nik": {"type": "string"}}}
FORM_B = {"type": "object", "properties": {"nik": {"type": "string", "minLength": 16}},
          "required": ["nik"]}


def test_the_diff_lists_steps_flows_forms_and_process_changes(
    ctx: EngineContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=3, form="f.json"), {"f.json": json.dumps(FORM_A).encode()})
    v2 = tiny_bpmn(steps=2, form="f.json", fee="1000").replace(b'name="Langkah 1"', b'name="Daftar"')
    upload(ctx, "3273", v2, {"f.json": json.dumps(FORM_B).encode()})

    diff = versions.diff_versions(ctx, SYSTEM, "3273/tiny@1", "3273/tiny@2")
    assert [s["element_id"] for s in diff["steps"]["removed"]] == ["step_3"]
    assert diff["steps"]["added"] == []
    assert diff["steps"]["renamed"] == [{"element_id": "step_1", "a": "Langkah 1", "b": "Daftar"}]
    changes = {c["element_id"]: c["changes"] for c in diff["steps"]["changed"]}
    assert changes["step_1"] == {"fee": {"a": 0, "b": 1000},
                                 "form_content": {"paths": ["/properties/nik/minLength", "/required"]}}
    flows = diff["flows"]
    assert [f["id"] for f in flows["removed"]] == ["f3"]
    assert {c["id"]: c["changes"] for c in flows["changed"]} == {
        "f2": {"target": {"a": "step_3", "b": "end"}}}
    assert diff["lineage"] is None and not diff["identical"]

    monkeypatch.setattr("api.commands.cli.engine_context", lambda: ctx)  # disposed by the fixture
    printed = CliRunner().invoke(main, ["models", "diff", "3273/tiny@1", "3273/tiny@2"])
    assert printed.exit_code == 0, printed.output
    assert printed.output == render_text(diff)
    assert "  - step_3 'Langkah 3'" in printed.output
    assert "  ~ f2: target 'step_3' -> 'end'" in printed.output
    refused = CliRunner().invoke(main, ["models", "diff", "3273/tiny", "3273/tiny@2"])
    assert refused.exit_code == 1 and "REGION/KEY@VERSION" in refused.output
    same = versions.diff_versions(ctx, SYSTEM, "3273/tiny@2", "3273/tiny@2")
    assert same["identical"] and render_text(same).endswith("no differences\n")
    with pytest.raises(errors.NotFoundError):
        versions.diff_versions(ctx, SYSTEM, "3273/tiny@1", "3510/tiny@1")


def test_stored_files_are_read_with_the_hardened_parser() -> None:
    from engine.modeling.flows import read_flows

    with pytest.raises(errors.ModelInvalidError):
        read_flows(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>')


def test_the_diff_shows_changed_conditions_and_new_steps(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", APPLICANT_LOOP_BPMN)
    v2 = APPLICANT_LOOP_BPMN.replace(b"complete == True", b"complete == True and signed == True")
    upload(ctx, "3273", v2.replace(b'<bpmn:userTask id="fix" name="Lengkapi berkas">',
                                   b'<bpmn:userTask id="fix" name="Perbaiki berkas">'))
    diff = versions.diff_versions(ctx, SYSTEM, "3273/loop@1", "3273/loop@2")
    assert diff["flows"]["changed"] == [{"id": "f_complete", "changes": {"condition": {
        "a": "complete == True", "b": "complete == True and signed == True"}}}]
    assert diff["steps"]["renamed"] == [
        {"element_id": "fix", "a": "Lengkapi berkas", "b": "Perbaiki berkas"}]
    assert "~ fix: name 'Lengkapi berkas' -> 'Perbaiki berkas'" in render_text(diff)


def test_a_role_named_by_a_lane_name_is_mapped_in_the_name() -> None:
    bpmn = (ROOT / "tests/fixtures/bpmn/runtime/subprocess_first.bpmn").read_bytes()
    out = rewrite_model(bpmn, key="copy", overrides={"roles": {"front-office": "loket"}})
    compiled = compile_model(ModelPackage(bpmn=out))
    assert {step.role for step in compiled.steps} == {"loket"}
    assert b'<bpmn:lane id="Lane_1" name="loket">' in out
