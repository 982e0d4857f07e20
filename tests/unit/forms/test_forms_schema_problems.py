"""schema_problems: what makes a form schema unusable, reported without fetching anything."""

import urllib.request

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from forms import FIELD_NAMES, field_schemas, field_uri, schema_problems
from forms.registry import field_registry


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.parametrize(
    "schema",
    [
        {},
        {"type": "object", "properties": {"nik": {"$ref": "permitflow:fields/nik"}}},
        {"$defs": {"a": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/a"}}},
        {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"a": {}},
         "properties": {"a": {"$ref": "#/definitions/a"}}},
        {"$id": "https://forms.permitflow.id/pbg", "$defs": {"a": {}},
         "properties": {"a": {"$ref": "https://forms.permitflow.id/pbg#/$defs/a"}}},
        {"properties": {"email": {"format": "email"}, "lahir": {"format": "date"}}},
    ],
)  # fmt: skip
def test_usable_schemas(schema):
    assert schema_problems(schema) == []


@pytest.mark.parametrize("schema", [None, [], "object", 5, True])
def test_non_dict_schema(schema):
    [problem] = schema_problems(schema)
    assert "must be a JSON object" in problem


def test_non_schema_is_reported_at_its_keyword():
    [problem] = schema_problems({"type": 5})
    assert problem.startswith("at /type:")


def test_every_meta_schema_error_is_reported():
    problems = schema_problems({"type": 5, "properties": {"a": {"minLength": -1}}, "required": 1})
    assert len(problems) == 3


def test_invalid_regex_pattern_is_reported():
    assert schema_problems({"pattern": "(unclosed"})


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.com/schema.json",
        "http://example.com/schema.json#/$defs/a",
        "file:///etc/passwd",
        "https://json-schema.org/draft/2020-12/schema",
    ],
)
def test_remote_ref_is_refused(ref):
    [problem] = schema_problems({"properties": {"a": {"$ref": ref}}})
    assert "remote references are not allowed" in problem


def test_unresolvable_local_ref():
    [problem] = schema_problems({"properties": {"a": {"$ref": "#/$defs/missing"}}})
    assert problem == "$ref '#/$defs/missing': cannot be resolved"


def test_relative_file_ref_is_unresolvable():
    assert schema_problems({"$ref": "other.json"}) == ["$ref 'other.json': cannot be resolved"]


def test_unknown_field_ref_names_the_known_fields():
    [problem] = schema_problems({"$ref": "permitflow:fields/kk"})
    assert "no such reusable field" in problem and "nik" in problem


def test_unknown_format_is_reported():
    [problem] = schema_problems({"properties": {"a": {"type": "string", "format": "NIK"}}})
    assert "format 'NIK' is unknown" in problem


def test_unsupported_dialect():
    [problem] = schema_problems({"$schema": "https://example.com/my-meta"})
    assert "not supported" in problem


def test_enum_values_that_look_like_refs_are_data_not_refs():
    assert schema_problems({"enum": [{"$ref": "https://example.com"}]}) == []


def test_registry_holds_every_field_and_never_retrieves():
    registry = field_registry()
    for name in FIELD_NAMES:
        assert registry.contents(field_uri(name)) == field_schemas()[name]
        assert schema_problems(field_schemas()[name]) == []
    validator = Draft202012Validator({"$ref": "https://example.com/s.json"}, registry=registry)
    with pytest.raises(Unresolvable):
        validator.validate({})
