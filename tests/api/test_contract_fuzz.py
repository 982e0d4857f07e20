"""schemathesis against the app in-process: every operation of the OpenAPI document, all checks.

The whole document is iterated (endpoints added later are fuzzed without touching this file),
as three callers: an admin, an analyst and a counter officer of a seeded region with a
published model and a running application. Every answer must be a 2xx or a problem the
document describes; valid requests (by the document) must not be refused, invalid ones must
be. Examples are bounded so the run takes about a minute; it is marked `slow` and runs in
`make test` and CI like every other test (deselect with `-m "not slow"` while working).

    .venv/bin/pytest tests/api/test_contract_fuzz.py -n 0 -s   # prints the figures
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.specs.openapi import formats
from schemathesis.transport.wsgi import WSGI_TRANSPORT

from api import create_app
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ModelPackage
from engine.persistence.schema import upgrade
from engine.services import applications, models, ops
from tests.factories import ROOT, make_region, make_user

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("PERMITFLOW_FUZZ_EXAMPLES", "25"))
CALLERS = (("admin", None), ("analyst", "3273"), ("front-office", "3273"))
# Rules that JSON Schema cannot state: they relate two fields, or a field to stored data.
# A request the document calls valid may get a located 422 there; each rule is in the
# operation's description.
BEYOND_JSON_SCHEMA = {
    ("PUT", "/api/v1/regions/{region}/calendar"): "each day in `year`, none twice",
    ("PUT", "/api/v1/regions/{region}/calendar/week"):
        "opening before closing, each weekday once",
    ("GET", "/api/v1/reports/sla"): "`from` before `to`",
    ("GET", "/api/v1/reports/skm"): "`from` before `to`",
    ("POST", "/api/v1/regions/{region}/process-models/{key}/migrate"): "two different versions",
    ("POST", "/api/v1/regions/{region}/process-models/{key}/replicate"):
        "overrides name steps and roles of the source version",
}


@dataclass
class Figures:
    cases: int = 0
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


@pytest.fixture
def seeded_app(tmp_path: Path) -> Iterator[tuple[Flask, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    upgrade(url)
    # A deployment whose worker runs: /readyz answers 200 for the whole run.
    app = create_app({"DATABASE_URL": url, "TESTING": True, "READY_WORKER_MAX_AGE": 86400})
    ctx = app.extensions["permitflow"]
    ops.record_heartbeat(ctx, 0)
    make_region(ctx, "3273")
    example = ROOT / "examples" / "sk-domisili"
    forms = {p.name: p.read_bytes() for p in (example / "forms").glob("*.json")}
    package = ModelPackage(
        bpmn=(example / "model.bpmn").read_bytes(),
        forms=forms,
        standard=(example / "standard.json").read_bytes(),
    )
    models.upload_model(ctx, SYSTEM, "3273", package)
    applications.start_application(ctx, SYSTEM, "3273", "sk-domisili", {"name": "Siti"}, {})
    tokens = {role: make_user(ctx, role, region=region)[1] for role, region in CALLERS}
    yield app, tokens
    ctx.session_factory.kw["bind"].dispose()


@pytest.fixture
def socket_options_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis 4.32's `ignored_auth` check re-sends a request with the socket options of
    a network run (`max_redirects`, ...), which werkzeug's in-process client refuses with a
    TypeError; they mean nothing in-process, so they are dropped here."""
    send = WSGI_TRANSPORT.send

    def in_process(case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(case, session=session, **kwargs)

    monkeypatch.setattr(WSGI_TRANSPORT, "send", in_process)


@pytest.fixture
def realistic_times() -> Iterator[None]:
    """Times drawn around the calendar's years (2000-2100, stated by a `pattern` beside
    `format: date-time`), a few outside them: drawn from years 1-9999 as by default, almost
    none would meet the pattern and generation would give up."""
    offsets = st.builds("{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59))
    moments = st.builds(
        "{}T{:02d}:{:02d}:{:02d}{}".format,
        st.dates(date(1995, 1, 1), date(2105, 12, 31)).map(str),
        st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
        st.just("Z") | offsets,
    )
    before = formats.STRING_FORMATS.get("date-time")
    schemathesis.openapi.format("date-time", moments)
    yield
    formats.unregister_string_format("date-time")
    if before is not None:
        formats.STRING_FORMATS["date-time"] = before


def config_for(token: str) -> SchemathesisConfig:
    operations = [
        {
            "include-method": method,
            "include-path": path,
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                }
            },
        }
        for method, path in sorted(BEYOND_JSON_SCHEMA)
    ]
    return SchemathesisConfig.from_dict(
        {
            "seed": 20260317,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                # The document states once, for every field, that text holds no NUL
                # (PostgreSQL cannot store it); the server refuses it with a 422.
                "allow-x00": False,
            },
            "checks": {"enabled": True},
            "headers": {"Authorization": f"Bearer {token}"},
            "operations": operations,
        }
    )


def run(app: Flask, token: str, figures: Figures, caller: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config_for(token))
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError):
            figures.errors.append(f"{caller} {event.label}: {event.info}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        figures.cases += len(event.recorder.cases)
        for interaction in event.recorder.interactions.values():
            if interaction.response is not None:
                figures.statuses[interaction.response.status_code] += 1
        for case_id, checks in event.recorder.checks.items():
            for check in checks:
                if check.status == Status.FAILURE and check.failure_info is not None:
                    failure = check.failure_info.failure
                    key = (str(event.label), check.name, failure.title)
                    figures.failures.setdefault(key, f"{caller}: {failure.message} " + _exchange(
                        event.recorder.interactions.get(case_id)))


def _exchange(interaction: Any) -> str:
    """The request and the answer of a failing case, to reproduce it."""
    if interaction is None:
        return ""
    request, response = interaction.request, interaction.response
    body = (request.body or b"")[:300]
    answer = (response.status_code, response.content[:300]) if response is not None else None
    return f"\n    {request.method} {request.uri} {body!r}\n    -> {answer}"


def test_the_api_keeps_its_openapi_contract(
    seeded_app: tuple[Flask, dict[str, str]], socket_options_dropped: None, realistic_times: None
) -> None:
    app, tokens = seeded_app
    figures = Figures()
    for caller, token in tokens.items():
        run(app, token, figures, caller)
    print(
        f"\nschemathesis: {figures.cases} cases, {len(figures.failures)} distinct failures, "
        f"{len(figures.errors)} errors; statuses {dict(sorted(figures.statuses.items()))}"
    )
    report = [f"{label} | {check} | {title} | {message}" for (label, check, title), message
              in sorted(figures.failures.items())]
    print("\n".join(report + figures.errors))
    assert figures.cases > 500
    assert not report, "\n".join(report)
    assert not figures.errors, "\n".join(figures.errors)
    assert 500 not in figures.statuses
