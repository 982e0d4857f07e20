"""Model versions: publish, retire, and the structural diff of any two (DESIGN §5).

A version is never edited in place: publishing and retiring only decide whether new
applications may start on it (`ModelRepository.newest_published`); running applications
finish on the version they started on whatever its status.
"""

from __future__ import annotations

from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, ANALYST, Actor
from engine.domain.diff import diff_models, parse_ref, ref_text
from engine.domain.errors import NotFoundError, StandardNotPublishableError
from engine.domain.problems import Problem
from engine.domain.read_models import VersionDiff
from engine.domain.service_standard import publish_problems
from engine.domain.statuses import VersionStatus
from engine.domain.views import ModelVersionView
from engine.modeling.flows import read_flows
from engine.persistence.tables import ModelVersionRecord
from engine.services.access import require_roles, visible_model
from engine.services.audit import record_event
from engine.services.presenters import version_view
from engine.unit_of_work import UnitOfWork

DRAFT, PUBLISHED, RETIRED = VersionStatus.DRAFT, VersionStatus.PUBLISHED, VersionStatus.RETIRED


def publish_version(
    ctx: EngineContext, actor: Actor, region: str, key: str, version: int
) -> ModelVersionView:
    """Let new applications start on `version` (the newest published one wins): a draft
    once its standard may be published, a retired version again.

    Raises: PermissionDeniedError, NotFoundError, StandardNotPublishableError (the standard
    has no decree number; a replica's standard is not made local).
    """
    return _set_status(ctx, actor, region, key, version, PUBLISHED)


def retire_version(
    ctx: EngineContext, actor: Actor, region: str, key: str, version: int
) -> ModelVersionView:
    """Stop new applications on `version`; running ones finish on it. With every version
    retired, starting an application is refused (ModelNotPublishedError).

    Raises: PermissionDeniedError, NotFoundError.
    """
    return _set_status(ctx, actor, region, key, version, RETIRED)


def _set_status(
    ctx: EngineContext, actor: Actor, region: str, key: str, number: int, status: str
) -> ModelVersionView:
    verb = "publishing" if status == PUBLISHED else "retiring"
    require_roles(actor, ADMIN, ANALYST, action=f"{verb} a model version")
    now = ctx.clock()
    with ctx.uow() as uow:
        version = find_version(uow, actor, region, key, number, lock=True)
        before = version.status
        if status == PUBLISHED and before != PUBLISHED:
            problems = standard_problems(uow, version)
            if problems:
                raise StandardNotPublishableError(
                    f"{region}/{key}@{number} cannot be published: its service standard is "
                    "not complete", problems)
        if before != status:  # setting the status it has is a no-op, and not an event
            version.status = status
            record_event(
                uow,
                actor=actor,
                action=f"model.{status}",
                subject=f"model:{region}/{key}@{number}",
                at=now,
                region_code=region,
                data={"version": number, "before": {"status": before}, "after": {"status": status}},
            )
        uow.commit()
        return version_view(version)


def standard_problems(uow: UnitOfWork, version: ModelVersionRecord) -> list[Problem]:
    """Why `version`'s service standard may not be published (empty: it may). A replica's is
    compared with its source's, read here (any region)."""
    source = replica_source(version.lineage)
    source_standard = None
    if source is not None:
        model = uow.repos.models.get(source["region"], source["key"])
        if model is not None:
            found = uow.repos.models.version(model.id, source["version"], with_blobs=False)
            source_standard = found.standard if found is not None else None
    return publish_problems(
        version.standard,
        version.region_code,
        source_standard=source_standard,
        replica=source is not None,
    )


def replica_source(lineage: dict[str, Any] | None) -> dict[str, Any] | None:
    """The version a replica was copied from ({region, key, version}), None for others."""
    source = (lineage or {}).get("source")
    return source if isinstance(source, dict) else None


def find_version(
    uow: UnitOfWork,
    actor: Actor | None,
    region: str,
    key: str,
    number: int,
    *,
    lock: bool = False,
    with_blobs: bool = False,
) -> ModelVersionRecord:
    """Version `number` of `region/key` as `actor` may see it (None: any region).

    Raises: NotFoundError.
    """
    model = visible_model(uow, actor, region, key)
    if lock:
        uow.repos.models.get(region, key, for_update=True)  # serializes status changes
    record = uow.repos.models.version(model.id, number, with_blobs=with_blobs)
    if record is None:
        raise NotFoundError(f"version {number} of {key} not found in region {region}")
    return record


def diff_versions(ctx: EngineContext, actor: Actor, a: str, b: str) -> VersionDiff:
    """The structural diff from version `a` to version `b`, each named REGION/KEY@N, of
    any regions: step, flow, SLA, fee, role, form and service-standard changes, and b's
    lineage if it was
    replicated from a. Any authenticated caller may compare: a version's procedure, SLAs
    and fees are public (the service standard), and comparing them is what replication
    is chosen on.

    Raises: InvalidInputError (a malformed reference), NotFoundError.
    """
    refs = parse_ref(a, "a"), parse_ref(b, "b")
    with ctx.reader() as uow:
        sides = [
            _side(find_version(uow, None, r["region"], r["key"], r["version"], with_blobs=True))
            for r in refs
        ]
    return diff_models(*sides)


def _side(version: ModelVersionRecord) -> dict[str, Any]:
    ref = {"region": version.region_code, "key": version.key, "version": version.version}
    return {
        "ref": ref,
        "title": version.title,
        "process_sla": version.process_sla,
        "steps": list(version.steps),
        "flows": read_flows(version.bpmn, f"{ref_text(ref)}/model.bpmn"),
        "forms": dict(version.forms),
        "standard": version.standard,
        "lineage": version.lineage,
    }
