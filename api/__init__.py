"""The permitflow HTTP API: the app factory. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api

from api import (
    applicant_documents,
    application_actions,
    applications,
    audit,
    billing,
    calendars,
    catalog,
    citizen,
    documents,
    external_tasks,
    messages,
    notifications,
    ops,
    process_models,
    regions,
    reports,
    standards,
    tasks,
    tracking,
    users,
    versions,
)
from api.config import load_config
from api.errors import PROBLEM_JSON, register_error_handlers
from api.etags import init_etags
from api.idempotency import init_idempotency
from api.lean_flask import LeanFlask
from api.observability import init_observability
from api.schemas import ProblemSchema
from api.validation import MAX_DEPTH, MAX_NUMBER_DIGITS, BoundedIntConverter
from api.web import init_web
from api.wiring import init_engine

API_RULES = (
    "Rules for every request, whatever the operation: JSON bodies nest at most "
    f"{MAX_DEPTH} levels; numbers are finite (no NaN or Infinity) and have at most "
    f"{MAX_NUMBER_DIGITS} digits; text (keys too, and query and path parameters) holds no NUL "
    "(U+0000) and no lone surrogate. Anything else the server checks is stated on the "
    "field. Every error is application/problem+json (RFC 9457) with the field of each problem."
)
SPEC_OPTIONS = {
    "info": {"description": API_RULES},
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

    def _register_responses(self) -> None:
        # flask-smorest documents its error responses as application/json; ours are sent
        # (and so documented) as application/problem+json.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = Api.DEFAULT_RESPONSE_CONTENT_TYPE


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: config, engine wiring, blueprints, error handlers."""
    app = LeanFlask("permitflow")
    app.json = IsoJSONProvider(app)
    load_config(app, overrides)
    app.config.setdefault("API_SPEC_OPTIONS", SPEC_OPTIONS)
    init_engine(app)
    # Imported here, not at the top: prometheus_client chooses its storage when first
    # imported, and `permitflow serve` sets PROMETHEUS_MULTIPROC_DIR only before forking.
    from api.metrics import init_metrics

    init_metrics(app, app.extensions["permitflow"])
    # Before any route exists: every `<int:...>` of every blueprint is bounded.
    app.url_map.converters["int"] = BoundedIntConverter
    api = PermitflowApi(app)
    for module in (
        regions,
        calendars,
        process_models,
        applications,
        application_actions,
        tasks,
        reports,
        tracking,
        versions,
        catalog,
        audit,
        users,
        standards,
        citizen,
        applicant_documents,
        billing,
        ops,
        messages,
        external_tasks,
        notifications,
        documents,
    ):
        api.register_blueprint(module.blp)
    register_error_handlers(app)
    init_etags(app)  # before idempotency: a stale If-Match claims no key
    init_idempotency(app)
    init_web(app)
    init_observability(app)  # last: its request id is set before every other hook
    return app
