"""Reports: SLA compliance per region, process and step."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.read_schemas import SlaReportSchema
from api.schemas import ReportArgsSchema
from api.wiring import ctx
from engine.services import reports

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports")


@blp.route("/sla")
class SlaReport(MethodView):
    @blp.arguments(ReportArgsSchema, location="query")
    @blp.response(200, SlaReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """SLA compliance: count, on-time rate, median and p90 working hours, overdue now

        `from` is before `to` (422 otherwise).
        """
        return reports.sla_report(
            ctx(),
            current_actor(),
            args["from_"],
            args["to"],
            args.get("region"),
            args.get("process"),
        )
