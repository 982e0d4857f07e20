"""Acceptance (issue #10): models drawn in other tools run as BPMN says, or are refused at
upload with located, plain problems; none answers 500, none is accepted and then stalls.

The models are not in this repository (their licences, and the project's rule: learn from
them, do not copy them). Point BPMN_CORPUS at directories of `.bpmn` files
(`:`-separated; README of this folder: how to export SpiffWorkflow's, Camunda's and the
BPMN MIWG's); without it these tests skip and say so. `foreign.py` is the driver.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from api import create_app
from tests.conformance.foreign import ACCEPTABLE, Sweep, corpus, unplain

ENV = "BPMN_CORPUS"
DIRECTORIES = [Path(d) for d in os.environ.get(ENV, "").split(os.pathsep) if d]
FILES = corpus([d for d in DIRECTORIES if d.is_dir()])
SKIP = f"{ENV} names no directory of .bpmn files (see tests/conformance/README.md)"


@pytest.fixture
def flask_app(db_url: str) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


@pytest.mark.slow
@pytest.mark.skipif(not FILES, reason=SKIP)
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(p.anchor)))
def test_foreign_model_runs_or_is_refused_plainly(flask_app: Flask, path: Path) -> None:
    outcome = Sweep(flask_app).model(path)
    assert outcome.outcome in ACCEPTABLE, f"{outcome.outcome}: {outcome.detail}"
    if outcome.outcome == "incident":  # an application stopped by its data names the element
        assert "element_id" in outcome.detail, outcome.detail


def test_a_problem_is_plain_only_when_located_and_free_of_reprs_and_jargon() -> None:
    assert unplain({"message": "step 'a' has no sla", "element_id": "a"}) is None
    assert unplain({"message": "step 'a' has no sla"})  # where?
    assert unplain({"message": "bad <Element {x}task at 0x7f3a2b1c0d80>", "line": 3})
    assert unplain({"message": "A Service Task must have an operator", "element_id": "s"})
    assert unplain({"message": "WorkflowException: no", "element_id": "s"})
