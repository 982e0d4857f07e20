"""Region calendars: read, change overrides (audited), and compute a due time on demand."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, SUPERVISOR, Actor
from engine.domain.calendar import CalendarOverride, CalendarSettings, WorkingCalendar
from engine.domain.calendar_holidays import cuti_bersama_known
from engine.domain.durations import parse_sla
from engine.domain.errors import InvalidInputError
from engine.domain.formats import NON_BLANK
from engine.domain.problems import Problem
from engine.domain.read_models import CalendarView, CalendarWarning, DueTime
from engine.persistence.tables import (
    CalendarOverrideRecord,
    RegionRecord,
)
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.unit_of_work import UnitOfWork


def calendar_for(uow: UnitOfWork, region: RegionRecord) -> WorkingCalendar:
    """The working calendar of `region` with its active overrides."""
    rows = uow.repos.calendars.active_overrides(region.code)
    overrides = tuple(
        sorted(
            (CalendarOverride(r.day, r.kind, r.reason) for r in rows),  # type: ignore[arg-type]
            key=lambda o: o.day,
        )
    )
    return _calendar(
        CalendarSettings(
            timezone=region.timezone,
            working_days=frozenset(region.working_days),
            opens=time.fromisoformat(region.opens),
            closes=time.fromisoformat(region.closes),
            overrides=overrides,
            day_hours=tuple(
                (h["weekday"], time.fromisoformat(h["opens"]), time.fromisoformat(h["closes"]))
                for h in region.day_hours or ()
            ),
        )
    )


def region_calendar(
    ctx: EngineContext, uow: UnitOfWork, code: str, revision: int | None = None
) -> WorkingCalendar:
    """The calendar of a region known to exist, cached per process under its revision.

    `revision` is the region's `calendar_revision` when the caller read it already (the
    step's lock query does); otherwise it is read here, one integer.
    """
    if revision is None:
        revision = uow.repos.regions.calendar_revision(code)
    uow.region_revisions[code] = revision  # the notification routes are keyed alike
    key = (code, revision)
    calendar: WorkingCalendar | None = ctx.calendars.get(key)
    if calendar is None:
        region = uow.repos.regions.get(code)
        assert region is not None
        # Read after the revision: a change committed in between makes this calendar newer
        # than its key, never older, and the next reader sees the new revision anyway.
        calendar = calendar_for(uow, region)
        ctx.calendars.put(key, calendar)
    return calendar


@lru_cache(maxsize=256)
def _calendar(settings: CalendarSettings) -> WorkingCalendar:
    """One calendar per distinct settings: its per-year tables are built once per process."""
    return WorkingCalendar(settings)


def get_calendar(
    ctx: EngineContext, actor: Actor | None, region: str, year: int
) -> CalendarView:
    """A region's calendar for `year`: settings, closed days with names, overrides.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        record = visible_region(uow, actor, region)
        calendar = calendar_for(uow, record)
        overrides = [o for o in calendar.settings.overrides if o.day.year == year]
        return {
            "region": region,
            "year": year,
            "timezone": record.timezone,
            "working_days": sorted(record.working_days),
            "opens": record.opens,
            "closes": record.closes,
            "day_hours": list(record.day_hours or []),
            "warnings": cuti_bersama_warnings([year]),
            "closed_days": [
                {"day": d.day.isoformat(), "reason": d.reason, "estimated": d.estimated}
                for d in calendar.closed_days(year)
            ],
            "overrides": [
                {"day": o.day.isoformat(), "kind": o.kind, "reason": o.reason}
                for o in sorted(overrides, key=lambda o: o.day)
            ],
        }


def set_overrides(
    ctx: EngineContext,
    actor: Actor,
    region: str,
    year: int,
    overrides: list[dict[str, Any]],
) -> CalendarView:
    """Replace the region's overrides within `year` (admin or supervisor); audited per change.

    Due times of ready steps from the earliest changed day on are recomputed.
    Raises: PermissionDeniedError, NotFoundError, InvalidInputError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="changing a calendar")
    wanted = _parse_overrides(year, overrides)
    now = ctx.clock()
    with ctx.uow() as uow:
        record = visible_region(uow, actor, region)
        current = {
            r.day: r for r in uow.repos.calendars.active_overrides(region) if r.day.year == year
        }
        changed = _apply_changes(uow, actor, region, current, wanted, now)
        if changed:
            # An SQL increment: two concurrent changes get two revisions, never one.
            record.calendar_revision = RegionRecord.calendar_revision + 1
            recompute_due(uow, calendar_for(uow, record), region, min(changed))
        uow.commit()
    return get_calendar(ctx, actor, region, year)


def _parse_overrides(year: int, items: list[dict[str, Any]]) -> dict[date, CalendarOverride]:
    wanted, problems = {}, []
    for i, item in enumerate(items):
        try:
            day = date.fromisoformat(str(item.get("day")))
            kind = item.get("kind")
            if kind not in ("closed", "open"):
                raise ValueError("kind must be 'closed' or 'open'")
            reason = item.get("reason")
            if not NON_BLANK.matches(reason):
                raise ValueError("needs a reason")
            override = CalendarOverride(day, kind, str(reason).strip(" \t\r\n"))
            if day.year != year or not override.reason or day in wanted:
                raise ValueError(f"needs a day in {year}, given once, and a reason")
            wanted[day] = override
        except (ValueError, TypeError) as exc:
            problems.append(Problem(str(exc), field=f"/overrides/{i}"))
    if problems:
        raise InvalidInputError("the calendar overrides are not valid", problems)
    return wanted


def _apply_changes(
    uow: UnitOfWork,
    actor: Actor,
    region: str,
    current: dict[date, CalendarOverrideRecord],
    wanted: dict[date, CalendarOverride],
    now: datetime,
) -> list[date]:
    changed = []
    for day, row in current.items():
        target = wanted.get(day)
        if target is None or (target.kind, target.reason) != (row.kind, row.reason):
            row.removed_at, row.removed_by = now, actor.id
            changed.append(day)
            record_event(
                uow,
                actor=actor,
                action="calendar.override_removed",
                subject=f"calendar:{region}",
                at=now,
                region_code=region,
                reason=row.reason,
                data={"before": {"day": day.isoformat(), "kind": row.kind}, "after": None},
            )
    for day, target in wanted.items():
        existing = current.get(day)
        if existing is None or existing.removed_at is not None:
            uow.repos.regions.add(
                CalendarOverrideRecord(
                    region_code=region,
                    day=day,
                    kind=target.kind,
                    reason=target.reason,
                    created_by=actor.id,
                    created_at=now,
                )
            )
            changed.append(day)
            record_event(
                uow,
                actor=actor,
                action="calendar.override_added",
                subject=f"calendar:{region}",
                at=now,
                region_code=region,
                reason=target.reason,
                data={"before": None, "after": {"day": day.isoformat(), "kind": target.kind}},
            )
    return changed


def recompute_due(uow: UnitOfWork, calendar: WorkingCalendar, region: str, since: date) -> None:
    """Lay out again on `calendar` the due times of the region's ready steps and running
    process clocks that fall on or after `since` (a change to the calendar from that day)."""
    start = datetime.combine(since, time.min, tzinfo=calendar.tz)
    for task in uow.repos.calendars.ready_steps_due_from(region, start):
        if task.sla:
            task.due_at = calendar.due(task.ready_at, task.sla)
    # The process SLA runs on the same calendar (DESIGN §3): what is left of its budget of
    # working minutes is laid out again from where the running clock last (re)started.
    for app in uow.repos.calendars.running_clocks_due_from(region, start):
        resumed = app.sla_running_since
        assert resumed is not None  # selected so
        if app.process_sla and not app.sla_used_minutes and resumed == app.created_at:
            app.due_at = calendar.due(app.created_at, app.process_sla)  # never paused: exact
        else:
            left = max(0, app.sla_budget_minutes - app.sla_used_minutes)
            app.due_at = calendar.add_working_minutes(resumed, left)


def due_time(ctx: EngineContext, region: str, start: datetime, sla: str) -> DueTime:
    """When a step ready at `start` with `sla` is due in `region` (public).

    Raises: NotFoundError, InvalidInputError.
    """
    try:
        duration = parse_sla(sla)
    except ValueError as exc:
        raise InvalidInputError(str(exc), [Problem(str(exc), field="sla")]) from None
    if start.tzinfo is None:
        raise InvalidInputError(
            "give the start with its offset", [Problem("naive time", field="from")]
        )
    with ctx.reader() as uow:
        calendar = calendar_for(uow, visible_region(uow, None, region))
    due = calendar.due(start, duration)
    clock_start = calendar.clock_start(start)
    first, last = clock_start.astimezone(calendar.tz).year, due.astimezone(calendar.tz).year
    return {
        "region": region,
        "from": start,
        "sla": duration.iso(),
        "clock_start": clock_start,
        "due_at": due,
        "due_local": due.astimezone(calendar.tz).isoformat(),
        "working_minutes": calendar.working_minutes_between(start, due),
        "warnings": cuti_bersama_warnings(range(first, last + 1)),
    }


def cuti_bersama_warnings(years: Iterable[int]) -> list[CalendarWarning]:
    """A warning for each of `years` whose cuti bersama the calendar does not know yet: its
    SKB 3 Menteri is not in the `holidays` package, so its working days may still change."""
    return [
        {
            "code": "cuti-bersama-unknown",
            "year": year,
            "message": {
                "id": f"Cuti bersama tahun {year} belum diketahui kalender (SKB 3 Menteri "
                "belum tercatat); tenggat yang jatuh pada tahun itu dapat bergeser.",
                "en": f"The cuti bersama (collective leave) of {year} are not yet known to the "
                "calendar (no SKB 3 Menteri recorded); a deadline in that year may move.",
            },
        }
        for year in years
        if not cuti_bersama_known(year)
    ]
