"""Issue #11 cause 5: regular expressions from forms run in linear time, or are refused.

Before, a form `pattern` of `^(a+)+$` froze a worker for a minute on one completion, and a
`format: regex` field answered 500 on a hostile value (RecursionError, OverflowError).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from engine.domain.definitions import ModelPackage
from engine.domain.errors import ModelInvalidError
from engine.modeling.compiler import compile_model
from forms import FormValidator, schema_problems
from tests.factories import ROOT, tiny_bpmn

BACKTRACKING = {
    "pattern": {"type": "object", "properties": {"x": {"type": "string", "pattern": "^(a+)+$"}}},
    "additionalProperties": {
        "type": "object",
        "patternProperties": {"^(a+)+$": {"type": "string"}},
        "additionalProperties": False,
    },
    "unevaluatedProperties": {
        "type": "object",
        "patternProperties": {"^(a+)+$": {"type": "string"}},
        "unevaluatedProperties": False,
    },
}


@pytest.mark.parametrize("schema", BACKTRACKING.values(), ids=BACKTRACKING.keys())
def test_a_backtracking_pattern_is_matched_in_linear_time(schema: dict) -> None:
    # In a subprocess with a time bound: Python's backtracking `re` would take hours on
    # 40 a's and a b (2**40 ways to split them), so without RE2 this fails, never hangs.
    hostile = "a" * 40 + "b"
    data = {"x": hostile} if "properties" in schema else {hostile: "v"}
    script = textwrap.dedent(
        f"""
        import json
        from forms import FormValidator
        errors = FormValidator().validate(json.loads({json.dumps(json.dumps(schema))}),
                                          json.loads({json.dumps(json.dumps(data))}))
        print(len(errors))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"  # refused, as it should be, and quickly


REGEX_FIELD = {"type": "object", "properties": {"r": {"type": "string", "format": "regex"}}}


@pytest.mark.parametrize("hostile", ["(" * 100_000, "(?=a)b", "[", "x" * 500_000 + "("])
def test_a_hostile_value_of_a_regex_field_is_a_field_error(hostile: str) -> None:
    # Python's re.compile raised RecursionError on the first one: a 500.
    errors = FormValidator().validate(REGEX_FIELD, {"r": hostile})
    assert [e.field for e in errors] == ["/r"]
    assert len(errors[0].message) < 200  # the value is not echoed back


@pytest.mark.parametrize("value", [r"^\d{16}$", "a{99999999999}"])  # re: OverflowError
def test_a_regex_value_re2_accepts_passes(value: str) -> None:
    assert FormValidator().validate(REGEX_FIELD, {"r": value}) == []


def test_patterns_re2_cannot_run_are_refused_with_their_place() -> None:
    schema = {
        "type": "object",
        "properties": {
            "nik": {"type": "string", "pattern": r"^(\d)\1+$"},
            "list": {"type": "array", "items": {"type": "string", "pattern": "(?=a)"}},
        },
        "patternProperties": {"(?<!x)y": {}},
    }
    problems = schema_problems(schema)
    assert [p.split(":")[0] for p in problems] == [
        "at /patternProperties",
        "at /properties/list/items/pattern",
        "at /properties/nik/pattern",
    ]
    assert all("RE2" in p for p in problems)


def test_an_upload_with_such_a_form_names_the_form_file_and_field() -> None:
    form = {"type": "object", "properties": {"kode": {"type": "string", "pattern": "(a)\\1"}}}
    package = ModelPackage(
        bpmn=tiny_bpmn(steps=1, form="data.json"), forms={"data.json": json.dumps(form).encode()}
    )
    with pytest.raises(ModelInvalidError) as refused:
        compile_model(package)
    (problem,) = refused.value.problems
    assert problem.file == "forms/data.json"
    assert "/properties/kode/pattern" in problem.message
