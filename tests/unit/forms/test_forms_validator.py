"""FormValidator: every error, by JSON pointer, with our fields and formats."""

import pytest

from forms import FieldError, FormSchemaError, FormValidator

NIK = "3273014507900003"

REGISTRATION = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "applicant": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "nik": {"$ref": "permitflow:fields/nik"},
                "phone": {"$ref": "permitflow:fields/phone"},
                "address": {"$ref": "permitflow:fields/address"},
            },
            "required": ["name", "nik"],
        },
        "npwp": {"$ref": "permitflow:fields/npwp"},
        "nib": {"type": "string", "format": "nib"},
        "fee": {"$ref": "permitflow:fields/rupiah"},
        "documents": {"type": "array", "items": {"$ref": "permitflow:fields/document"}},
    },
    "required": ["applicant"],
}

ADDRESS = {
    "street": "Jl. Wastukencana No. 2",
    "kelurahan": "Babakan Ciamis",
    "kecamatan": "Sumur Bandung",
    "city": "Kota Bandung",
    "province": "Jawa Barat",
    "postal_code": "40117",
}


@pytest.fixture
def validator():
    return FormValidator()


def fields(errors):
    return [e.field for e in errors]


def test_valid_data_has_no_errors(validator):
    data = {
        "applicant": {"name": "Siti", "nik": NIK, "phone": "081234567890", "address": ADDRESS},
        "npwp": "02.183.241.5-000.000",
        "nib": "9120301234567",
        "fee": 2_700_000,
        "documents": [
            {"name": "ktp.pdf", "sha256": "a" * 64},
            {"name": "imb.pdf", "url": "https://x.id/1"},
        ],
    }
    assert validator.validate(REGISTRATION, data) == []


def test_all_errors_are_reported_sorted_with_nested_paths(validator):
    data = {
        "applicant": {"nik": "123", "phone": "0812", "address": {**ADDRESS, "postal_code": "401"}},
        "npwp": "021832416000000",
        "nib": "12",
        "fee": 1000.0,
        "documents": [{"name": "ktp.pdf", "content": "JVBERi0..."}],
    }
    errors = validator.validate(REGISTRATION, data)
    assert fields(errors) == sorted(fields(errors))
    assert set(fields(errors)) == {
        "/applicant/address/postal_code",
        "/applicant/name",
        "/applicant/nik",
        "/applicant/phone",
        "/documents/0",
        "/documents/0/sha256",
        "/fee",
        "/nib",
        "/npwp",
    }
    assert FieldError("/applicant/nik", "'123' is not a valid NIK (16 digits)") in errors


def test_required_error_points_at_the_missing_field(validator):
    assert validator.validate(REGISTRATION, {}) == [
        FieldError("/applicant", "'applicant' is a required property")
    ]


@pytest.mark.parametrize("amount", [1000.0, 1000.5, -1, "1000", True])
def test_rupiah_refuses_floats_negatives_and_non_numbers(validator, amount):
    data = {"applicant": {"name": "Siti", "nik": NIK}, "fee": amount}
    assert fields(validator.validate(REGISTRATION, data)) == ["/fee"]


def test_whole_float_rupiah_message_says_integer(validator):
    data = {"applicant": {"name": "Siti", "nik": NIK}, "fee": 1000.0}
    [error] = validator.validate(REGISTRATION, data)
    assert "integer" in error.message


def test_formats_work_without_the_field_ref(validator):
    schema = {"properties": {k: {"format": k} for k in ("nik", "npwp", "nitku", "phone", "rupiah")}}
    data = {"nik": "1", "npwp": "1", "nitku": "1", "phone": "1", "rupiah": 1.5}
    expected = ["/nik", "/nitku", "/npwp", "/phone", "/rupiah"]
    assert fields(validator.validate(schema, data)) == expected


def test_object_formats(validator):
    schema = {"properties": {"home": {"format": "address"}, "scan": {"format": "document"}}}
    errors = validator.validate(schema, {"home": {"street": "Jl. A"}, "scan": {"name": "a.pdf"}})
    assert fields(errors) == ["/home", "/scan"]
    valid = {"home": ADDRESS, "scan": {"name": "a.pdf", "sha256": "0" * 64}}
    assert validator.validate(schema, valid) == []


def test_draft_07_schema_is_honoured(validator):
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"nik": {"$ref": "permitflow:fields/nik"}},
        "dependencies": {"nik": ["name"]},
    }
    assert fields(validator.validate(schema, {"nik": "1"})) == ["", "/nik"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (float("nan"), ""),
        ({"applicant": {"name": "Siti", "nik": NIK}, "fee": float("nan")}, "/fee"),
        ({"applicant": {"name": "Siti", "nik": NIK}, "fee": float("inf")}, "/fee"),
        ({"applicant": {"name": "Siti", "nik": NIK}, 5: 1}, "/5"),
        ({"applicant": {"name": "Siti", "nik": NIK, "x": {1, 2}}}, "/applicant/x"),
        (object(), ""),
    ],
)
def test_data_json_cannot_carry_is_reported_not_crashing(validator, data, field):
    assert field in fields(validator.validate(REGISTRATION, data))


def test_data_that_contains_itself_is_reported(validator):
    data = {"applicant": {"name": "Siti", "nik": NIK}}
    data["applicant"]["self"] = data
    assert fields(validator.validate(REGISTRATION, data)) == ["/applicant/self"]


def test_pattern_properties_on_bad_keys_do_not_crash(validator):
    schema = {"patternProperties": {"^a": {"type": "string"}}, "additionalProperties": False}
    assert fields(validator.validate(schema, {1: "x", "b": 2})) == ["", "/1"]


def test_unusable_schema_raises_with_every_problem(validator):
    with pytest.raises(FormSchemaError) as raised:
        validator.validate({"$ref": "https://example.com/form.json"}, {})
    assert "remote" in raised.value.problems[0]


def test_cache_by_key(validator):
    schema = {"properties": {"n": {"format": "nik"}}}
    assert validator.validate(schema, {"n": "1"}, cache_key="3273/pbg@1/x.json")
    # Same key, same compiled validator (the key names the content, by contract).
    assert validator.validate({}, {"n": "1"}, cache_key="3273/pbg@1/x.json")
    assert validator.validate({}, {"n": "1"}) == []


def test_cache_is_bounded():
    validator = FormValidator(max_cached=2)
    for n in range(5):
        validator.validate({"maxLength": n}, "abc", cache_key=str(n))
    assert len(validator._cache) == 2
