"""Configuration, read in one place: defaults, then PERMITFLOW_* environment, then overrides.

Every variable is listed in the README. `engine` never reads the environment; it gets
these values as arguments from `api/wiring.py`.
"""

from __future__ import annotations

import difflib
import math
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    # Applicants' documents (issue #14 item 4): the largest one taken, and where they are
    # kept: "fs" (DOCUMENT_DIR) or "s3" (S3_BUCKET on S3_ENDPOINT_URL, any S3-compatible
    # store; credentials from boto3's usual chain, e.g. AWS_ACCESS_KEY_ID).
    DOCUMENT_MAX_BYTES = 8 * 1024 * 1024  # below MAX_UPLOAD_BYTES, which bounds any request
    DOCUMENT_STORE = "fs"
    DOCUMENT_DIR = "var/documents"
    S3_BUCKET = ""
    S3_ENDPOINT_URL = ""
    S3_REGION = ""
    S3_PREFIX = "documents/"
    SCRIPT_CPU_SECONDS = 1.0
    SCRIPT_MAX_ITERATIONS = 100_000
    MAX_STATE_BYTES = 8 * 1024 * 1024
    SPEC_CACHE_SIZE = 256
    # Applications' live (deserialized) workflows kept per process for their next step
    # (engine/workflow/live_cache.py); 0: every step restores its workflow from the database.
    LIVE_CACHE_SIZE = 128
    WORKER_INTERVAL = 30.0
    # Notification delivery by the worker (see the README's Notifications section).
    NOTIFY_MAX_ATTEMPTS = 8  # attempts before a dead letter
    NOTIFY_BACKOFF = 60.0  # seconds after the first failure; doubled after each next one
    NOTIFY_MAX_BACKOFF = 21600.0  # seconds: the back-off's ceiling (6 hours)
    NOTIFY_LEASE = 120.0  # seconds a worker holds a row it is sending
    NOTIFY_TIMEOUT = 10.0  # seconds for one SMTP or webhook exchange
    NOTIFY_RETENTION_DAYS = 90.0  # delivered rows are deleted after this; 0: kept for ever
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
    # Seconds an authenticated token's actor is kept in the process (0: checked every
    # request). A revocation through another process is seen within this time.
    TOKEN_CACHE_SECONDS = 5.0
    # Issued documents (issue #14 item 3). The regions' private Ed25519 keys live in this
    # directory (empty: `signing-keys/` beside the SQLite database, else var/signing-keys);
    # with a passphrase they are encrypted at rest. PUBLIC_URL is what QR codes point to.
    SIGNING_KEY_DIR = ""
    SIGNING_KEY_PASSPHRASE = ""
    PUBLIC_URL = "http://127.0.0.1:8000"

    # flask-smorest / OpenAPI (not meant to be changed)
    API_TITLE = "permitflow"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"


PREFIX = "PERMITFLOW_"
# PERMITFLOW_* variables that are not settings of the application: read by the test suite,
# the benchmarks and the screenshot tool, so a command run beside them must not refuse them.
TOOL_VARIABLES = frozenset(
    {"TEST_POSTGRES_URL", "BENCH_POSTGRES_URL", "SCREENSHOTS", "FUZZ_EXAMPLES"}
)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_CHOICES = {"LOG_LEVEL": _LOG_LEVELS, "LOG_FORMAT": ("json", "text")}


def known_settings() -> frozenset[str]:
    """Every setting's name (without the prefix): the upper-case attributes of `Defaults`."""
    return frozenset(n for n in vars(Defaults) if n.isupper() and not n.startswith("_"))


def parse_setting(name: str, raw: str) -> Any:
    """The value of setting `name` given as text, typed like its default.

    Raises: ValueError with a message saying what was expected.
    """
    default = getattr(Defaults, name)
    text = raw.strip()
    if isinstance(default, bool):
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError("not a boolean: write true or false")
    if isinstance(default, int | float):
        return _number(text, whole=isinstance(default, int))
    if name in _CHOICES:
        wanted = text.upper() if name == "LOG_LEVEL" else text.lower()
        if wanted not in _CHOICES[name]:
            raise ValueError("not one of " + ", ".join(_CHOICES[name]))
        return wanted
    if name.endswith(("TIMEZONE", "TIME_ZONE")) and text:
        _zone(text)
    if name in ("DATABASE_URL", "DATABASE_READ_URL") and text:
        from engine.persistence.database import normalize_url

        normalize_url(text)  # InvalidDatabaseUrlError is a ValueError naming the part
    return raw


def _number(text: str, *, whole: bool) -> int | float:
    try:
        value: int | float = int(text) if whole else float(text)
    except ValueError:
        raise ValueError("not a whole number" if whole else "not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number, 0 or more")
    return value


def _zone(text: str) -> None:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not a known time zone (e.g. Asia/Jakarta)") from None


def configuration_problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """Everything wrong with the PERMITFLOW_* variables of `environ`, one line each: unknown
    names (with the closest known one), values that cannot be read, a production set-up
    without a session secret. Empty when all is well."""
    environ = os.environ if environ is None else environ
    known = known_settings()
    problems = []
    for key in sorted(k for k in environ if k.startswith(PREFIX)):
        name = key.removeprefix(PREFIX)
        if name in TOOL_VARIABLES:
            continue
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {PREFIX}{close[0]}?" if close else ""
            problems.append(f"{key}: not a setting{hint}")
            continue
        try:
            parse_setting(name, environ[key])
        except ValueError as exc:
            problems.append(f"{key}={environ[key]!r}: {exc}")
    production = environ.get(f"{PREFIX}PRODUCTION", "").strip().lower() in _TRUE
    if production and not environ.get(f"{PREFIX}SECRET_KEY"):
        problems.append(f"{PREFIX}SECRET_KEY: required when {PREFIX}PRODUCTION is true")
    return problems


class ConfigurationError(RuntimeError):
    """The environment's PERMITFLOW_* variables cannot be used; `problems` lists each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(describe_problems(problems))


def describe_problems(problems: list[str]) -> str:
    """The one message a refused start-up prints."""
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    lines = [f"the configuration cannot be used ({count}):"]
    lines += [f"  - {p}" for p in problems]
    lines.append("Every setting is listed in the README's Configuration table.")
    return "\n".join(lines)


def check_configuration(environ: Mapping[str, str] | None = None) -> None:
    """Raises: ConfigurationError naming every problem of the environment at once."""
    problems = configuration_problems(environ)
    if problems:
        raise ConfigurationError(problems)


def setting(name: str) -> Any:
    """One setting outside an app (the CLI): PERMITFLOW_<NAME>, else the default, typed alike.

    Raises: ValueError for a value that cannot be read (the CLI checks them all first).
    """
    raw = os.environ.get(f"{PREFIX}{name}")
    return getattr(Defaults, name) if raw is None else parse_setting(name, raw)


def delivery_settings(settings: Mapping[str, Any]) -> DeliverySettings:
    """The NOTIFY_* settings (an app's config, or `setting` for the CLI)."""
    return DeliverySettings(
        max_attempts=max(1, int(settings["NOTIFY_MAX_ATTEMPTS"])),
        backoff=timedelta(seconds=float(settings["NOTIFY_BACKOFF"])),
        max_backoff=timedelta(seconds=float(settings["NOTIFY_MAX_BACKOFF"])),
        lease=timedelta(seconds=float(settings["NOTIFY_LEASE"])),
        timeout=float(settings["NOTIFY_TIMEOUT"]),
        retention=(timedelta(days=float(settings["NOTIFY_RETENTION_DAYS"]))
                   if float(settings["NOTIFY_RETENTION_DAYS"]) > 0 else None),
    )


NOTIFY_SETTINGS = ("NOTIFY_MAX_ATTEMPTS", "NOTIFY_BACKOFF", "NOTIFY_MAX_BACKOFF", "NOTIFY_LEASE",
                   "NOTIFY_TIMEOUT", "NOTIFY_RETENTION_DAYS")


def token_lifetime(days: Any) -> timedelta:
    """The lifetime of a new token from the TOKEN_LIFETIME_DAYS setting."""
    return timedelta(days=float(days))


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill `app.config` from defaults, then the environment, then `overrides`."""
    check_configuration()
    app.config.from_object(Defaults)
    for name in known_settings():  # typed like their defaults ("false" is False)
        if f"{PREFIX}{name}" in os.environ:
            app.config[name] = setting(name)
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
