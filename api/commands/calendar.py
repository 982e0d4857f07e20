"""CLI: regions' working-day calendars (`permitflow calendar due`, `calendar week`)."""

from __future__ import annotations

import click

from engine.domain.actors import SYSTEM


def register(main: click.Group, group_cls: type[click.Group]) -> None:
    """Add the `calendar` group to the `permitflow` group."""

    @main.group("calendar", cls=group_cls)
    def calendar_group() -> None:
        """Region working-day calendars."""


    @calendar_group.command("due")
    @click.option("--region", required=True)
    @click.option("--from", "start", required=True, help="ISO time with offset")
    @click.option("--sla", required=True, help="P{n}D or PT{n}H")
    def calendar_due(region: str, start: str, sla: str) -> None:
        """When a step ready at --from with --sla is due in --region."""
        from api.commands.cli import aware_time, engine_context
        from engine.services.calendars import due_time

        result = due_time(engine_context(), region, aware_time(start), sla)
        click.echo(f"due_at: {result['due_at'].isoformat()}")
        click.echo(f"local:  {result['due_local']}")
        for warning in result["warnings"]:
            click.echo(f"warning: {warning['message']['en']}", err=True)


    @calendar_group.command("week")
    @click.argument("region")
    @click.option("--working-days", required=True, help="weekdays worked, 0 = Monday: 0,1,2,3,4")
    @click.option("--opens", default="07:30", show_default=True, help="HH:MM, local time")
    @click.option("--closes", default="16:00", show_default=True, help="HH:MM, local time")
    @click.option(
        "--day-hours", multiple=True, metavar="WEEKDAY=HH:MM-HH:MM",
        help="a weekday's own hours, e.g. 4=07:30-16:30 (Friday); repeatable",
    )
    def calendar_week(
        region: str, working_days: str, opens: str, closes: str, day_hours: tuple[str, ...]
    ) -> None:
        """Set a region's working week and office hours (audited; open deadlines recomputed)."""
        from api.commands.cli import engine_context
        from engine.services.office_week import set_week

        try:
            days = [int(d) for d in working_days.split(",") if d.strip()]
            hours = [
                {"weekday": int(day), "opens": span.split("-")[0], "closes": span.split("-")[1]}
                for day, span in (item.split("=", 1) for item in day_hours)
            ]
        except (ValueError, IndexError):
            raise click.BadParameter(
                "--working-days is 0,1,2,3,4; --day-hours is WEEKDAY=HH:MM-HH:MM"
            ) from None
        week = {"working_days": days, "opens": opens, "closes": closes, "day_hours": hours}
        result = set_week(engine_context(), SYSTEM, region, week)
        click.echo(f"working days: {result['working_days']}, {result['opens']}-{result['closes']}")
        for item in result["day_hours"]:
            click.echo(f"weekday {item['weekday']}: {item['opens']}-{item['closes']}")
