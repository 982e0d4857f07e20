"""Read models: diffs."""

from __future__ import annotations

from typing import Any, TypedDict


class VersionSummary(TypedDict):
    region: str
    key: str
    version: int
    title: str | None
    process_sla: str | None


class VersionDiff(TypedDict):
    a: VersionSummary
    b: VersionSummary
    process: dict[str, Any]
    steps: dict[str, Any]
    flows: dict[str, Any]
    # Each top-level key of standard.json that differs: {key, component, name, a, b}.
    standard: list[dict[str, Any]]
    lineage: dict[str, Any] | None
    identical: bool
