"""The generated OpenAPI document is snapshotted (STYLE habit 10).

`GET /api/v1/openapi.json` must equal `tests/api/openapi.snapshot.json`. When the API
changes on purpose, regenerate the snapshot and review its diff like code:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/api/test_openapi_snapshot.py

With `UPDATE_SNAPSHOTS=1` the test rewrites the file (sorted keys, two-space indent)
instead of comparing. The document does not depend on the database, so this runs on
SQLite only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from api import create_app

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def spec_app(tmp_path: Path) -> Iterator[Flask]:
    # The document is built from the code alone: this database is never connected to.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "TESTING": True})
    yield app
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_openapi_document_matches_the_snapshot(spec_app: Flask) -> None:
    response = spec_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.json
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(render(document), "utf-8")
        return
    assert SNAPSHOT.exists(), f"no snapshot yet: run with UPDATE_SNAPSHOTS=1 to write {SNAPSHOT}"
    expected = json.loads(SNAPSHOT.read_text("utf-8"))
    assert render(document) == render(expected), (
        "the OpenAPI document changed; if on purpose, rerun with UPDATE_SNAPSHOTS=1 and review "
        "the diff of tests/api/openapi.snapshot.json")


def openapi_path(rule: str) -> str:
    """Flask's `/a/<uuid:id>/b` as OpenAPI's `/a/{id}/b`."""
    return re.sub(r"<(?:[a-z_]+:)?([A-Za-z_][A-Za-z0-9_]*)>", r"{\1}", rule)


def test_every_api_route_is_in_the_document(spec_app: Flask) -> None:
    document = spec_app.test_client().get("/api/v1/openapi.json").json
    paths = document["paths"]
    own = f"/api/v1/{spec_app.config['OPENAPI_JSON_PATH']}"
    routes = [r for r in spec_app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    assert len(routes) > 10
    missing = []
    for rule in routes:
        if rule.rule == own:
            continue
        path = openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []
    # And the other way round: nothing documented that does not exist.
    served = {openapi_path(r.rule) for r in spec_app.url_map.iter_rules()}
    assert set(paths) <= served


def test_every_operation_documents_problem_json_and_auth(spec_app: Flask) -> None:
    document = spec_app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearerAuth": []}]
    public = {("get", "/track/{code}"), ("get", "/api/v1/regions/{region}/calendar/due"),
              ("get", "/api/v1/regions/{region}/process-models/{key}/versions/{version}/service-standard")}
    marked_public = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), (method, path)  # the view's docstring
            if operation.get("security", ...) == []:
                marked_public.add((method, path))
    assert public <= marked_public
    # Nothing that writes is public but a citizen's complaint and survey (issue #15); the fee
    # estimate computes and stores nothing; a bank's callback is authenticated by its HMAC
    # signature instead of a token; verifying an uploaded PDF reads and stores nothing; an
    # applicant uploads required documents by tracking code (#14 item 4).
    assert {op for op in marked_public if op[0] != "get"} == {
        ("post", "/track/{code}/complaints"), ("post", "/track/{code}/survey"),
        ("put", "/track/{code}/requirements/{requirement}"),
        ("post", "/api/v1/regions/{region}/services/{key}/service-standard/fee-estimate"),
        ("post", "/api/v1/payment-callbacks/{channel}"),
        ("post", "/verify"), ("post", "/api/v1/verify")}
    assert "Problem" in document["components"]["schemas"] or any(
        "Problem" in name for name in document["components"]["schemas"])
