"""The citizen tests' app and engine context: a region with the decision model, on our clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from api import create_app
from engine.context import EngineContext
from tests.citizen.helpers import MONDAY_10, decision_bpmn
from tests.factories import Clock, make_region, upload


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.fixture
def ctx(app: Flask) -> EngineContext:
    context: EngineContext = app.extensions["permitflow"]
    context.clock = Clock(MONDAY_10)
    make_region(context, "3273")
    upload(context, "3273", decision_bpmn())
    return context
