"""Region calendars: read a year, change overrides, compute a due time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView

from api.auth import current_actor
from api.blueprint import Blueprint
from api.read_schemas import CalendarSchema, DueTimeSchema
from api.schemas import CalendarArgsSchema, CalendarUpdateSchema, CalendarWeekSchema, DueArgsSchema
from api.wiring import ctx
from engine.services import calendars, office_week

blp = Blueprint(
    "calendars",
    __name__,
    url_prefix="/api/v1/regions/<region>/calendar",
    description="Working-day calendars (hari kerja, libur nasional, cuti bersama)",
)


@blp.route("")
class Calendar(MethodView):
    @blp.arguments(CalendarArgsSchema, location="query")
    @blp.response(200, CalendarSchema)
    def get(self, args: dict[str, Any], region: str) -> Any:
        """A region's calendar for a year: hours, closed days, overrides"""
        year = args.get("year") or datetime.now(UTC).year
        return calendars.get_calendar(ctx(), current_actor(), region, year)

    @blp.arguments(CalendarUpdateSchema)
    @blp.response(200, CalendarSchema)
    def put(self, body: dict[str, Any], region: str) -> Any:
        """Replace a year's overrides (admin, supervisor); audited

        Every override's `day` lies in `year`, and no day is given twice (422 otherwise).
        """
        overrides = [{**o, "day": o["day"].isoformat()} for o in body["overrides"]]
        return calendars.set_overrides(ctx(), current_actor(), region, body["year"], overrides)


@blp.route("/week")
class Week(MethodView):
    @blp.arguments(CalendarWeekSchema)
    @blp.response(200, CalendarSchema)
    def put(self, body: dict[str, Any], region: str) -> Any:
        """Set the working week and office hours (admin, supervisor); audited

        `day_hours` lists the weekdays whose hours differ (e.g. Friday 07:30-16:30); open
        deadlines from today on are laid out again on the new week. Opening is before
        closing, and each weekday is given once (422 otherwise).
        """
        return office_week.set_week(ctx(), current_actor(), region, body)


@blp.route("/due")
class Due(MethodView):
    @blp.doc(security=[])
    @blp.arguments(DueArgsSchema, location="query")
    @blp.response(200, DueTimeSchema)
    def get(self, args: dict[str, Any], region: str) -> Any:
        """Public: when a step ready at `from` with `sla` is due in this region"""
        return calendars.due_time(ctx(), region, args["from_"], args["sla"])
