"""Authenticated tokens cached in the process for a short time (issue #16).

A request then costs no token query. A revocation made through the same process is seen at
once (the cache is cleared); one made through another process within the cache's time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, event

from api.wiring import build_context
from engine.context import EngineContext, TokenCache
from engine.domain.actors import SYSTEM
from engine.domain.errors import AuthenticationError
from engine.services import users
from tests.factories import make_region


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_its_seconds_and_a_zero_cache_keeps_nothing() -> None:
    ticks = Ticks()
    cache = TokenCache(5.0, monotonic=ticks)
    cache.put("h", "actor")
    ticks.now += 4.9
    assert cache.get("h") == "actor"
    ticks.now += 0.1
    assert cache.get("h") is None
    off = TokenCache(0.0)
    off.put("h", "actor")
    assert off.get("h") is None


def queries(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


@pytest.fixture
def two_processes(ctx: EngineContext, db_url: str):
    """`ctx` with a 5-second token cache on a fake monotonic clock, and a second context
    (another API process) on the same database."""
    make_region(ctx, "3273")
    ticks = Ticks()
    ctx.tokens = TokenCache(5.0, monotonic=ticks)
    other = build_context(db_url)
    yield ctx, other, ticks
    other.session_factory.kw["bind"].dispose()


def test_a_cached_token_costs_no_query_and_a_revocation_elsewhere_is_seen_within_the_time(
    two_processes,
) -> None:
    ctx, other, ticks = two_processes
    created = users.add_user(ctx, SYSTEM, "Sari", ["front-office"], "3273")
    first = users.authenticate(ctx, created.token)
    seen = queries(ctx.session_factory.kw["bind"])
    assert users.authenticate(ctx, created.token) == first and seen == []
    (token,) = users.list_users(other, SYSTEM, "3273")[0]["tokens"]
    users.revoke_token(other, SYSTEM, created.id, token["id"])  # through the other process
    ticks.now += 4
    assert users.authenticate(ctx, created.token) == first  # still within the cache's time
    ticks.now += 1
    with pytest.raises(AuthenticationError):
        users.authenticate(ctx, created.token)


def test_a_revocation_or_a_disabled_user_in_the_same_process_is_seen_at_once(
    two_processes,
) -> None:
    ctx, _, _ = two_processes
    created = users.add_user(ctx, SYSTEM, "Sari", ["front-office"], "3273")
    users.authenticate(ctx, created.token)
    (token,) = users.list_users(ctx, SYSTEM, "3273")[0]["tokens"]
    users.revoke_token(ctx, SYSTEM, created.id, token["id"])
    with pytest.raises(AuthenticationError):
        users.authenticate(ctx, created.token)
    again = users.issue_token(ctx, SYSTEM, created.id, timedelta(days=1))["token"]
    users.authenticate(ctx, again)
    users.disable_user(ctx, SYSTEM, created.id)
    with pytest.raises(AuthenticationError):
        users.authenticate(ctx, again)


def test_a_cached_token_still_expires_on_time(two_processes) -> None:
    ctx, _, _ = two_processes
    start = ctx.clock()
    ctx.clock = lambda: start
    created = users.add_user(ctx, SYSTEM, "Sari", ["front-office"], "3273", timedelta(days=1))
    users.authenticate(ctx, created.token)
    ctx.clock = lambda: start + timedelta(days=1, seconds=1)
    with pytest.raises(AuthenticationError):
        users.authenticate(ctx, created.token)
