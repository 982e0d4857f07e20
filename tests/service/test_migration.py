"""Migrating running applications to another version: only where the target carries them on."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from api.commands.scenarios import load_scenario
from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.persistence.tables import (
    ApplicationRecord,
    EventRecord,
    FeeItemRecord,
    TaskRecord,
    TimerRecord,
)
from engine.services import applications, instance_migration, models, tasks, versions, worker
from tests.factories import ROOT, TIMER_BPMN, Clock, make_region, make_user, tiny_bpmn, upload

PBG = ROOT / "process_models" / "3273" / "pbg"


def snapshot(ctx: EngineContext) -> dict:
    """Everything a migration may touch, as plain values."""
    with ctx.uow() as uow:
        s = uow._session
        return {
            "apps": sorted((str(a.id), a.model_version_id, a.version, a.row_version, str(a.state))
                           for a in s.scalars(select(ApplicationRecord))),
            "tasks": sorted((str(t.id), t.element_id, t.state, t.due_at, t.fee, t.sla)
                            for t in s.scalars(select(TaskRecord))),
            "fees": sorted((str(f.id), f.amount, f.status) for f in s.scalars(select(FeeItemRecord))),
            "timers": sorted((str(t.id), t.due_at, t.status) for t in s.scalars(select(TimerRecord))),
            "events": s.scalar(select(func.count()).select_from(EventRecord)),
        }


def advance(ctx: EngineContext, officer, app_id, times: int):
    app = None
    for _ in range(times):
        (task,) = [t for t in applications.get_application(ctx, officer, app_id).tasks
                   if t.state == "ready"]
        app = tasks.complete_task(ctx, officer, task.id, {})
    return app


@pytest.fixture
def three_running(ctx: EngineContext):
    """tiny v1 (3 steps) with applications at step 1, 2 and 3 and one completed; v2 adds a
    fourth step after step 3."""
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=3))
    officer, _ = make_user(ctx, "front-office")
    apps = [applications.start_application(ctx, officer, "3273", "tiny", {}, {}) for _ in range(4)]
    advance(ctx, officer, apps[1].id, 1)
    advance(ctx, officer, apps[2].id, 2)
    advance(ctx, officer, apps[3].id, 3)
    upload(ctx, "3273", tiny_bpmn(steps=4))
    return officer, apps


def test_a_dry_run_reports_and_changes_nothing(ctx: EngineContext, three_running) -> None:
    _, apps = three_running
    before = snapshot(ctx)
    report = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 1, 2, dry_run=True)
    assert snapshot(ctx) == before
    assert report["dry_run"] is True
    assert [m["application_id"] for m in report["migrated"]] == [apps[0].id, apps[1].id]
    (refused,) = report["refused"]
    assert refused["application_id"] == apps[2].id and refused["current_steps"] == ["step_3"]
    assert refused["reasons"] == [
        "'step_3' is ready and changed in the target version: outgoing flows"]


def test_movable_applications_move_and_run_on_the_target(ctx: EngineContext, three_running) -> None:
    officer, apps = three_running
    before = snapshot(ctx)
    report = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 1, 2)
    assert len(report["migrated"]) == 2 and len(report["refused"]) == 1
    after = snapshot(ctx)
    assert after["tasks"] == before["tasks"] and after["fees"] == before["fees"]
    moved = {a[0]: a[2] for a in after["apps"]}
    assert [moved[str(a.id)] for a in apps] == [2, 2, 1, 1]
    with ctx.uow() as uow:
        events = [(e.application_id, e.data) for e in uow._session.scalars(
            select(EventRecord).where(EventRecord.action == "application.migrated"))]
    assert sorted(str(i) for i, _ in events) == sorted(str(a.id) for a in apps[:2])
    assert all(d == {"before": {"version": 1}, "after": {"version": 2}} for _, d in events)

    first = advance(ctx, officer, apps[0].id, 4)
    assert first.status == "completed" and first.version == 2
    full = applications.get_application(ctx, officer, first.id)
    assert [t.element_id for t in full.tasks] == ["step_1", "step_2", "step_3", "step_4"]
    assert advance(ctx, officer, apps[1].id, 3).status == "completed"
    stayed = advance(ctx, officer, apps[2].id, 1)
    stayed = applications.get_application(ctx, officer, stayed.id)
    assert stayed.status == "completed" and len(stayed.tasks) == 3
    again = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 1, 2)
    assert again["migrated"] == again["refused"] == []


def test_a_ready_step_declared_otherwise_in_the_target_stays(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    form_a, form_b = b'{"type": "object"}', b'{"type": "object", "required": ["x"]}'
    upload(ctx, "3273", tiny_bpmn(steps=2, form="f.json"), {"f.json": form_a})
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    upload(ctx, "3273", tiny_bpmn(steps=2, fee="5000", form="f.json"), {"f.json": form_a})
    upload(ctx, "3273", tiny_bpmn(steps=2, form="f.json"), {"f.json": form_b})
    (fee,) = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 1, 2)["refused"]
    assert fee["reasons"] == ["the ready step 'step_1' has fee 0 here and 5000 in version 2"]
    (form,) = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 1, 3)["refused"]
    assert form["reasons"] == ["the form 'f.json' of the ready step 'step_1' differs in version 3"]
    assert applications.get_application(ctx, officer, app.id).version == 1


def test_a_waiting_timer_keeps_its_due_time_or_the_application_stays(ctx: EngineContext) -> None:
    clock = Clock(datetime(2026, 7, 6, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    ctx.clock = clock
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "escalation", {}, {})
    upload(ctx, "3273", TIMER_BPMN.replace(b"PT4H", b"PT8H"))
    upload(ctx, "3273", TIMER_BPMN.replace(b'name="Periksa berkas"', b'name="Periksa dokumen"'))
    (refused,) = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "escalation", 1, 2)["refused"]
    assert refused["reasons"] == [
        "'too_slow' is waiting and changed in the target version: event_definition"]
    timers = snapshot(ctx)["timers"]
    assert len(instance_migration.migrate_applications(ctx, SYSTEM, "3273", "escalation", 1, 3)[
        "migrated"]) == 1
    assert snapshot(ctx)["timers"] == timers
    clock.advance(hours=5)
    worker.run_pass(ctx)
    escalated = applications.get_application(ctx, officer, app.id)
    assert escalated.version == 3
    assert [t.element_id for t in escalated.tasks if t.state == "ready"] == ["escalated"]


def pbg_with_fire_review() -> bytes:
    """pbg with a third parallel technical review (fire safety), joined like the others.

    Uploaded with v1's standard.json: its end events issue the documents it declares."""
    bpmn = (PBG / "model.bpmn").read_bytes()
    task = (b'<bpmn:userTask id="fire_review" name="Pemeriksaan proteksi kebakaran">'
            b'<bpmn:extensionElements><camunda:properties>'
            b'<camunda:property name="sla" value="P5D"/><camunda:property name="fee" value="0"/>'
            b"</camunda:properties></bpmn:extensionElements></bpmn:userTask>"
            b'<bpmn:sequenceFlow id="flow_split_to_fire" sourceRef="technical_review_split" '
            b'targetRef="fire_review"/><bpmn:sequenceFlow id="flow_fire_to_join" '
            b'sourceRef="fire_review" targetRef="technical_review_join"/>')
    bpmn = bpmn.replace(b"</bpmn:process>", task + b"</bpmn:process>")
    return bpmn.replace(b"<bpmn:flowNodeRef>structural_review</bpmn:flowNodeRef>",
                        b"<bpmn:flowNodeRef>structural_review</bpmn:flowNodeRef>"
                        b"<bpmn:flowNodeRef>fire_review</bpmn:flowNodeRef>")


def test_a_join_that_would_wait_for_a_branch_never_taken_refuses(ctx: EngineContext) -> None:
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "pbg", {}, {})
    before_split = applications.start_application(ctx, officer, "3273", "pbg", {}, {})
    steps = load_scenario(PBG / "scenarios" / "happy_path.json")["steps"]
    for step in steps[:2]:
        ready = {t.element_id: t for t in applications.get_application(ctx, officer, app.id).tasks}
        tasks.complete_task(ctx, officer, ready[step["task"]].id, step["data"])
    v1 = models.get_version(ctx, SYSTEM, "3273", "pbg", 1)
    forms = {name: json.dumps(schema).encode() for name, schema in v1.forms.items()}
    upload(ctx, "3273", pbg_with_fire_review(), forms, json.dumps(v1.standard).encode())
    (refused,) = instance_migration.migrate_applications(
        ctx, SYSTEM, "3273", "pbg", 1, 2, dry_run=True)["refused"]
    assert sorted(refused["current_steps"]) == ["architecture_review", "structural_review"]
    assert refused["reasons"] == [
        "the join 'technical_review_join' of the process waits in the target version for "
        "'fire_review', which this application will not run: it has passed the split"]
    (moved,) = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "pbg", 1, 2)["migrated"]
    assert moved["application_id"] == before_split.id  # it takes the new split whole
    for step in steps[:2]:
        ready = {t.element_id: t for t in applications.get_application(
            ctx, officer, before_split.id).tasks if t.state == "ready"}
        app_view = tasks.complete_task(ctx, officer, ready[step["task"]].id, step["data"])
    assert sorted(t.element_id for t in app_view.tasks if t.state == "ready") == [
        "architecture_review", "fire_review", "structural_review"]


def test_migration_is_for_admins_and_analysts_onto_published_versions(
    ctx: EngineContext, three_running
) -> None:
    officer, _ = three_running
    with pytest.raises(errors.PermissionDeniedError):
        instance_migration.migrate_applications(ctx, officer, "3273", "tiny", 1, 2)
    with pytest.raises(errors.InvalidInputError):
        instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 2, 2)
    with pytest.raises(errors.NotFoundError):
        instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 1, 7)
    versions.retire_version(ctx, SYSTEM, "3273", "tiny", 2)
    with pytest.raises(errors.ModelNotPublishedError):
        instance_migration.migrate_applications(ctx, SYSTEM, "3273", "tiny", 1, 2)


def test_an_application_in_parallel_steps_moves_when_the_change_lies_ahead(
    ctx: EngineContext,
) -> None:
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    officer, _ = make_user(ctx, "front-office")
    reviewer, _ = make_user(ctx, "technical-team")
    app = applications.start_application(ctx, officer, "3273", "pbg", {}, {})
    steps = {s["task"]: s for s in load_scenario(PBG / "scenarios" / "happy_path.json")["steps"]}
    for name in ("register_application", "check_completeness"):
        ready = {t.element_id: t for t in applications.get_application(ctx, officer, app.id).tasks}
        tasks.complete_task(ctx, officer, ready[name].id, steps[name]["data"])
    v1 = models.get_version(ctx, SYSTEM, "3273", "pbg", 1)
    forms = {name: json.dumps(schema).encode() for name, schema in v1.forms.items()}
    v2 = (PBG / "model.bpmn").read_bytes().replace(
        b'name="feeFormula" value="retribusi_pbg"', b'name="fee" value="3000000"')
    # With v1's standard.json: the end events issue documents it declares (a fixed fee
    # leaves the standard's formula unused, which upload accepts).
    upload(ctx, "3273", v2.replace(b'name="Persetujuan Bangunan Gedung (PBG)"',
                                   b'name="Persetujuan Bangunan Gedung"'), forms,
           json.dumps(v1.standard).encode())
    (moved,) = instance_migration.migrate_applications(ctx, SYSTEM, "3273", "pbg", 1, 2)["migrated"]
    assert sorted(moved["current_steps"]) == ["architecture_review", "structural_review"]
    for name in ("architecture_review", "structural_review", "approve_technical_standard",
                 "issue_skrd"):
        actor = reviewer if name.endswith("review") else SYSTEM
        ready = {t.element_id: t for t in applications.get_application(ctx, SYSTEM, app.id).tasks
                 if t.state == "ready"}
        view = tasks.complete_task(ctx, actor, ready[name].id, steps[name]["data"])
    assert (view.version, view.title) == (2, "Persetujuan Bangunan Gedung")
    (payment,) = [t for t in view.tasks if t.state == "ready"]
    assert (payment.element_id, payment.fee) == ("pay_retribution", 3000000)
