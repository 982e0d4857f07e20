"""The audit chains' heads, public: publishing them outside the database pins the chains."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.schemas import PublishedHeadSchema
from api.wiring import ctx
from engine.services import audit

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    description="Audit chain heads (public: hashes and counts, no content)",
)


@blp.route("/heads")
class Heads(MethodView):
    @blp.doc(security=[])
    @blp.response(200, PublishedHeadSchema(many=True))
    def get(self) -> Any:
        """Each region's audit chain head now: record it anywhere, check it later with
        `permitflow audit verify --published`"""
        return audit.published_heads(ctx())
