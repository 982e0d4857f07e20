"""The public catalog: every region's procedures with what they promise and what they do
(DESIGN §5) - the basis for choosing what to replicate.

Per model, its newest published version: title, steps, total fee (both with the steps of
the models it calls, bound as a new application would bind them), legal SLA, origin and
how many other (region, key) copied it; and figures measured over the last 90 days from
indexed application rows only (DESIGN §8: no workflow is loaded):

- `started`: applications created in the window; `finished`: completed in the window
  (cancelled ones are not finished);
- `median_days`, `p90_days`: working days from start to completion of the finished ones
  (`cycle_minutes` over the office minutes of the region's average working day).
  The median of an even count is the mean of the middle two; p90 is the nearest rank.
  This is the time the citizen experiences, the applicant's own time included;
- `on_time_rate`: finished with `sla_used_minutes <= sla_budget_minutes`. The process SLA
  clock pauses while the application waits on the applicant (fixing documents, paying), as
  the service standard's deadline does, so this is the share where the agency kept its own
  promise; comparing `cycle_minutes` to the budget instead would blame the agency for the
  applicant's time. It counts finished applications only, which flatters a slow service
  whose late cases are still open, so `overdue_running` counts running applications past
  their SLA now, beside it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from engine.context import EngineContext
from engine.domain.durations import parse_sla
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.domain.read_models import CatalogItem, CatalogPage
from engine.persistence.tables import ModelVersionRecord, RegionRecord
from engine.persistence.version_queries import VersionQueries
from engine.services.called_steps import fixed_total, published_steps
from engine.services.reports import percentile

WINDOW_DAYS = 90
FIGURES = ("started", "finished", "median_days", "p90_days", "on_time_rate", "overdue_running")
SORT_KEYS = frozenset(
    {
        "title",
        "key",
        "region",
        "version",
        "steps",
        "total_fee",
        "legal_sla_days",
        "replications",
        *FIGURES,
    }
)


def catalog(
    ctx: EngineContext,
    *,
    text: str | None = None,
    region: str | None = None,
    sort: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CatalogPage:
    """Public: one row per model, filtered by `text` (key or title) and `region`, sorted by
    any figure (`-` first for descending; rows without the figure come last), paged.

    Raises: InvalidInputError for an unknown sort key.
    """
    key, descending = _sort_key(sort)
    now = ctx.clock()
    since = now - timedelta(days=WINDOW_DAYS)
    with ctx.reader() as uow:
        queries = uow.repos.versions
        rows = queries.newest_published_all(region_code=region, text=(text or "").strip())
        copies = queries.replication_counts()
        figures = _figures(queries, since, now)
        items = [
            _item(v, r, copies, figures, published_steps(ctx, uow, v)) for v, r in rows
        ]
    items = _sorted(items, key, descending)
    return {
        "items": items[offset : offset + limit],
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "since": since,
        "generated_at": now,
        "window_days": WINDOW_DAYS,
    }


def _sort_key(sort: str | None) -> tuple[str, bool]:
    if not sort:
        return "region", False
    descending = sort.startswith("-")
    key = sort[1:] if descending else sort
    if key not in SORT_KEYS:
        raise InvalidInputError(
            f"cannot sort by {key!r}",
            [
                Problem(
                    f"sort by one of: {', '.join(sorted(SORT_KEYS))} (prefix - for descending)",
                    field="sort",
                )
            ],
        )
    return key, descending


Figures = dict[tuple[str, str], dict[str, Any]]


def _figures(queries: VersionQueries, since: datetime, now: datetime) -> Figures:
    figures: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for region, key, started, finished, on_time, overdue in queries.application_figures(since, now):
        figures[(region, key)].update(
            started=started, finished=finished, on_time=on_time, overdue_running=overdue
        )
    for region, key, minutes in queries.cycle_minutes(since):
        figures[(region, key)].setdefault("cycles", []).append(minutes)
    return figures


def _item(
    version: ModelVersionRecord,
    region: RegionRecord,
    copies: dict[tuple[str, str], int],
    figures: Figures,
    steps: list[dict[str, Any]],
) -> CatalogItem:
    per_day = working_minutes_per_day(region)
    measured = _measured(figures.get((version.region_code, version.key), {}), per_day)
    source = (version.lineage or {}).get("source")
    return {
        "region": {"code": region.code, "name": region.name},
        "key": version.key,
        "version": version.version,
        "title": version.title,
        "origin": source,
        "steps": len(steps),
        "total_fee": fixed_total(steps),
        "legal_sla": version.process_sla,
        "legal_sla_days": _sla_days(version.process_sla, per_day),
        "replications": copies.get((version.region_code, version.key), 0),
        "started": measured["started"],
        "finished": measured["finished"],
        "median_days": measured["median_days"],
        "p90_days": measured["p90_days"],
        "on_time_rate": measured["on_time_rate"],
        "overdue_running": measured["overdue_running"],
    }


def working_minutes_per_day(region: RegionRecord) -> int:
    """Office minutes of an average working day of `region`'s week (07:30-16:00 -> 510;
    a weekday with its own hours, e.g. Friday to 16:30, counts at its length), rounded."""
    own = {h["weekday"]: (h["opens"], h["closes"]) for h in region.day_hours or ()}
    spans = [own.get(day, (region.opens, region.closes)) for day in region.working_days]
    total = sum(_minutes(closes) - _minutes(opens) for opens, closes in spans)
    return round(total / len(spans))


def _minutes(text: str) -> int:
    moment = time.fromisoformat(text)
    return moment.hour * 60 + moment.minute


def _sla_days(sla: str | None, per_day: int) -> float | None:
    if sla is None:
        return None
    parsed = parse_sla(sla)
    return float(parsed.days) if parsed.counts_days else round(parsed.minutes / per_day, 2)


def _measured(found: dict[str, Any], per_day: int) -> dict[str, Any]:
    days = [m / per_day for m in found.get("cycles", [])]
    finished = found.get("finished", 0)
    return {
        "started": found.get("started", 0),
        "finished": finished,
        "median_days": round(statistics.median(days), 2) if days else None,
        "p90_days": round(percentile(days, 0.9) or 0.0, 2) if days else None,
        "on_time_rate": round(found.get("on_time", 0) / finished, 4) if finished else None,
        "overdue_running": found.get("overdue_running", 0),
    }


def _sorted(items: list[CatalogItem], key: str, descending: bool) -> list[CatalogItem]:
    def value(item: CatalogItem) -> Any:
        row: dict[str, Any] = dict(item)
        found = row[key]["code"] if key == "region" else row[key]
        return found.lower() if isinstance(found, str) else found

    present = [i for i in items if value(i) is not None]
    missing = [i for i in items if value(i) is None]
    present.sort(key=lambda i: (i["region"]["code"], i["key"]))
    present.sort(key=value, reverse=descending)  # stable: ties stay by region, key
    return present + missing
