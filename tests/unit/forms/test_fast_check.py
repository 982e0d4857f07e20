"""`forms.fast_check`: on every shipped form, the compiled check says valid exactly when
jsonschema finds no error -- for the scenarios' data and thousands of mutations of it --
and a schema it does not fully know gets no check at all (jsonschema does everything)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from forms.fast_check import TYPES, compile_check
from forms.registry import field_registry, field_schemas, format_checker
from forms.validation import FieldError, FormValidator

ROOT = Path(__file__).resolve().parents[3]
FORMS = sorted(
    path
    for pattern in ("process_models/*/*/forms/*.json", "bench/models/*/forms/*.json",
                    "examples/*/forms/*.json", "tests/conformance/forms/*.json")
    for path in ROOT.glob(pattern)
)  # fmt: skip
SAMPLES: list[Any] = [
    None, True, False, 0, 1, -3, 2.0, 2.5, float(2**70), 2**70, "", "a", "3273014507900003",
    "081234567890", "40123", "x" * 300, [], [1], ["a", "a"], [{"a": 1}], {}, {"a": 1},
    {"name": "ktp.pdf"}, {"name": "x", "url": "https://a.example/x"},
]  # fmt: skip


def _scenario_data() -> list[Any]:
    found: list[Any] = []
    for path in ROOT.glob("process_models/*/*/scenarios/*.json"):
        raw = json.loads(path.read_text("utf-8"))
        found += [step.get("data", {}) for step in raw.get("steps", [])]
    for schema in field_schemas().values():
        found += schema.get("examples", [])
    return found


DATA = _scenario_data()


def _mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """`value` with one random change somewhere: a key dropped or added, a leaf replaced by
    a sample, a text made shorter or longer, a list grown or emptied."""
    if isinstance(value, dict) and value and depth < 6 and rng.random() < 0.8:
        key = rng.choice(list(value))
        changed = dict(value)
        roll = rng.random()
        if roll < 0.15:
            del changed[key]
        elif roll < 0.25:
            changed[rng.choice(["extra", "note", key + "_x"])] = rng.choice(SAMPLES)
        else:
            changed[key] = _mutate(rng, value[key], depth + 1)
        return changed
    if isinstance(value, list) and value and depth < 6 and rng.random() < 0.7:
        changed_list = list(value)
        index = rng.randrange(len(value))
        roll = rng.random()
        if roll < 0.2:
            changed_list.append(copy.deepcopy(value[index]))
        elif roll < 0.3:
            changed_list = []
        else:
            changed_list[index] = _mutate(rng, value[index], depth + 1)
        return changed_list
    if isinstance(value, str) and rng.random() < 0.5:
        return value[: rng.randrange(len(value) + 1)] + rng.choice(["", "9", " ", "x" * 200])
    if isinstance(value, int | float) and not isinstance(value, bool) and rng.random() < 0.5:
        return rng.choice([value + 1, -value, 0, value * 1000, float(value), 2.5])
    return rng.choice(SAMPLES)


def _jsonschema_valid(schema: dict[str, Any], data: Any) -> bool:
    validator = Draft202012Validator(
        schema, registry=field_registry(), format_checker=format_checker()
    )
    return not any(True for _ in validator.iter_errors(data))


def _agreement(path: Path) -> set[bool]:
    """Check the form's fast check against jsonschema; the outcomes seen."""
    schema = json.loads(path.read_text("utf-8"))
    check = compile_check(schema, format_checker())
    assert check is not None  # every shipped form uses only what the fast check knows
    rng = random.Random(path.name)
    outcomes = set()
    for base in [*DATA, *SAMPLES]:
        for _ in range(12):
            data = base
            for _ in range(rng.randrange(0, 4)):
                data = _mutate(rng, data)
            expected = _jsonschema_valid(schema, data)
            assert check(data) is expected, data
            outcomes.add(expected)
    return outcomes


@pytest.mark.parametrize("path", FORMS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_shipped_forms_check_agrees_with_jsonschema(path: Path) -> None:
    assert False in _agreement(path)


def test_the_pbg_forms_see_valid_data_too() -> None:
    pbg = [path for path in FORMS if path.parent.parent.name == "pbg"]
    assert sum(True in _agreement(path) for path in pbg) >= 8


@pytest.mark.parametrize("name", sorted(field_schemas()))
def test_each_reusable_field_checks_as_jsonschema_does(name: str) -> None:
    schema = {"$ref": f"permitflow:fields/{name}"}
    check = compile_check(schema, format_checker())
    assert check is not None
    rng = random.Random(name)
    for base in [*field_schemas()[name].get("examples", []), *SAMPLES]:
        for _ in range(60):
            data = _mutate(rng, base) if rng.random() < 0.8 else base
            assert check(data) is _jsonschema_valid(schema, data), data


def test_types_are_jsonschemas() -> None:
    checker = Draft202012Validator.TYPE_CHECKER
    for name, test in TYPES.items():
        for sample in [*SAMPLES, 1.0, -0.0, float("inf")]:
            assert test(sample) is checker.is_type(sample, name), (name, sample)


@pytest.mark.parametrize(
    "schema",
    [
        {"patternProperties": {"^a": {"type": "string"}}},
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"},
        {"prefixItems": [{"type": "string"}], "items": False},
        {"properties": {"a": {"$dynamicRef": "#x"}}},
        {"$ref": "https://example.com/schema.json"},
        {"$defs": {"node": {"properties": {"next": {"$ref": "#/$defs/node"}}}},
         "$ref": "#/$defs/node"},
        {"unevaluatedProperties": False},
        {"dependentRequired": {"a": ["b"]}},
        {"properties": {"a": {"$id": "inner", "type": "string"}}},
        {"minLength": 1.0},
        {"x-widget": "textarea"},
    ],
)  # fmt: skip
def test_a_schema_with_anything_else_gets_no_fast_check(schema: dict[str, Any]) -> None:
    assert compile_check(schema, format_checker()) is None


def test_invalid_data_is_still_reported_in_full_by_jsonschema() -> None:
    schema = json.loads((ROOT / "process_models/3273/pbg/forms/registration.json").read_text())
    errors = FormValidator().validate(schema, {"applicant": {"nik": "123"}}, cache_key="r")
    fields = {error.field for error in errors}
    assert "/applicant/nik" in fields and "/applicant/name" in fields and len(errors) > 3


def test_a_fast_check_that_fails_leaves_the_answer_to_jsonschema(monkeypatch) -> None:
    def broken(_schema: Any, _checker: Any) -> Any:
        def check(_data: Any) -> bool:
            raise RuntimeError("boom")

        return check

    monkeypatch.setattr("forms.validation.compile_check", broken)
    schema = {"type": "object", "required": ["a"]}
    assert FormValidator().validate(schema, {}) == [FieldError("/a", "'a' is a required property")]
    assert FormValidator().validate(schema, {"a": 1}) == []
