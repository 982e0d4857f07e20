"""The steps a version publishes to citizens: its own and, after them, those of every model it
calls (issue #10 with #14/#15: no fee is charged that is not published).

A called model's steps run in the same application with their own SLAs and fees, so the
fee schedule, the service standard, the fee estimate and the catalogue count them too. The
version each call shows is bound as the engine binds it at start: a fixed version is that
version, `deployment` the version pinned at upload, `latest` the newest published version
now (so publishing a new latest version changes what a new applicant sees). An
application's tracking page passes its own stored bindings instead. A called model's
steps carry `called` (which call activity, which model and version, and `per_item` when
the call is multi-instance: its fees are charged once per item, not once).
"""

from __future__ import annotations

from typing import Any

from engine.context import EngineContext
from engine.persistence.tables import ModelVersionRecord
from engine.services.calls import MAX_CALL_DEPTH, _bound_record, _UnboundError
from engine.services.spec_cache import load_spec
from engine.unit_of_work import UnitOfWork
from engine.workflow.call_activities import CalledProcess

# SpiffWorkflow 3.2.0 names the task a multi-instance activity repeats "<id> [child]".
_CHILD = " [child]"


def published_steps(
    ctx: EngineContext,
    uow: UnitOfWork,
    record: ModelVersionRecord,
    bindings: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """`record`'s step dicts in order, then each called model's (recursively), labelled.

    `bindings` (key -> model version id, an application's `called_versions`) overrides the
    binding rules for the keys it holds. A call that cannot be bound now (its model has no
    published version) adds nothing: no application can start with it either.
    """
    steps = [dict(s) for s in sorted(record.steps, key=lambda s: s["order"])]
    return steps + _called(ctx, uow, record, bindings or {}, {record.key}, 0, False)


def _called(
    ctx: EngineContext,
    uow: UnitOfWork,
    record: ModelVersionRecord,
    bindings: dict[str, Any],
    seen: set[str],
    depth: int,
    per_item: bool,
) -> list[dict[str, Any]]:
    if depth >= MAX_CALL_DEPTH:
        return []
    _, loaded = load_spec(ctx, uow, record.id)
    found: list[dict[str, Any]] = []
    for process in (loaded.spec, *loaded.subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if not isinstance(task_spec, CalledProcess) or task_spec.spec in seen:
                continue
            called = _bind(uow, record.region_code, task_spec, bindings)
            if called is None:
                continue
            each = per_item or task_spec.name.endswith(_CHILD)
            label = {
                "element_id": task_spec.bpmn_id,
                "key": called.key,
                "version": called.version,
                "title": called.title,
                "per_item": each,
            }
            for step in sorted(called.steps, key=lambda s: s["order"]):
                found.append({**step, "called": label})
            found += _called(ctx, uow, called, bindings, seen | {called.key}, depth + 1, each)
    return found


def _bind(
    uow: UnitOfWork, region: str, task_spec: CalledProcess, bindings: dict[str, Any]
) -> ModelVersionRecord | None:
    if task_spec.spec in bindings:
        return uow.repos.models.version_by_id(int(bindings[task_spec.spec]))
    try:
        return _bound_record(uow, region, task_spec.spec, task_spec.binding, task_spec.version)
    except _UnboundError:
        return None


def fixed_total(steps: list[dict[str, Any]]) -> int:
    """The fixed fees charged once per application (per-item and formula fees excluded)."""
    return sum(int(s["fee"]) for s in steps if not _per_item(s))


def per_item_total(steps: list[dict[str, Any]]) -> int:
    """The fixed fees charged once per item of a multi-instance call."""
    return sum(int(s["fee"]) for s in steps if _per_item(s))


def _per_item(step: dict[str, Any]) -> bool:
    return bool(step.get("called", {}).get("per_item"))
