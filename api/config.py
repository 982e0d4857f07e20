"""Configuration, read in one place: defaults, then PERMITFLOW_* environment, then overrides.

Every variable is listed in the README. `engine` never reads the environment; it gets
these values as arguments from `api/wiring.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


class Defaults:
    """Default settings; each is overridable as PERMITFLOW_<NAME>."""

    DATABASE_URL = "sqlite:///var/permitflow.db"
    MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    SCRIPT_CPU_SECONDS = 1.0
    SCRIPT_MAX_ITERATIONS = 100_000
    SPEC_CACHE_SIZE = 256
    WORKER_INTERVAL = 30.0
    LOG_LEVEL = "INFO"

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


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill `app.config` from defaults, then the environment, then `overrides`."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("PERMITFLOW")
    if overrides:
        app.config.update(overrides)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_BYTES"])
