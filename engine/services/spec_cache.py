"""A model version's facts and its parsed SpiffWorkflow spec, read once per process.

Versions never change once stored, so both are cached under the version id
(`EngineContext.versions` for the facts, the runtime's own cache for the spec).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.context import EngineContext
from engine.domain.errors import NotFoundError
from engine.unit_of_work import UnitOfWork
from engine.workflow.external_tasks import has_external_tasks
from engine.workflow.messages import catches_messages
from engine.workflow.outcome import LoadedSpec


@dataclass(frozen=True, slots=True)
class VersionFacts:
    """What running an application needs from its model version (versions never change)."""

    id: int
    version: int
    title: str
    process_sla: str | None
    steps: list[dict[str, Any]]
    forms: dict[str, Any]
    timers: list[Any]
    deemed_approval: bool = False
    # Whether a task of the model can wait for a message: only then are subscriptions synced.
    messages: bool = False
    # Whether the model has service tasks for external workers: only then are their rows synced.
    external: bool = False
    # End events that issue a document: element id -> {template, agency} (issue #14 item 3).
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_spec(
    ctx: EngineContext, uow: UnitOfWork, version_id: int
) -> tuple[VersionFacts, LoadedSpec]:
    """A model version's facts and restored spec, read from the database once per process.

    Raises: NotFoundError.
    """
    facts = ctx.versions.get(version_id)
    if facts is None:
        record = uow.repos.models.version_by_id(version_id)
        if record is None:
            raise NotFoundError(f"model version {version_id} not found")
        loaded = ctx.runtime.load_spec(record.id, lambda: record.spec)
        facts = VersionFacts(
            record.id,
            record.version,
            record.title,
            record.process_sla,
            record.steps,
            record.forms,
            record.timers,
            record.deemed_approval,
            catches_messages(loaded.spec, loaded.subprocess_specs),
            has_external_tasks(loaded.spec, loaded.subprocess_specs),
            {d["element_id"]: d for d in record.documents or []},
        )
        ctx.versions.put(version_id, facts)
        return facts, loaded
    return facts, ctx.runtime.load_spec(version_id, lambda: _spec_of(uow, version_id))


def _spec_of(uow: UnitOfWork, version_id: int) -> dict[str, Any]:
    record = uow.repos.models.version_by_id(version_id)
    assert record is not None  # its facts were cached, and versions are never deleted
    return record.spec
