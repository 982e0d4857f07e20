"""Every conformance scenario, through the service layer and over HTTP, on both databases.

A scenario that fails today because of a known defect carries `"xfail"` (the defect and
the branch that fixes it): it runs, must fail, and turns into a failure once fixed, so the
fix removes the field.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from api import create_app
from api.wiring import build_context
from tests.conformance.runner import HttpDriver, Scenario, ServiceDriver, load_scenarios, run


def _params() -> list:
    marks = lambda s: [pytest.mark.xfail(strict=True, reason=s.xfail)] if s.xfail else []  # noqa: E731
    return [pytest.param(s, id=s.name, marks=marks(s)) for s in load_scenarios()]


@pytest.fixture
def flask_app(db_url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.mark.parametrize("scenario", _params())
def test_scenario_through_the_services(db_url: str, scenario: Scenario) -> None:
    ctx = build_context(db_url)
    try:
        run(ServiceDriver(ctx), scenario)
    finally:
        ctx.session_factory.kw["bind"].dispose()


@pytest.mark.parametrize("scenario", _params())
def test_scenario_over_http(flask_app: Flask, scenario: Scenario) -> None:
    run(HttpDriver(flask_app.extensions["permitflow"], flask_app.test_client()), scenario)
