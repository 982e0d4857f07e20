"""Replication of innovation (DESIGN §5, permit-domain §4): copy a published procedure of
any region into a region, adapted by overrides, with its origin recorded.

The copy is a rewritten BPMN file (`engine.modeling.rewrite`): what is stored is exactly
what runs, and what the analyst downloads and can edit in a modeler. It is then compiled
like any upload, so an override can never produce a model an upload would refuse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, ANALYST, Actor
from engine.domain.definitions import ModelPackage
from engine.domain.errors import InvalidInputError, ModelNotPublishedError
from engine.domain.problems import Problem
from engine.domain.views import ModelVersionView
from engine.modeling import compile_model
from engine.modeling.rewrite import rewrite_model
from engine.persistence.tables import ModelVersionRecord
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.services.calls import check_calls
from engine.services.models import store_version
from engine.services.presenters import version_view
from engine.services.versions import PUBLISHED, find_version


@dataclass(frozen=True)
class _Source:
    """What a replication takes from the source version, read in one short transaction."""

    ref: dict[str, Any]
    package: ModelPackage
    origin: dict[str, Any]
    sha256: str


def replicate_model(
    ctx: EngineContext,
    actor: Actor,
    region: str,
    key: str,
    source: dict[str, Any],
    overrides: dict[str, Any] | None = None,
) -> ModelVersionView:
    """Copy `source` ({region, key, version}, a published version of any region) into
    `region` as the next version of `key`, with `overrides` applied:
    `{steps: {<task id>: {sla, fee, role}}, roles: {<source role>: <target role>},
    process: {sla, title}}`. A step's `role` names a role of the copy, after the mapping.

    The copy is a **draft**: its standard (copied from the source) names the source's
    region, agency, complaint contacts and decree; the analyst makes them local (an upload
    over the copy keeps its lineage) and publishes it (`versions.publish_version`).

    Lineage: `{source, origin, source_sha256, by, at, overrides}` where `overrides` is
    exactly what was given and `origin` is the first ancestor (the source itself unless
    the source is a copy too), so the originator keeps the credit down the line.

    Raises: PermissionDeniedError, NotFoundError (target region, source), InvalidInputError
    (source reference, overrides), ModelNotPublishedError (a retired source),
    ModelInvalidError (the adapted model fails a check of an upload).
    """
    require_roles(actor, ADMIN, ANALYST, action="replicating a process model")
    ref = _source_ref(source)
    with ctx.uow() as uow:
        visible_region(uow, actor, region)
        found = _read_source(
            find_version(uow, None, ref["region"], ref["key"], ref["version"], with_blobs=True)
        )
    bpmn = rewrite_model(found.package.bpmn, key=key, overrides=overrides)
    compiled = compile_model(
        ModelPackage(  # CPU work outside the transaction
            bpmn=bpmn,
            forms=found.package.forms,
            standard=found.package.standard,
            bpmn_name=f"{ref['region']}-{ref['key']}-{ref['version']}-replica.bpmn",
        )
    )
    now = ctx.clock()
    lineage = {
        "source": found.ref,
        "origin": found.origin,
        "source_sha256": found.sha256,
        "by": actor.label,
        "at": now.isoformat(),
        "overrides": overrides or {},
    }
    with ctx.uow() as uow:
        visible_region(uow, actor, region)
        # A replica's call activities call models of its own region: published there too.
        compiled = check_calls(uow, ctx, region, compiled, f"{key}.bpmn")
        version = store_version(uow, ctx, actor, region, compiled, lineage=lineage)
        record_event(
            uow,
            actor=actor,
            action="model.replicated",
            subject=f"model:{region}/{key}@{version.version}",
            at=now,
            region_code=region,
            data={"version": version.version, **lineage},
        )
        uow.commit()
        return version_view(version)


def _source_ref(source: Any) -> dict[str, Any]:
    problems = []
    if not isinstance(source, dict):
        source = {}
        problems.append(Problem("source must be an object {region, key, version}", field="/source"))
    for name in ("region", "key"):
        if not isinstance(source.get(name), str) or not source.get(name):
            problems.append(Problem(f"source.{name} is required text", field=f"/source/{name}"))
    number = source.get("version")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        problems.append(
            Problem("source.version must be a version number (1, 2, ...)", field="/source/version")
        )
    if problems:
        raise InvalidInputError("the source of a replication is a model version", problems)
    return {"region": source["region"], "key": source["key"], "version": number}


def _read_source(version: ModelVersionRecord) -> _Source:
    ref = {"region": version.region_code, "key": version.key, "version": version.version}
    if version.status != PUBLISHED:
        raise ModelNotPublishedError(
            f"{ref['region']}/{ref['key']}@{ref['version']} is {version.status}; only published "
            "versions are replicated"
        )
    forms = {
        name: json.dumps(schema, ensure_ascii=False).encode()
        for name, schema in version.forms.items()
    }
    standard = (
        json.dumps(version.standard, ensure_ascii=False).encode()
        if version.standard is not None
        else None
    )
    origin = (version.lineage or {}).get("origin") or ref
    return _Source(
        ref,
        ModelPackage(bpmn=version.bpmn, forms=forms, standard=standard),
        origin,
        version.bpmn_sha256,
    )
