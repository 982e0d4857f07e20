"""Configuration, read in one place: defaults, then PERMITFLOW_* environment, then overrides.

Every variable is listed in the README. `engine` never reads the environment; it gets
these values as arguments from `api/wiring.py`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from engine.domain.notifications import DeliverySettings


class Defaults:
    """Default settings; each is overridable as PERMITFLOW_<NAME>."""

    DATABASE_URL = "sqlite:///var/permitflow.db"
    DATABASE_READ_URL = ""  # optional hot standby for the read-only use cases
    DB_CONNECT_TIMEOUT = 5.0  # seconds (PostgreSQL); 0: no limit
    DB_STATEMENT_TIMEOUT = 30.0
    DB_LOCK_TIMEOUT = 10.0
    MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    SCRIPT_CPU_SECONDS = 1.0
    SCRIPT_MAX_ITERATIONS = 100_000
    MAX_STATE_BYTES = 8 * 1024 * 1024
    SPEC_CACHE_SIZE = 256
    WORKER_INTERVAL = 30.0
    # Notification delivery by the worker (see the README's Notifications section).
    NOTIFY_MAX_ATTEMPTS = 8  # attempts before a dead letter
    NOTIFY_BACKOFF = 60.0  # seconds after the first failure; doubled after each next one
    NOTIFY_MAX_BACKOFF = 21600.0  # seconds: the back-off's ceiling (6 hours)
    NOTIFY_LEASE = 120.0  # seconds a worker holds a row it is sending
    NOTIFY_TIMEOUT = 10.0  # seconds for one SMTP or webhook exchange
    LOG_LEVEL = "INFO"
    LOG_FORMAT = "json"  # one JSON object a line; "text" for a terminal
    READY_WORKER_MAX_AGE = 120.0  # seconds: /readyz fails when no worker passed for longer
    METRICS_TOKEN = ""  # GET /metrics is public unless this is set (then: Bearer <token>)
    # The web console's signed session cookie. Without a SECRET_KEY a development process
    # makes its own (`permitflow serve` makes one for all its gunicorn workers); with
    # PRODUCTION set, the app refuses to start without one.
    SECRET_KEY = ""
    PRODUCTION = False
    SESSION_COOKIE_SECURE = False
    SESSION_HOURS = 8.0
    TOKEN_LIFETIME_DAYS = 90  # bearer tokens expire this many days after they are issued

    # flask-smorest / OpenAPI (not meant to be changed)
    API_TITLE = "permitflow"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"


def setting(name: str) -> Any:
    """One setting outside an app (the CLI): PERMITFLOW_<NAME>, else the default, typed alike."""
    default = getattr(Defaults, name)
    raw = os.environ.get(f"PERMITFLOW_{name}")
    return default if raw is None else type(default)(raw)


def delivery_settings(settings: Mapping[str, Any]) -> DeliverySettings:
    """The NOTIFY_* settings (an app's config, or `setting` for the CLI)."""
    return DeliverySettings(
        max_attempts=max(1, int(settings["NOTIFY_MAX_ATTEMPTS"])),
        backoff=timedelta(seconds=float(settings["NOTIFY_BACKOFF"])),
        max_backoff=timedelta(seconds=float(settings["NOTIFY_MAX_BACKOFF"])),
        lease=timedelta(seconds=float(settings["NOTIFY_LEASE"])),
        timeout=float(settings["NOTIFY_TIMEOUT"]),
    )


NOTIFY_SETTINGS = ("NOTIFY_MAX_ATTEMPTS", "NOTIFY_BACKOFF", "NOTIFY_MAX_BACKOFF", "NOTIFY_LEASE",
                   "NOTIFY_TIMEOUT")


def token_lifetime(days: Any) -> timedelta:
    """The lifetime of a new token from the TOKEN_LIFETIME_DAYS setting."""
    return timedelta(days=float(days))


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill `app.config` from defaults, then the environment, then `overrides`."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("PERMITFLOW")
    if overrides:
        app.config.update(overrides)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_BYTES"])
    _session_settings(app)


class MissingSecretError(RuntimeError):
    """Production mode without PERMITFLOW_SECRET_KEY: sessions could not be trusted."""


def ensure_secret_key(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Give `environ` a session secret unless it has one (for every process forked from here).

    Raises: MissingSecretError in production mode (PERMITFLOW_PRODUCTION) without a secret.
    """
    if environ.get("PERMITFLOW_SECRET_KEY"):
        return
    if _truthy(environ.get("PERMITFLOW_PRODUCTION", "")):
        raise MissingSecretError(
            "set PERMITFLOW_SECRET_KEY (e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))') before serving in production"
        )
    environ["PERMITFLOW_SECRET_KEY"] = secrets.token_urlsafe(48)


def _session_settings(app: Flask) -> None:
    if not app.config["SECRET_KEY"]:
        if _truthy(app.config["PRODUCTION"]):
            raise MissingSecretError("PERMITFLOW_SECRET_KEY is required in production")
        app.config["SECRET_KEY"] = secrets.token_urlsafe(48)  # this process only
    app.config.update(
        SESSION_COOKIE_NAME="pf_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_truthy(app.config["SESSION_COOKIE_SECURE"]),
        PERMANENT_SESSION_LIFETIME=int(float(app.config["SESSION_HOURS"]) * 3600),
    )


def _truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")
