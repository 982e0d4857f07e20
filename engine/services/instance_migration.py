"""Moving running applications from one version of a model to another (DESIGN §5).

An application moves only when the target version can carry it on from exactly where it
is: the workflow checks of `engine.workflow.instance_migration` hold, and each of its ready steps is
declared the same in both versions (role, SLA, fee, form and the form's schema), so its
task row, due time and open fee item stay true to the version it is now on. Every other
application stays on its version, and the report says why.

Each application moves in its own transaction (state, version and audit event together):
one application changed by an officer meanwhile must not hold back, or undo, the others.
A dry run writes nothing at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, ANALYST, Actor
from engine.domain.errors import InvalidInputError, ModelNotPublishedError
from engine.domain.problems import Problem
from engine.domain.statuses import ApplicationStatus, StepStatus
from engine.persistence.tables import ApplicationRecord, ModelVersionRecord
from engine.services.access import require_roles
from engine.services.audit import record_event
from engine.services.calls import bind_calls, joined_spec_dict, load_bound
from engine.services.versions import PUBLISHED, find_version
from engine.unit_of_work import UnitOfWork
from engine.workflow.instance_migration import migrate_state, migration_problems
from engine.workflow.outcome import LoadedSpec

_DECLARED = ("kind", "role", "sla", "fee", "form")


@dataclass(frozen=True)
class _Versions:
    """The two versions, as plain values read once."""

    region: str
    source_id: int
    target_id: int
    source_number: int
    target_number: int
    source_spec: dict[str, Any]
    target_spec: dict[str, Any]
    source_steps: dict[str, dict[str, Any]]
    target_steps: dict[str, dict[str, Any]]
    source_forms: dict[str, Any]
    target_forms: dict[str, Any]
    target_title: str


def migrate_applications(
    ctx: EngineContext,
    actor: Actor,
    region: str,
    key: str,
    from_version: int,
    to_version: int,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Move every running application on `from_version` that can move to `to_version`
    (a published version of the same model); report each refused one with its reasons.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError (same version),
    ModelNotPublishedError (a retired target).
    """
    require_roles(actor, ADMIN, ANALYST, action="migrating applications")
    if from_version == to_version:
        raise InvalidInputError(
            "migrate to another version",
            [Problem("from_version and to_version are the same", field="to_version")],
        )
    with ctx.uow() as uow:
        versions, ids = _read_versions(uow, actor, region, key, from_version, to_version)
    loaded = ctx.runtime.load_spec(versions.target_id, versions.target_spec)
    migrated: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for application_id in ids:
        entry = _migrate_one(ctx, actor, versions, loaded, application_id, dry_run)
        (refused if entry["reasons"] else migrated).append(entry)
    return {
        "region": region,
        "key": key,
        "from_version": from_version,
        "to_version": to_version,
        "dry_run": dry_run,
        "migrated": migrated,
        "refused": refused,
    }


def _read_versions(
    uow: UnitOfWork, actor: Actor, region: str, key: str, number_a: int, number_b: int
) -> tuple[_Versions, list[uuid.UUID]]:
    source = find_version(uow, actor, region, key, number_a, with_blobs=True)
    target = find_version(uow, actor, region, key, number_b, with_blobs=True)
    if target.status != PUBLISHED:
        raise ModelNotPublishedError(
            f"version {number_b} of {key} is {target.status}; "
            "applications move only onto a published version"
        )
    ids = list(uow.repos.versions.running_on(source.id))
    return _versions(region, source, target), ids


def _versions(region: str, source: ModelVersionRecord, target: ModelVersionRecord) -> _Versions:
    return _Versions(
        region,
        source.id,
        target.id,
        source.version,
        target.version,
        source.spec,
        target.spec,
        {s["element_id"]: s for s in source.steps},
        {s["element_id"]: s for s in target.steps},
        dict(source.forms),
        dict(target.forms),
        target.title,
    )


def _migrate_one(
    ctx: EngineContext,
    actor: Actor,
    versions: _Versions,
    loaded: LoadedSpec,
    application_id: uuid.UUID,
    dry_run: bool,
) -> dict[str, Any]:
    now = ctx.clock()
    with ctx.uow() as uow:
        app = uow.repos.applications.get(application_id, for_update=True)
        assert app is not None
        ready = [t for t in uow.repos.tasks.for_application(app.id) if t.state == StepStatus.READY]
        reasons = [f"no longer running on version {versions.source_number}"]
        bindings: dict[str, Any] | None = None
        if app.status == ApplicationStatus.RUNNING and app.model_version_id == versions.source_id:
            try:
                # Calls stay bound where they are; calls new in the target are bound now.
                bindings = bind_calls(
                    ctx, uow, versions.region, versions.target_id, app.called_versions
                )
                if bindings or app.called_versions:
                    _, loaded = load_bound(ctx, uow, versions.target_id, bindings)
            except ModelNotPublishedError as exc:
                reasons = [str(exc)]
            else:
                source = joined_spec_dict(uow, versions.source_spec, app.called_versions)
                target = joined_spec_dict(uow, versions.target_spec, bindings)
                reasons = migration_problems(app.state, source, target)
                reasons += [
                    r
                    for t in ready
                    if not _called_step(t.element_id, versions, app.called_versions)
                    for r in _step_problems(t.element_id, versions)
                ]
        entry = {
            "application_id": app.id,
            "tracking_code": app.tracking_code,
            "current_steps": [t.element_id for t in ready],
            "reasons": reasons,
        }
        if reasons or dry_run:
            return entry
        _move(uow, actor, app, versions, loaded, now)
        app.called_versions = bindings
        uow.commit()
        return entry


def _called_step(
    element_id: str, versions: _Versions, called: dict[str, Any] | None
) -> bool:
    """A step of a called model (neither version declares it): its binding is kept, so it is
    declared the same after the move."""
    return bool(called) and (
        element_id not in versions.source_steps and element_id not in versions.target_steps
    )


def _step_problems(element_id: str, versions: _Versions) -> list[str]:
    old = versions.source_steps.get(element_id)
    new = versions.target_steps.get(element_id)
    if old is None or new is None:
        return [f"the ready step {element_id!r} is not a step of version {versions.target_number}"]
    reasons = [
        f"the ready step {element_id!r} has {field} {old.get(field)!r} here and "
        f"{new.get(field)!r} in version {versions.target_number}"
        for field in _DECLARED
        if old.get(field) != new.get(field)
    ]
    form = old.get("form")
    if form and versions.source_forms.get(form) != versions.target_forms.get(form):
        reasons.append(
            f"the form {form!r} of the ready step {element_id!r} differs in "
            f"version {versions.target_number}"
        )
    return reasons


def _move(
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    versions: _Versions,
    loaded: LoadedSpec,
    now: Any,
) -> None:
    """Restore onto the target and save; task rows, due times and fee items stay as they are."""
    app.state = migrate_state(app.state, loaded)
    app.model_version_id, app.version = versions.target_id, versions.target_number
    app.title, app.updated_at = versions.target_title, now
    record_event(
        uow,
        actor=actor,
        action="application.migrated",
        subject=f"application:{app.id}",
        at=now,
        region_code=app.region_code,
        application_id=app.id,
        data={
            "before": {"version": versions.source_number},
            "after": {"version": versions.target_number},
        },
    )
