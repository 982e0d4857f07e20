"""Process models: upload (validate, compile, version), list, read, publish the standard."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, ANALYST, Actor
from engine.domain.definitions import CompiledModel, ImportOutcome, ModelPackage
from engine.domain.errors import NotFoundError
from engine.domain.statuses import VersionStatus
from engine.domain.views import ModelSummaryView, ModelVersionView
from engine.modeling import compile_model, read_package_dir
from engine.modeling.ignored import ignored_attributes
from engine.persistence.tables import ModelVersionRecord, ProcessModelRecord
from engine.services.access import require_roles, visible_model, visible_region
from engine.services.audit import record_event
from engine.services.calls import check_calls
from engine.services.presenters import model_summary, version_view
from engine.services.versions import replica_source, standard_problems
from engine.unit_of_work import UnitOfWork


def upload_model(
    ctx: EngineContext, actor: Actor, region: str, package: ModelPackage
) -> ModelVersionView:
    """Validate a model package and store it as the next version of its key in `region`.

    The answer's `warnings` name each attribute drawn that is accepted and not applied
    (`camunda:assignee`, `candidateUsers`, due and follow-up dates), on its element and line.

    Raises: PermissionDeniedError, NotFoundError, ModelInvalidError (every problem).
    """
    require_roles(actor, ADMIN, ANALYST, action="uploading a process model")
    with ctx.uow() as uow:
        visible_region(uow, actor, region)
    compiled = compile_model(package)  # CPU work outside the transaction
    with ctx.uow() as uow:
        visible_region(uow, actor, region)
        compiled = check_calls(uow, ctx, region, compiled, package.bpmn_name)
        version = store_version(uow, ctx, actor, region, compiled)
        uow.commit()
        view = version_view(version)
    return replace(view, warnings=ignored_attributes(compiled.bpmn, package.bpmn_name))


def store_version(
    uow: UnitOfWork,
    ctx: EngineContext,
    actor: Actor,
    region: str,
    compiled: CompiledModel,
    lineage: dict[str, Any] | None = None,
) -> ModelVersionRecord:
    """Store `compiled` as the next version of its key in `region` (inside the caller's
    transaction), with `lineage` when it is a replica; audited as `model.uploaded`.

    A new replica is a draft; any other version is published when its standard may be
    (`versions.standard_problems`: a decree number, a replica's standard made local), else a
    draft. An upload over a replica keeps the replica's lineage (`reupload_of` its version).
    """
    now = ctx.clock()
    model = uow.repos.models.get(region, compiled.key, for_update=True)
    if model is None:
        model = ProcessModelRecord(
            region_code=region,
            key=compiled.key,
            title=compiled.title,
            latest_version=0,
            created_at=now,
        )
        uow.repos.models.add(model)
        uow.flush()
    if lineage is None:
        lineage = _carried_lineage(uow, model, actor, now)
    model.latest_version += 1
    model.title = compiled.title
    version = ModelVersionRecord(
        model_id=model.id,
        region_code=region,
        key=compiled.key,
        version=model.latest_version,
        title=compiled.title,
        status=VersionStatus.DRAFT,
        process_sla=compiled.process_sla,
        deemed_approval=compiled.deemed_approval,
        bpmn=compiled.bpmn,
        bpmn_sha256=package_digest(compiled),
        forms=compiled.forms,
        standard=compiled.standard,
        steps=[s.as_dict() for s in compiled.steps],
        timers=[t.as_dict() for t in compiled.timers],
        documents=list(compiled.documents) or None,
        spec=compiled.spec,
        lineage=lineage,
        source_region=(lineage or {}).get("source", {}).get("region"),
        source_key=(lineage or {}).get("source", {}).get("key"),
        source_version=(lineage or {}).get("source", {}).get("version"),
        created_by=actor.id or None,
        created_at=now,
    )
    new_replica = replica_source(lineage) is not None and "reupload_of" not in (lineage or {})
    if not new_replica and not standard_problems(uow, version):
        version.status = VersionStatus.PUBLISHED
    uow.repos.models.add(version)
    uow.flush()
    record_event(
        uow,
        actor=actor,
        action="model.uploaded",
        subject=f"model:{region}/{compiled.key}@{version.version}",
        at=now,
        region_code=region,
        data={
            "version": version.version,
            "sha256": version.bpmn_sha256,
            "steps": len(compiled.steps),
            "status": version.status,
        },
    )
    return version


def _carried_lineage(
    uow: UnitOfWork, model: ProcessModelRecord, actor: Actor, now: datetime
) -> dict[str, Any] | None:
    """A replica's lineage for an upload over it: the replica's source and origin stay (the
    originator keeps the credit), with the version it was uploaded over."""
    if not model.latest_version:
        return None
    latest = uow.repos.models.version(model.id, model.latest_version, with_blobs=False)
    carried = dict(latest.lineage or {}) if latest is not None else {}
    if replica_source(carried) is None:
        return None
    carried.pop("reupload_of", None)
    return {
        **carried,
        "reupload_of": {"version": model.latest_version, "by": actor.label, "at": now.isoformat()},
    }


def package_digest(compiled: CompiledModel) -> str:
    """A fingerprint of the BPMN, forms and standard, to tell identical packages apart."""
    digest = hashlib.sha256(compiled.bpmn)
    digest.update(json.dumps([compiled.forms, compiled.standard], sort_keys=True).encode())
    return digest.hexdigest()


# The lineage of a version that `import_directory` published (the shipped directory).
IMPORT_LINEAGE_KEY = "import"


def import_directory(
    ctx: EngineContext, actor: Actor, root: Path
) -> list[tuple[str, str, int, ImportOutcome]]:
    """Load `root/<region>/<key>/` packages, idempotently.

    A package whose content the model's latest version has is skipped (UNCHANGED); a
    changed package is published only while the latest version came from an import, never
    over an analyst's newer upload or a replica (KEPT_UPLOAD, with that version's number).
    Returns (region, key, version, outcome) per package. Regions missing from the database
    are created from `root/<region>/region.json`.
    Raises: ModelInvalidError naming the directory of the first bad package.
    """
    results = []
    for region_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        _ensure_region(ctx, actor, region_dir)
        for model_dir in sorted(p for p in region_dir.iterdir() if p.is_dir()):
            compiled = compile_model(read_package_dir(model_dir))
            results.append(_import_one(ctx, actor, region_dir.name, compiled))
    return results


def _ensure_region(ctx: EngineContext, actor: Actor, region_dir: Path) -> None:
    from engine.services.regions import create_region

    with ctx.reader() as uow:
        if uow.repos.regions.get(region_dir.name) is not None:
            return
    meta_file = region_dir / "region.json"
    meta = json.loads(meta_file.read_text("utf-8")) if meta_file.exists() else {}
    create_region(
        ctx,
        actor,
        region_dir.name,
        meta.get("name", f"Region {region_dir.name}"),
        meta.get("timezone", "Asia/Jakarta"),
    )


def _import_one(
    ctx: EngineContext, actor: Actor, region: str, compiled: CompiledModel
) -> tuple[str, str, int, ImportOutcome]:
    digest = package_digest(compiled)
    with ctx.uow() as uow:
        model = uow.repos.models.get(region, compiled.key, for_update=True)
        latest = None
        if model is not None:
            latest = uow.repos.models.version(model.id, model.latest_version, with_blobs=False)
        if latest is not None and latest.bpmn_sha256 == digest:
            return region, compiled.key, latest.version, ImportOutcome.UNCHANGED
        if latest is not None and IMPORT_LINEAGE_KEY not in (latest.lineage or {}):
            return region, compiled.key, latest.version, ImportOutcome.KEPT_UPLOAD
        lineage = {IMPORT_LINEAGE_KEY: {"package": f"{region}/{compiled.key}"}}
        version = store_version(uow, ctx, actor, region, compiled, lineage=lineage)
        uow.commit()
        return region, compiled.key, version.version, ImportOutcome.IMPORTED


def list_models(ctx: EngineContext, actor: Actor, region: str) -> list[ModelSummaryView]:
    """The process models of a region.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        visible_region(uow, actor, region)
        return [model_summary(m) for m in uow.repos.models.list(region)]


def list_versions(
    ctx: EngineContext, actor: Actor, region: str, key: str
) -> list[ModelVersionView]:
    """Every version of a model, oldest first.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        model = visible_model(uow, actor, region, key)
        return [version_view(v) for v in uow.repos.models.versions(model.id)]


def get_version(
    ctx: EngineContext,
    actor: Actor | None,
    region: str,
    key: str,
    version: int,
    *,
    full: bool = True,
) -> ModelVersionView:
    """One version with its BPMN, forms and standard (`actor=None`: public read).

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        model = visible_model(uow, actor, region, key)
        record = uow.repos.models.version(model.id, version)
        if record is None:
            raise NotFoundError(f"version {version} of {key} not found in region {region}")
        return version_view(record, full=full)
