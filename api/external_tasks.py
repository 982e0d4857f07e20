"""External task workers (Camunda 7's external task API): fetch and lock by topic, then
complete, report a failure or a BPMN error, or extend the lock."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.schemas import (
    ExternalBpmnErrorSchema,
    ExternalCompleteSchema,
    ExternalExtendLockSchema,
    ExternalFailureSchema,
    ExternalFetchSchema,
    ExternalTaskSchema,
    LockedExternalTaskSchema,
)
from api.wiring import ctx
from engine.services import external_tasks

blp = Blueprint(
    "external-tasks",
    __name__,
    url_prefix="/api/v1/external-tasks",
    description="Service tasks worked by external workers (admin, external-worker)",
)


@blp.route("/fetch-and-lock")
class FetchAndLock(MethodView):
    @blp.arguments(ExternalFetchSchema)
    @blp.response(200, LockedExternalTaskSchema(many=True))
    def post(self, body: dict[str, Any]) -> Any:
        """Lock up to max_tasks open external tasks of the topics for this worker"""
        return external_tasks.fetch_and_lock(
            ctx(),
            current_actor(),
            body["worker_id"],
            body["topics"],
            body["max_tasks"],
            body.get("region"),
        )


@blp.route("/<uuid:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(ExternalCompleteSchema)
    @blp.response(200, ExternalTaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Complete a locked external task; its variables become process data"""
        return external_tasks.complete(
            ctx(), current_actor(), task_id, body["worker_id"], body["variables"]
        )


@blp.route("/<uuid:task_id>/failure")
class Failure(MethodView):
    @blp.arguments(ExternalFailureSchema)
    @blp.response(200, ExternalTaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Report a failure: retry after retry_timeout ms, or an incident when no retries
        are left"""
        return external_tasks.fail(
            ctx(),
            current_actor(),
            task_id,
            body["worker_id"],
            body["message"],
            body["retries"],
            body["retry_timeout"],
        )


@blp.route("/<uuid:task_id>/bpmn-error")
class BpmnError(MethodView):
    @blp.arguments(ExternalBpmnErrorSchema)
    @blp.response(200, ExternalTaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Throw a BPMN error with a code: an error boundary event catches it, else an
        incident"""
        return external_tasks.bpmn_error(
            ctx(),
            current_actor(),
            task_id,
            body["worker_id"],
            body["code"],
            body.get("message"),
            body["variables"],
        )


@blp.route("/<uuid:task_id>/extend-lock")
class ExtendLock(MethodView):
    @blp.arguments(ExternalExtendLockSchema)
    @blp.response(200, ExternalTaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Extend the worker's lock to new_duration ms from now"""
        return external_tasks.extend_lock(
            ctx(), current_actor(), task_id, body["worker_id"], body["new_duration"]
        )
