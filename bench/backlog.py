"""The officer's and the admin's inbox and the worker pass against a large backlog of open
tasks.

The tables are grown level by level (1k, 100k, 1M open tasks); at each level the inbox
and/or the worker pass is measured. The first `due` tasks ever written are overdue
(`due_at <= now`, not yet marked); every other task is due in the future, so a pass at
any level has exactly `due` breaches to record. After each pass the breaches and their
audit events are undone, so every repetition does the same work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.bulk import OFFICER_SHARE, BulkData
from bench.config import Sizes
from bench.databases import Database
from bench.drivers import BenchError, Transport
from bench.measure import Stopwatch, Summary, ms
from bench.report import TIMES, Row, ratio, verdict
from bench.world import World
from engine.domain.actors import SYSTEM, Actor
from engine.domain.views import COUNT_CAP
from engine.services import tasks, users, worker

INBOX_TARGET = 0.020  # README: p95 ≤ 20 ms at 1M open tasks
INDEPENDENT = 1.5  # a pass may cost this much more than at the smallest backlog (noise)


@dataclass
class Paths:
    """The ways the inbox is read: service, in-process HTTP, and (when running) a real server."""

    flask: Transport
    socket: Transport | None
    socket_label: str = ""


def measure(db: Database, world: World, paths: Paths, sizes: Sizes, inbox: bool,
            passes: bool) -> tuple[list[Row], list[Row], list[str]]:
    """(inbox rows, worker rows, notes)."""
    now = datetime.now(UTC).replace(microsecond=0)
    bulk = BulkData(db, world.ctx, now, sizes.worker_due)
    levels = sorted(set(sizes.inbox_levels if inbox else ()) |
                    set(sizes.worker_levels if passes else ()))
    inbox_rows: list[Row] = []
    pass_times: dict[int, Summary] = {}
    notes = []
    for level in levels:
        seconds = bulk.grow_to(level)
        how = ("COPY, indexes rebuilt, VACUUM ANALYZE" if db.kind == "postgres"
               else "executemany, ANALYZE")
        notes.append(f"{db.label}: grew the backlog to {level:,} open tasks in {seconds:.1f} s "
                     f"({how})")
        if passes and level in sizes.worker_levels:
            pass_times[level] = _passes(world, bulk, now, sizes.worker_due, sizes.worker_repeats)
        if inbox and level in sizes.inbox_levels:
            inbox_rows += _inbox(world, paths, bulk, level, sizes, db.label)
    return inbox_rows, _pass_rows(pass_times, sizes.worker_due, db.label), notes


def _passes(world: World, bulk: BulkData, now: datetime, due: int, repeats: int) -> Summary:
    watch = Stopwatch()
    for _ in range(repeats):
        bulk.reset_breaches()
        with watch.timed():
            report = worker.run_pass(world.ctx, now, batch=due)
        if report.steps_breached != due:
            raise BenchError(f"worker pass recorded {report.steps_breached} breaches, "
                             f"expected {due}")
    bulk.reset_breaches()
    return watch.summary()


def _pass_rows(times: dict[int, Summary], due: int, db: str) -> list[Row]:
    if not times:
        return []
    smallest = min(times)
    base = times[smallest].median
    rows = []
    for level, summary in sorted(times.items()):
        quotient = summary.median / base
        rows.append(Row(
            "worker pass (`worker.run_pass`)",
            f"{level:,} open steps, {due:,} due: records {due:,} breaches "
            f"(`batch={due}`), fires 0 timers", db, ms(summary.median), summary.noise(),
            f"{smallest:,} open: {ms(base)}", ratio(summary.median, base),
            f"independent of backlog (≤ {INDEPENDENT:g}{TIMES} the {smallest:,} row)",
            verdict(quotient <= INDEPENDENT) if level != smallest else "",
        ))
    return rows


def _inbox(world: World, paths: Paths, bulk: BulkData, level: int, sizes: Sizes,
           db: str) -> list[Row]:
    """The officer's inbox (own region and roles) and the admin's (every region, every
    role: the whole backlog), each through the service and over HTTP, interleaved."""
    admin, admin_token = _admin(world)
    readers = {
        "officer": (world.actors["front-office"], world.tokens["front-office"]),
        "admin": (admin, admin_token),
    }
    calls: dict[tuple[str, str], Callable[[], object]] = {}
    for who, (actor, token) in readers.items():
        calls |= _inbox_calls(world, paths, who, actor, token)
    watches = {key: Stopwatch() for key in calls}
    for call in calls.values():  # warm caches and plans
        for _ in range(3):
            call()
    for _ in range(sizes.inbox_queries):  # interleaved: every path sees the same noise
        for key, call in calls.items():
            with watches[key].timed():
                call()
    selected = {"officer": bulk.officer_selects(), "admin": level}
    rows = []
    for (who, label), watch in watches.items():
        summary = watch.summary()
        at_target = level >= 1_000_000
        rows.append(Row(
            f"{who} inbox, {level:,} open tasks", label, db,
            f"p50 {ms(summary.median)} · p95 {ms(summary.p95)}", summary.noise(),
            _selects(who, selected[who], level), "",
            "p95 ≤ 20 ms" if at_target else "",
            verdict(summary.p95 <= INBOX_TARGET) if at_target else "",
        ))
    return rows


def _inbox_calls(world: World, paths: Paths, who: str, actor: Actor,
                 token: str) -> dict[tuple[str, str], Callable[[], object]]:
    calls: dict[tuple[str, str], Callable[[], object]] = {
        (who, "service `tasks.inbox` (first page of 50 + total)"):
            lambda: tasks.inbox(world.ctx, actor).total,
        (who, "HTTP `GET /api/v1/tasks`, Flask test client (in-process)"):
            lambda: paths.flask.call("GET", "/api/v1/tasks", token)["total"],
    }
    if paths.socket is not None:
        socket = paths.socket
        calls[(who, f"HTTP `GET /api/v1/tasks`, {paths.socket_label}")] = \
            lambda: socket.call("GET", "/api/v1/tasks", token)["total"]
    return calls


def _admin(world: World) -> tuple[Actor, str]:
    """An admin (every region), made once per world."""
    if "admin" not in world.actors:
        created = users.add_user(world.ctx, SYSTEM, "bench admin", ["admin"], None)
        world.actors["admin"] = users.authenticate(world.ctx, created.token)
        world.tokens["admin"] = created.token
    return world.actors["admin"], world.tokens["admin"]


def _selects(who: str, selected: int, level: int) -> str:
    if who == "admin":
        return f"selects all {level:,}; total counted to {COUNT_CAP:,} (`total_capped`)"
    return f"selects {selected:,} ({selected / level:.2%}; designed {OFFICER_SHARE:.0%})"
