"""`api.fast_load` loads a plain body as marshmallow does, and leaves every other body (and
every error) to marshmallow: compared value for value, key order included, and over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validates
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from api import blueprint
from api.fast_load import fast_loader
from api.schemas import TaskCompleteSchema
from tests.api.conftest import bearer
from tests.api.test_http_errors import world  # noqa: F401 - fixture


class _Two(Schema):
    data = fields.Dict(load_default=dict)
    extra = fields.Dict(data_key="more", attribute="other", load_default=lambda: {"d": 1})
    needed = fields.Dict(required=True)
    bare = fields.Dict()


BODIES: list[Any] = [
    {}, {"data": {}}, {"data": {"a": 1, "b": [1, {"c": None}], "z": "é"}}, {"data": None},
    {"data": []}, {"data": "x"}, {"data": 1}, {"data": {"a": 1}, "x": 1}, {"x": {}}, [],
    [{"data": {}}], None, "text", 3, {"needed": {}}, {"needed": {"q": 1}, "data": {"a": 2}},
    {"needed": {}, "more": {"m": 1}}, {"needed": {}, "extra": {}}, {"needed": None},
    {"needed": {}, "bare": {"b": 2}, "data": {"d": 3}, "more": {}}, {"bare": {}},
    {"needed": {}, "other": {}},
]


def _outcome(schema: Schema, body: Any) -> tuple[str, Any]:
    try:
        loaded = schema.load(body)
    except ValidationError as exc:
        return "error", exc.messages
    return "loaded", json.dumps(loaded)  # the text keeps the order of the keys


@pytest.mark.parametrize("schema_class", [TaskCompleteSchema, _Two])
@pytest.mark.parametrize("body", BODIES, ids=[json.dumps(b) for b in BODIES])
def test_the_fast_load_answers_as_marshmallow_or_leaves_the_body_to_it(
    schema_class: type[Schema], body: Any
) -> None:
    schema = schema_class()
    load = fast_loader(schema)
    assert load is not None
    fast = load(body)
    if fast is not None:
        assert ("loaded", json.dumps(fast)) == _outcome(schema, body)
        if isinstance(body, dict):  # a copy of each mapping, as marshmallow gives
            assert all(fast[k] is not v for k, v in body.items() if k in fast)


def test_the_step_body_takes_the_fast_path() -> None:
    load = fast_loader(TaskCompleteSchema())
    assert load is not None
    assert load({"data": {"a": 1}}) == {"data": {"a": 1}} and load({}) == {"data": {}}


class _Typed(Schema):
    data = fields.Dict(keys=fields.String())


class _Validated(Schema):
    data = fields.Dict(validate=lambda v: bool(v))


class _Hooked(Schema):
    data = fields.Dict()

    @post_load
    def _wrap(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"wrapped": data}


class _FieldValidated(Schema):
    data = fields.Dict()

    @validates("data")
    def _check(self, value: Any, **_: Any) -> None:
        raise ValidationError("no")


class _Texty(Schema):
    data = fields.Dict()
    name = fields.String()


class _Dotted(Schema):
    data = fields.Dict(attribute="a.b")


class _Excluding(Schema):
    class Meta:
        unknown = EXCLUDE

    data = fields.Dict()


@pytest.mark.parametrize("schema", [
    _Typed(), _Validated(), _Hooked(), _FieldValidated(), _Texty(), _Dotted(),
    TaskCompleteSchema(many=True), TaskCompleteSchema(partial=True),
])
def test_schemas_it_cannot_vouch_for_are_left_to_marshmallow(schema: Schema) -> None:
    assert fast_loader(schema) is None


def test_unknown_keys_go_to_marshmallow_whatever_the_schema_does_with_them() -> None:
    schema = _Excluding()
    load = fast_loader(schema)
    assert load is not None and load({"data": {}, "x": 1}) is None
    assert schema.load({"data": {}, "x": 1}) == {"data": {}}


REFUSED = ('{"data": null}', '{"data": []}', '{"x": 1}', "[]", '{"data": 5}', '{"data": {}, "x": 1}')


def _answers(client: FlaskClient, path: str, token: str, bodies: tuple[str, ...]) -> list[Any]:
    out = []
    for body in bodies:
        response = client.post(path, data=body, content_type="application/json",
                               headers=bearer(token))
        answer = response.get_json()
        answer.pop("request_id", None)  # (each request's own)
        out.append((response.status_code, response.content_type, answer))
    return out


def test_the_answers_over_http_are_those_of_marshmallow_alone(
    client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    path = f"/api/v1/tasks/{world['3510']['task'].id}/complete"
    token = world["3510"]["token"]
    parser = blueprint.Blueprint.ARGUMENTS_PARSER
    with monkeypatch.context() as patched:
        patched.setattr(parser, "_loaders", {})
        patched.setattr(blueprint, "fast_loader", lambda _schema: None)
        full = _answers(client, path, token, REFUSED)
    monkeypatch.setattr(parser, "_loaders", {})
    fast = _answers(client, path, token, REFUSED)
    assert [status for status, _, _ in full] == [422] * len(REFUSED)
    assert fast == full
    done = _answers(client, path, token, ('{"data": {"note": "x"}}',))
    assert done[0][0] == 200 and done[0][2]["id"] == str(world["3510"]["app"].id)


def _parsed(parser: FlaskParser, body: Any, text: str) -> Any:
    app = Flask("parse")
    with app.test_request_context(data=text, content_type="application/json"):
        req = request._get_current_object()  # type: ignore[attr-defined]
        req._cached_json = (body, body)  # as `check_request` leaves it
        try:
            return "loaded", json.dumps(parser.parse(TaskCompleteSchema, req, location="json"))
        except HTTPException as exc:
            data = dict(getattr(exc, "data", {}))
            data["schema"] = type(data.get("schema"))  # (each parser's own instance)
            return "refused", exc.code, data


@pytest.mark.parametrize("body", BODIES, ids=[json.dumps(b) for b in BODIES])
def test_the_parser_answers_as_webargs_for_every_body(body: Any) -> None:
    ours = blueprint.SchemaOnceParser()
    text = json.dumps(body)
    _parsed(ours, {"data": {}}, '{"data": {}}')  # its first parse sets the fast load
    assert _parsed(ours, body, text) == _parsed(FlaskParser(), body, text)
