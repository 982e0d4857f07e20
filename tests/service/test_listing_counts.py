"""Listings count their matches up to a bound (issue #16: flat from 1k to 1M open tasks).

The bound is lowered to 3 here; a page then says "at least 3" unless the page asked for
reaches further, where the count goes to the page's end. Paging order is unchanged.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask

from api import create_app
from engine.context import EngineContext
from engine.domain import views
from engine.services import applications, tasks
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload

WIB = timezone(timedelta(hours=7))


@pytest.fixture
def clock(ctx: EngineContext, monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=WIB))
    ctx.clock = clock
    make_region(ctx, "3273")
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    return clock


def _start(ctx: EngineContext, clock: Clock, n: int, *, same_moment: bool = False) -> list:
    upload(ctx, "3273", tiny_bpmn(key="counter", steps=1, sla="P3D", role="front-office"))
    upload(ctx, "3273", tiny_bpmn(key="fixes", steps=1, sla="P1D", role="applicant"))
    officer, _ = make_user(ctx, "front-office")
    started = []
    for i in range(n):
        key = "counter" if i % 2 else "fixes"
        started.append(applications.start_application(ctx, officer, "3273", key, {}, {}))
        if not same_moment:
            clock.advance(hours=1)
    return started


def test_the_inbox_total_is_exact_up_to_the_bound_then_capped(
    ctx: EngineContext, clock: Clock
) -> None:
    started = _start(ctx, clock, 7)
    officer, _ = make_user(ctx, "front-office", name="second officer")
    supervisor, _ = make_user(ctx, "supervisor", name="supervisor")
    admin, _ = make_user(ctx, "admin", region=None, name="admin")
    for actor in (officer, supervisor, admin):  # per-role union, one region, every region
        first = tasks.inbox(ctx, actor, limit=2)
        assert (first.total, first.total_capped) == (3, True)
        # A page reaching past the bound is counted to its end (here: to the last task).
        last = tasks.inbox(ctx, actor, limit=2, offset=6)
        assert (last.total, last.total_capped) == (7, False)
        pages = [tasks.inbox(ctx, actor, limit=2, offset=o) for o in (0, 2, 4, 6)]
        expected = sorted((a.tasks[0].due_at, a.tasks[0].ready_at, a.tasks[0].id)
                          for a in started)
        assert [t.id for p in pages for t in p.items] == [e[2] for e in expected]
    claimed = tasks.inbox(ctx, officer, limit=2, assigned_to_me=True)
    assert (claimed.total, claimed.total_capped) == (0, False)


def test_the_inbox_total_at_the_bound_exactly_is_not_capped(
    ctx: EngineContext, clock: Clock
) -> None:
    _start(ctx, clock, 3)
    officer, _ = make_user(ctx, "front-office", name="second officer")
    page = tasks.inbox(ctx, officer, limit=2)
    assert (page.total, page.total_capped, len(page.items)) == (3, False, 2)


@pytest.mark.parametrize("same_moment", [False, True])
def test_applications_are_listed_newest_first_with_a_bounded_total(
    ctx: EngineContext, clock: Clock, same_moment: bool
) -> None:
    started = _start(ctx, clock, 5, same_moment=same_moment)
    supervisor, _ = make_user(ctx, "supervisor", name="supervisor")
    admin, _ = make_user(ctx, "admin", region=None, name="admin")
    for actor in (supervisor, admin):
        pages = [applications.list_applications(ctx, actor, limit=2, offset=o)
                 for o in (0, 2, 4)]
        assert [(p.total, p.total_capped) for p in pages] == [(3, True), (4, True), (5, False)]
        listed = [a.id for p in pages for a in p.items]
        # Newest first; applications started at the same moment in a fixed (id) order.
        expected = sorted(started, key=lambda a: (a.created_at, a.id), reverse=True)
        assert listed == [a.id for a in expected]
        running = applications.list_applications(ctx, actor, status="running", limit=10)
        assert (running.total, running.total_capped) == (5, False)


def test_over_http_a_capped_total_says_so(db_url: str, tmp_path, clock: Clock,
                                          ctx: EngineContext) -> None:
    _start(ctx, clock, 5)
    app: Flask = create_app({"DATABASE_URL": db_url, "TESTING": True,
                             "SIGNING_KEY_DIR": str(tmp_path / "signing-keys")})
    app.extensions["permitflow"].clock = clock
    try:
        _, token = make_user(app.extensions["permitflow"], "supervisor", name="sup")
        client = app.test_client()
        for path in ("/api/v1/tasks?limit=2", "/api/v1/applications?limit=2"):
            body = client.get(path, headers={"Authorization": f"Bearer {token}"}).json
            assert (body["total"], body["total_capped"]) == (3, True), path
        body = client.get("/api/v1/tasks?limit=10",
                          headers={"Authorization": f"Bearer {token}"}).json
        assert (body["total"], body["total_capped"]) == (5, False)
    finally:
        app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.mark.parametrize("read_ids_first", [True, False])
def test_the_overdue_listing_is_the_same_through_ids_or_the_clause(
    ctx: EngineContext, clock: Clock, monkeypatch: pytest.MonkeyPatch, read_ids_first: bool
) -> None:
    """Overdue ids are read through their indexes first; past `OVERDUE_IDS` of them the
    clause decides row by row. Both list the same applications in the same order."""
    from engine.persistence.repositories import applications as application_repository
    from engine.services import worker

    if not read_ids_first:
        monkeypatch.setattr(application_repository, "OVERDUE_IDS", 0)
    started = _start(ctx, clock, 5)  # "fixes" (P1D step) and "counter" (P3D step) alternate
    supervisor, _ = make_user(ctx, "supervisor", name="supervisor")
    assert applications.list_applications(ctx, supervisor, overdue=True).items == []
    clock.advance(days=2)  # the P1D steps are past due, not yet marked
    late = applications.list_applications(ctx, supervisor, overdue=True)
    fixes = [a.id for a in reversed(started) if a.process_key == "fixes"]
    assert [a.id for a in late.items] == fixes and (late.total, late.total_capped) == (3, False)
    clock.advance(days=30)  # every step and every application's backstop
    worker.run_pass(ctx, clock())  # breaches recorded: still overdue through `breached_at`
    every = applications.list_applications(ctx, supervisor, overdue=True, limit=2)
    assert [a.id for a in every.items] == [a.id for a in reversed(started)][:2]
    assert every.total == 3 and every.total_capped  # bound 3 in this module
