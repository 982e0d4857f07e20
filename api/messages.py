"""Messages from other systems (as Camunda 7's `POST /message`): correlate or start."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.schemas import ApplicationProgressSchema, MessageSchema
from api.wiring import ctx
from engine.services import messages

blp = Blueprint(
    "messages",
    __name__,
    url_prefix="/api/v1/messages",
    description="Messages to waiting applications, or to models that start with them",
)


@blp.route("")
class Messages(MethodView):
    @blp.arguments(MessageSchema)
    @blp.response(200, ApplicationProgressSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Deliver a message to the one task waiting for it, or start an application at
        a message start event (admin, integration)"""
        return messages.correlate_message(ctx(), current_actor(), messages.Message(**body))
