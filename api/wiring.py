"""Builds the engine's dependencies once per app and keeps them in `app.extensions`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from api.config import Defaults, delivery_settings
from engine.context import EngineContext, TokenCache
from engine.documents import DocumentSettings, KeyStore
from engine.domain.calendar_holidays import national_days_off
from engine.domain.notifications import DeliverySettings
from engine.persistence.blob_store import BlobStore, FileSystemBlobStore, S3BlobStore
from engine.persistence.database import Timeouts, make_engine, make_session_factory
from engine.workflow.live_cache import LiveWorkflows
from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.script_engine import SandboxedScriptEngine, ScriptLimits
from engine.workflow.state_bounds import DEFAULT_MAX_STATE_BYTES


def build_context(
    database_url: str,
    *,
    cpu_seconds: float = 1.0,
    max_iterations: int = 100_000,
    cache_size: int = 256,
    max_state_bytes: int = DEFAULT_MAX_STATE_BYTES,
    timeouts: Timeouts | None = None,
    read_url: str | None = None,
    delivery: DeliverySettings | None = None,
    signing_key_dir: str = "",
    signing_key_passphrase: str = "",
    public_url: str = Defaults.PUBLIC_URL,
    live_cache_size: int = Defaults.LIVE_CACHE_SIZE,
) -> EngineContext:
    """An EngineContext for `database_url` (also used by the CLI, without Flask);
    `read_url` serves the read-only use cases (a hot standby)."""
    limits = ScriptLimits(cpu_seconds=cpu_seconds, max_iterations=max_iterations)
    runtime = WorkflowRuntime(
        script_engine_factory=partial(SandboxedScriptEngine, limits),
        cache_size=cache_size,
        max_state_bytes=max_state_bytes,
    )
    replica = make_engine(read_url, timeouts) if read_url else None
    keys = KeyStore(key_directory(database_url, signing_key_dir),
                    signing_key_passphrase.encode() or None)
    context = EngineContext(
        make_session_factory(make_engine(database_url, timeouts)), runtime, replica=replica,
        documents=DocumentSettings(keys, public_url),
    )
    if delivery is not None:
        context.delivery = delivery
    context.live = LiveWorkflows(live_cache_size)
    return context


def key_directory(database_url: str, configured: str) -> Path:
    """Where the private signing keys live: the configured directory, else `signing-keys/`
    beside an SQLite database file, else `var/signing-keys`."""
    if configured:
        return Path(configured)
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        return Path(database_url[len(prefix):]).parent / "signing-keys"
    return Path("var/signing-keys")


def init_engine(app: Flask) -> None:
    """Wire the engine into `app` from its configuration (and warm the holiday tables)."""
    app.extensions["permitflow"] = build_context(
        app.config["DATABASE_URL"],
        cpu_seconds=float(app.config["SCRIPT_CPU_SECONDS"]),
        max_iterations=int(app.config["SCRIPT_MAX_ITERATIONS"]),
        cache_size=int(app.config["SPEC_CACHE_SIZE"]),
        max_state_bytes=int(app.config["MAX_STATE_BYTES"]),
        timeouts=database_timeouts(app.config),
        read_url=app.config["DATABASE_READ_URL"] or None,
        delivery=delivery_settings(app.config),
        signing_key_dir=str(app.config["SIGNING_KEY_DIR"]),
        signing_key_passphrase=str(app.config["SIGNING_KEY_PASSPHRASE"]),
        public_url=str(app.config["PUBLIC_URL"]),
        live_cache_size=int(app.config["LIVE_CACHE_SIZE"]),
    )
    app.extensions["permitflow"].tokens = TokenCache(float(app.config["TOKEN_CACHE_SECONDS"]))
    context: EngineContext = app.extensions["permitflow"]
    context.blobs = blob_store(app.config)
    context.document_max_bytes = int(app.config["DOCUMENT_MAX_BYTES"])
    warm_holidays()


def blob_store(settings: Mapping[str, Any]) -> BlobStore:
    """The applicants' document store the DOCUMENT_STORE setting names ("fs" or "s3").

    Raises: ValueError for another name, or "s3" without S3_BUCKET.
    """
    kind = str(settings["DOCUMENT_STORE"]).strip().lower()
    if kind == "fs":
        return FileSystemBlobStore(settings["DOCUMENT_DIR"])
    if kind == "s3":
        if not settings["S3_BUCKET"]:
            raise ValueError("PERMITFLOW_DOCUMENT_STORE=s3 needs PERMITFLOW_S3_BUCKET")
        return S3BlobStore(
            settings["S3_BUCKET"],
            endpoint_url=settings["S3_ENDPOINT_URL"] or None,
            region=settings["S3_REGION"] or None,
            prefix=settings["S3_PREFIX"],
        )
    raise ValueError(f"PERMITFLOW_DOCUMENT_STORE must be fs or s3, not {kind!r}")


def warm_holidays() -> None:
    """Build this year's and next year's holiday tables now, not on the first request."""
    year = datetime.now(UTC).year
    for y in (year, year + 1):
        national_days_off(y)


def ctx() -> EngineContext:
    """The current app's engine context."""
    context: EngineContext = current_app.extensions["permitflow"]
    return context


def database_timeouts(settings: Mapping[str, Any]) -> Timeouts:
    """The DB_*_TIMEOUT settings (seconds; 0 turns one off)."""
    return Timeouts(
        connect=float(settings["DB_CONNECT_TIMEOUT"]),
        statement=float(settings["DB_STATEMENT_TIMEOUT"]),
        lock=float(settings["DB_LOCK_TIMEOUT"]),
    )
