"""The permitflow HTTP API: the app factory. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api

from api import (
    applications,
    audit,
    calendars,
    catalog,
    fees,
    process_models,
    regions,
    replication,
    reports,
    tasks,
    tracking,
)
from api.config import load_config
from api.errors import register_error_handlers
from api.schemas import ProblemSchema
from api.web import init_web
from api.wiring import init_engine

SECURITY = {
    "security": [{"bearerAuth": []}],
    "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
}


class IsoJSONProvider(DefaultJSONProvider):
    """Times leave as ISO-8601 with offset (DESIGN §3), not Flask's RFC 822 default.

    Schema-less responses (tracking, calendar, reports) and `fields.Dict` values hand
    raw datetimes to `jsonify`; this is where they become text. Keys keep the order the
    schemas and services give them (Flask 3 sorts them unless told not to).
    """

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, date):  # datetime is a date
            return o.isoformat()
        return DefaultJSONProvider.default(o)


class PermitflowApi(Api):
    """flask-smorest's Api with our problem+json schema as the documented error body."""

    ERROR_SCHEMA = ProblemSchema


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: config, engine wiring, blueprints, error handlers."""
    app = Flask("permitflow")
    app.json = IsoJSONProvider(app)
    load_config(app, overrides)
    app.config.setdefault("API_SPEC_OPTIONS", SECURITY)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    init_engine(app)
    api = PermitflowApi(app)
    for module in (
        regions,
        calendars,
        process_models,
        applications,
        fees,
        tasks,
        reports,
        tracking,
        replication,
        catalog,
        audit,
    ):
        api.register_blueprint(module.blp)
    api.register_blueprint(process_models.services_blp)
    register_error_handlers(app)
    init_web(app)
    return app
