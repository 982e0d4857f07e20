"""`LeanFlask` and the API's blueprint parser skip repeated work, and answer as Flask,
flask-smorest and webargs do: the session cookie still round-trips, `Vary: Cookie` still
marks a response that read the session, argument schemas still refuse bad bodies."""

from __future__ import annotations

from typing import Any

import pytest
from flask import session
from flask.views import MethodView
from marshmallow import Schema, fields

from api.blueprint import Blueprint, SchemaOnceParser
from api.lean_flask import _REMEMBERED, LeanFlask


def _app() -> LeanFlask:
    app = LeanFlask("lean")
    app.secret_key = "test-secret"

    @app.get("/untouched")
    def untouched() -> str:
        return "ok"

    @app.get("/read")
    def read() -> str:
        return str(session.get("n", "none"))

    @app.get("/write")
    def write() -> str:
        session["n"] = 1 + int(session.get("n", 0))
        return "written"

    @app.get("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    return app


def test_a_request_without_cookie_that_ignores_the_session_sets_nothing() -> None:
    response = _app().test_client().get("/untouched")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers


def test_the_session_cookie_round_trips_and_reading_it_varies_by_cookie() -> None:
    client = _app().test_client()
    assert client.get("/read").headers.get("Vary") == "Cookie"  # read, though empty
    written = client.get("/write")
    assert "session=" in written.headers["Set-Cookie"]
    assert client.get("/read").get_data(as_text=True) == "1"
    assert client.get("/write").status_code == 200
    assert client.get("/read").get_data(as_text=True) == "2"
    cleared = client.get("/clear")
    assert "session=;" in cleared.headers["Set-Cookie"]  # Flask deletes the emptied cookie
    assert client.get("/read").get_data(as_text=True) == "none"


def test_a_forged_cookie_gives_an_empty_session() -> None:
    client = _app().test_client()
    client.set_cookie("session", "forged.value.sig")
    assert client.get("/read").get_data(as_text=True) == "none"


def test_ensure_sync_remembers_functions_not_per_request_bound_methods() -> None:
    app = _app()

    class View:
        def get(self) -> str:
            return "x"

    for _ in range(3):
        method = View().get
        assert app.ensure_sync(method) is method
    assert len(app._coroutine) == 1  # keyed by the function, not by each bound method

    async def coroutine() -> None:
        return None

    # Still handed to Flask's async_to_sync (which needs the `async` extra, absent here).
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)  # the remembered answer too


def test_ensure_sync_stops_remembering_at_its_bound() -> None:
    app = _app()
    for _ in range(_REMEMBERED + 10):
        def made_per_request() -> None:
            return None

        app.ensure_sync(made_per_request)
    assert len(app._coroutine) == _REMEMBERED


class _Args(Schema):
    count = fields.Integer(required=True)


def test_argument_schemas_are_built_once_and_still_refuse_bad_bodies() -> None:
    parser = SchemaOnceParser()
    assert parser._get_schema(_Args, None) is parser._get_schema(_Args, None)  # type: ignore[arg-type]
    app = LeanFlask("args")
    blp = Blueprint("args", __name__)

    @blp.route("/count")
    class Count(MethodView):
        @blp.arguments(_Args)
        def post(self, body: dict[str, Any]) -> dict[str, Any]:
            return body

    app.register_blueprint(blp)
    client = app.test_client()
    assert client.post("/count", json={"count": 3}).json == {"count": 3}
    assert client.post("/count", json={"count": "x"}).status_code == 422
    assert client.post("/count", json={"count": 4}).json == {"count": 4}
