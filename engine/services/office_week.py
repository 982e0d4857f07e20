"""A region's working week and office hours, as the office runs them (issue #15 item 6).

Perpres 21/2023 sets 5 days, Monday to Friday, from 07:30 local time, with a longer Friday
break; units serving the public directly may keep other days (a Saturday counter) and hours
(permit-domain §3.4). Every due time of the region follows the week; changing it lays out
again the open deadlines from today, as an override does (`calendars.set_overrides`).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, SUPERVISOR, Actor
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.domain.read_models import CalendarView
from engine.persistence.tables import RegionRecord
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.services.calendars import calendar_for, get_calendar, recompute_due


def set_week(
    ctx: EngineContext, actor: Actor, region: str, week: dict[str, Any]
) -> CalendarView:
    """Set the region's working week and office hours (admin or supervisor); audited.

    `week` is `{working_days: [0-6, ...] (0 = Monday), opens: "HH:MM", closes: "HH:MM",
    day_hours: [{weekday, opens, closes}, ...]}` (`day_hours`: the weekdays whose hours
    differ). Ready steps and running process clocks due from today on are recomputed.
    Returns this year's calendar.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError (each bad field named).
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="changing a calendar")
    wanted = _parse_week(week)
    now = ctx.clock()
    with ctx.uow() as uow:
        record = visible_region(uow, actor, region)
        before = _stored(record)
        if before != wanted:
            record.working_days = wanted["working_days"]
            record.opens, record.closes = wanted["opens"], wanted["closes"]
            record.day_hours = wanted["day_hours"] or None
            record.calendar_revision = RegionRecord.calendar_revision + 1
            record_event(
                uow,
                actor=actor,
                action="calendar.week_changed",
                subject=f"calendar:{region}",
                at=now,
                region_code=region,
                data={"before": before, "after": wanted},
            )
            calendar = calendar_for(uow, record)
            recompute_due(uow, calendar, region, now.astimezone(calendar.tz).date())
        uow.commit()
    return get_calendar(ctx, actor, region, now.year)


def _stored(record: RegionRecord) -> dict[str, Any]:
    return {
        "working_days": sorted(record.working_days),
        "opens": record.opens,
        "closes": record.closes,
        "day_hours": list(record.day_hours or []),
    }


def _parse_week(week: dict[str, Any]) -> dict[str, Any]:
    problems: list[Problem] = []
    days = week.get("working_days")
    if (
        not isinstance(days, list)
        or not days
        or any(isinstance(d, bool) or d not in range(7) for d in days)
        or len(set(days)) != len(days)
    ):
        problems.append(Problem(
            "working_days is a non-empty list of distinct weekdays 0-6 (0 = Monday)",
            field="/working_days"))
        days = [0]
    opens = _time(week.get("opens"), "/opens", problems)
    closes = _time(week.get("closes"), "/closes", problems)
    if opens and closes and opens >= closes:
        problems.append(Problem("opens must be before closes", field="/closes"))
    day_hours = []
    seen: set[int] = set()
    for i, item in enumerate(week.get("day_hours") or []):
        weekday = item.get("weekday") if isinstance(item, dict) else None
        if not isinstance(weekday, int) or isinstance(weekday, bool) or weekday not in range(7) \
                or weekday in seen:
            problems.append(Problem(
                "weekday is 0-6 (0 = Monday), each at most once", field=f"/day_hours/{i}/weekday"))
            continue
        seen.add(weekday)
        start = _time(item.get("opens"), f"/day_hours/{i}/opens", problems)
        end = _time(item.get("closes"), f"/day_hours/{i}/closes", problems)
        if start and end and start >= end:
            problems.append(Problem("opens must be before closes", field=f"/day_hours/{i}/closes"))
        elif start and end:
            day_hours.append({"weekday": weekday, "opens": _hhmm(start), "closes": _hhmm(end)})
    if problems:
        raise InvalidInputError("the working week is not valid", problems)
    assert opens is not None and closes is not None
    return {
        "working_days": sorted(days),
        "opens": _hhmm(opens),
        "closes": _hhmm(closes),
        "day_hours": sorted(day_hours, key=lambda h: h["weekday"]),
    }


def _time(value: Any, field: str, problems: list[Problem]) -> time | None:
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        problems.append(Problem("a local time HH:MM, e.g. 07:30", field=field))
        return None


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")
