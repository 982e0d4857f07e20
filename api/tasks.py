"""Tasks: the caller's inbox, one task, claim, unclaim, complete."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.schemas import (
    ApplicationProgressSchema,
    AssignSchema,
    TaskCompleteSchema,
    TaskDetailSchema,
    TaskListArgsSchema,
    TaskPageSchema,
    TaskSchema,
    UnclaimSchema,
)
from api.wiring import ctx
from engine.services import tasks

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Officers' tasks")


@blp.route("")
class Inbox(MethodView):
    @blp.arguments(TaskListArgsSchema, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's inbox: ready tasks of own region and roles"""
        return tasks.inbox(
            ctx(),
            current_actor(),
            assigned_to_me=args.get("assigned") == "me",
            role=args.get("role"),
            overdue=args.get("overdue", False),
            limit=args["limit"],
            offset=args["offset"],
        )


@blp.route("/<uuid:task_id>")
class Task(MethodView):
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id: uuid.UUID) -> Any:
        """One task with its form schema and data"""
        return tasks.get_task(ctx(), current_actor(), task_id)


@blp.route("/<uuid:task_id>/claim")
class Claim(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id: uuid.UUID) -> Any:
        """Claim a task"""
        return tasks.claim_task(ctx(), current_actor(), task_id)


@blp.route("/<uuid:task_id>/unclaim")
class Unclaim(MethodView):
    @blp.arguments(UnclaimSchema, required=False)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any] | None, task_id: uuid.UUID) -> Any:
        """Release a claim"""
        return tasks.unclaim_task(ctx(), current_actor(), task_id, (body or {}).get("reason"))


@blp.route("/<uuid:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(TaskCompleteSchema)
    @blp.response(200, ApplicationProgressSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Complete a task with form data (no prior claim needed)"""
        return tasks.complete_task(ctx(), current_actor(), task_id, body["data"])


@blp.route("/<uuid:task_id>/assign")
class Assign(MethodView):
    @blp.arguments(AssignSchema)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Hand a task to an officer holding its role (supervisor)"""
        return tasks.assign_task(
            ctx(), current_actor(), task_id, body["user_id"], body.get("reason")
        )
