"""The public catalog of every region's procedures with measured figures (no auth)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.schemas import CatalogArgsSchema, CatalogPageSchema
from api.wiring import ctx
from engine.services import catalog

blp = Blueprint(
    "catalog",
    __name__,
    url_prefix="/api/v1/catalog",
    description="Public catalog of procedures: promises and measured figures",
)


@blp.route("")
class Catalog(MethodView):
    @blp.doc(security=[])
    @blp.arguments(CatalogArgsSchema, location="query")
    @blp.response(200, CatalogPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Every region's newest published procedures: fees, SLAs, replications, and the
        last 90 days' started, finished, median and p90 working days, on-time rate"""
        return catalog.catalog(
            ctx(), text=args.get("q"), region=args.get("region"), sort=args.get("sort"),
            limit=args["limit"], offset=args["offset"],
        )
