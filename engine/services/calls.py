"""Call activities across model versions: checked at upload, bound at start (issue #10).

A call activity names another model of the same region by key. At upload the key must
have a published version (the fixed one, for `version` binding), `deployment` is pinned to
the version latest then, and no chain of calls may lead back to the caller. When an
application starts, every call (and every call of a called model, however deep) is bound
to one version, stored with the application (`called_versions`: key -> version id), so
that every later call, a restored state and an instance migration run the same spec.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.context import EngineContext
from engine.domain.definitions import CallDefinition, CompiledModel
from engine.domain.errors import ModelInvalidError, ModelNotPublishedError
from engine.domain.problems import Problem
from engine.domain.statuses import VersionStatus
from engine.persistence.tables import ModelVersionRecord
from engine.services.spec_cache import VersionFacts, load_spec
from engine.unit_of_work import UnitOfWork
from engine.workflow.call_activities import CallConflictError, CallSite, call_sites, pin_versions
from engine.workflow.messages import message_starts
from engine.workflow.outcome import LoadedSpec

# A chain of calls deeper than this is refused (and a cycle is found long before).
MAX_CALL_DEPTH = 8


class _UnboundError(Exception):
    """A call cannot be bound: no published version of the key (or not that version)."""


def check_calls(uow: UnitOfWork, ctx: EngineContext, region: str, compiled: CompiledModel,
                filename: str = "model.bpmn") -> CompiledModel:
    """`compiled` with its `deployment` bindings pinned, when every call can be bound now.

    Raises: ModelInvalidError naming each call activity whose key is not published in the
    region (or lacks the fixed version), that would call back into the caller, or whose
    called model cannot run beside it.
    """
    if not compiled.calls:
        return compiled
    problems: list[Problem] = []
    pinned: dict[str, int] = {}
    for call in compiled.calls:
        try:
            record = _bound_record(uow, region, call.key, call.binding, call.version)
        except _UnboundError as exc:
            problems.append(_problem(call, str(exc), filename))
            continue
        if call.binding == "deployment":
            pinned[call.element_id] = record.version
        _, called_spec = load_spec(ctx, uow, record.id)
        starts = message_starts(called_spec.spec)
        if starts.names and not starts.plain:
            problems.append(_problem(
                call,
                f"calls {call.key!r} (version {record.version}), which starts only with a "
                "message; a call activity starts the called model at a none start event",
                filename,
            ))
            continue
        try:
            cycle = _cycle(ctx, uow, region, compiled.key, record, [compiled.key, call.key])
        except _UnboundError:
            cycle = None  # a called model's own call is checked when it runs
        if cycle:
            problems.append(_problem(
                call,
                f"calls {call.key!r}, which leads back to this model ({' -> '.join(cycle)}): "
                "calls may not form a cycle",
                filename,
            ))
        clash = _clashing_steps(compiled, ctx, uow, record)
        if clash:
            problems.append(_problem(
                call,
                f"the called model {call.key!r} (version {record.version}) uses step ids or "
                f"form names of this model ({', '.join(sorted(clash))}): rename them in "
                "one of the two models",
                filename,
            ))
    if problems:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        raise ModelInvalidError(f"{count} {noun} in {filename}", problems)
    if pinned:
        compiled = replace(compiled, spec=pin_versions(compiled.spec, pinned), calls=tuple(
            replace(c, binding="version", version=pinned[c.element_id])
            if c.element_id in pinned else c
            for c in compiled.calls
        ))
    return compiled


def _problem(call: CallDefinition, text: str, filename: str) -> Problem:
    return Problem(
        f"callActivity {call.element_id!r}: {text}",
        element_id=call.element_id,
        line=call.line,
        field="calledElement",
        file=filename,
    )


def _bound_record(
    uow: UnitOfWork, region: str, key: str, binding: str, version: int | None
) -> ModelVersionRecord:
    model = uow.repos.models.get(region, key)
    if model is None:
        raise _UnboundError(f"calls {key!r}, but region {region} has no model with that key; "
                       "upload and publish the called model first")
    if binding == "version" and version is not None:
        record = uow.repos.models.version(model.id, version, with_blobs=False)
        if record is None or record.status != VersionStatus.PUBLISHED:
            raise _UnboundError(f"calls version {version} of {key!r}, which is not a published "
                           f"version in region {region}")
        return record
    record = uow.repos.models.newest_published(model.id)
    if record is None:
        raise _UnboundError(f"calls {key!r}, which has no published version in region {region}")
    return record


def _sites(ctx: EngineContext, uow: UnitOfWork, version_id: int) -> list[CallSite]:
    _, loaded = load_spec(ctx, uow, version_id)
    return call_sites(loaded.spec, loaded.subprocess_specs)


def _cycle(
    ctx: EngineContext, uow: UnitOfWork, region: str, origin: str,
    record: ModelVersionRecord, path: list[str],
) -> list[str] | None:
    if len(path) > MAX_CALL_DEPTH:
        return path
    for site in _sites(ctx, uow, record.id):
        if site.key == origin or site.key in path[1:]:
            return [*path, site.key]
        deeper = _bound_record(uow, region, site.key, site.binding, site.version)
        found = _cycle(ctx, uow, region, origin, deeper, [*path, site.key])
        if found:
            return found
    return None


def _clashing_steps(
    compiled: CompiledModel, ctx: EngineContext, uow: UnitOfWork, record: ModelVersionRecord
) -> set[str]:
    facts, _ = load_spec(ctx, uow, record.id)
    own = {s.element_id for s in compiled.steps}
    clash = own & {s["element_id"] for s in facts.steps}
    forms = compiled.forms
    return clash | {n for n, schema in facts.forms.items() if forms.get(n, schema) != schema}


def bind_calls(
    ctx: EngineContext,
    uow: UnitOfWork,
    region: str,
    version_id: int,
    keep: dict[str, Any] | None = None,
) -> dict[str, int] | None:
    """Bind every call a version makes, however deep: key -> model version id (None when
    it calls nothing). Latest means latest now; a key in `keep` (an application's bindings,
    when it moves to another version) stays bound where it is.

    Raises: ModelNotPublishedError when a called model cannot be bound (its versions were
    retired since upload, say), two calls of the same key bind different versions, or a
    call fixes another version of a kept key.
    """
    bound: dict[str, int] = {}
    pending = [(version_id, 0)]
    while pending:
        current, depth = pending.pop()
        for site in _sites(ctx, uow, current):
            try:
                record = _bound_record(uow, region, site.key, site.binding, site.version)
            except _UnboundError as exc:
                raise ModelNotPublishedError(f"call activity {site.element_id!r} {exc}") from None
            if keep and site.key in keep and int(keep[site.key]) != record.id:
                if site.binding == "version":
                    raise ModelNotPublishedError(
                        f"call activity {site.element_id!r} fixes version {site.version} of "
                        f"{site.key!r}, and the application runs another version of it"
                    )
                kept = uow.repos.models.version_by_id(int(keep[site.key]))
                record = kept if kept is not None else record
            if bound.get(site.key, record.id) != record.id:
                raise ModelNotPublishedError(
                    f"call activity {site.element_id!r} binds another version of "
                    f"{site.key!r} than an earlier call of the same model"
                )
            if site.key not in bound:
                if depth >= MAX_CALL_DEPTH:
                    raise ModelNotPublishedError(f"calls nest deeper than {MAX_CALL_DEPTH}")
                bound[site.key] = record.id
                pending.append((record.id, depth + 1))
    return bound or None


def joined_spec_dict(
    uow: UnitOfWork, spec: dict[str, Any], bindings: dict[str, Any] | None
) -> dict[str, Any]:
    """A version's stored spec dict with the spec dicts of its bound calls among its
    sub-processes: what a saved state of an application with those bindings restores on."""
    if not bindings:
        return spec
    subprocesses = dict(spec["subprocesses"])
    for key, version_id in bindings.items():
        record = uow.repos.models.version_by_id(int(version_id))
        if record is not None:
            subprocesses[key] = record.spec["process"]
            subprocesses.update(record.spec["subprocesses"])
    return {**spec, "subprocesses": subprocesses}


def load_bound(
    ctx: EngineContext, uow: UnitOfWork, version_id: int, bindings: dict[str, Any] | None
) -> tuple[VersionFacts, LoadedSpec]:
    """A version's facts and spec joined with those of the versions its calls are bound to:
    the called models' steps (roles, SLAs, fees, forms) are steps of the application.

    Raises: NotFoundError; ModelNotPublishedError when the called specs cannot be joined.
    """
    facts, loaded = load_spec(ctx, uow, version_id)
    if not bindings:
        return facts, loaded
    cache_key = ("called", version_id, tuple(sorted(bindings.items())))
    joined_facts = ctx.versions.get(cache_key)
    called = {key: load_spec(ctx, uow, int(vid)) for key, vid in bindings.items()}
    try:
        joined = ctx.runtime.compose(cache_key, loaded, {k: c[1] for k, c in called.items()})
        if joined_facts is None:
            joined_facts = _join_facts(facts, [c[0] for c in called.values()])
            ctx.versions.put(cache_key, joined_facts)
    except CallConflictError as exc:
        raise ModelNotPublishedError(str(exc)) from None
    return joined_facts, joined


def _join_facts(facts: VersionFacts, called: list[VersionFacts]) -> VersionFacts:
    steps = list(facts.steps)
    seen = {s["element_id"] for s in steps}
    forms = dict(facts.forms)
    timers = list(facts.timers)
    for other in called:
        clash = seen & {s["element_id"] for s in other.steps}
        clash |= {n for n, schema in other.forms.items() if forms.get(n, schema) != schema}
        if clash:
            raise CallConflictError(
                f"the called model {other.title!r} (version {other.version}) uses step ids or "
                f"form names of its caller: {', '.join(sorted(clash))}; rename them in one model"
            )
        steps += list(other.steps)
        seen |= {s["element_id"] for s in other.steps}
        forms.update(other.forms)
        timers += other.timers
    return replace(
        facts,
        steps=steps,
        forms=forms,
        timers=timers,
        messages=facts.messages or any(c.messages for c in called),
        external=facts.external or any(c.external for c in called),
    )
