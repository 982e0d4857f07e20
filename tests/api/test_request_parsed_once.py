"""A JSON body is parsed once per request (`api/validation.py`), and a body whose text shows
nothing can be refused is not walked: the answers stay those of the full walk."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from webargs import core

from api.validation import MAX_DEPTH, RequestRefusedError, loads_strict
from tests.api.conftest import bearer
from tests.api.test_http_errors import world  # noqa: F401 - fixture


def _nested(depth: int) -> str:
    return '{"data": ' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"


BODIES = [
    '{"a": [1, -2.5e3, "x\\u00e9\\ud83d\\ude00", null, true], "b": {"c": 12345678901234567890}}',
    '{"name": "Siti\\u0000"}',
    '{"name": "\\ud800"}',
    '{"a\\u0000b": 1}',
    '{"a/b": {"c~d": "\\uDFFF"}}',
    '{"path": "C:\\\\u0000"}',  # an escaped backslash, then "u0000": plain text
    '{"n": 1e999}',
    '{"n": NaN}',
    '{"n": [1, -Infinity]}',
    '{"n": ' + "9" * 5000 + "}",
    '{"text": "' + "[" * 40 + '"}',  # brackets inside a string nest nothing
    '{"name": "Jl. Sukaluyu \\u00b2 caf\\u00e9"}',
    _nested(MAX_DEPTH),
    _nested(MAX_DEPTH + 1),
    _nested(MAX_DEPTH + 2),
]


def _outcome(data: bytes | str) -> Any:
    try:
        return "value", loads_strict(data)
    except RequestRefusedError as exc:
        return "refused", exc.status, exc.detail, exc.problems


@pytest.mark.parametrize("text", BODIES)
def test_a_body_read_from_bytes_is_answered_as_the_full_walk_answers(text: str) -> None:
    # A str is always walked; bytes (what a request carries) may skip the walk.
    assert _outcome(text.encode()) == _outcome(text)


def test_refusals_read_from_bytes_still_name_the_field() -> None:
    for text, field in [('{"name": "Siti\\u0000"}', "/name"), ('{"k": "\\udfff"}', "/k"),
                        (_nested(MAX_DEPTH + 1), "/data" + "/0" * (MAX_DEPTH - 1))]:
        with pytest.raises(RequestRefusedError) as refused:
            loads_strict(text.encode())
        assert [field for field, _ in refused.value.problems] == [field]
    assert loads_strict(_nested(MAX_DEPTH).encode()) == json.loads(_nested(MAX_DEPTH))


def test_the_arguments_of_a_view_are_read_from_the_body_parsed_by_the_check(
    client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    def parsed_again(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the body was parsed a second time")

    monkeypatch.setattr(core, "parse_json", parsed_again)
    task = world["3273"]["task"]
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {"x": [1, "y"]}},
                           headers=bearer(world["3273"]["token"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["id"] == str(world["3273"]["app"].id)
