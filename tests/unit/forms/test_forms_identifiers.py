"""The identifier checks behind the nik/npwp/nib/nitku/phone/rupiah formats."""

import pytest

from forms import identifiers


@pytest.mark.parametrize("nik", ["3273014507900003", "3510015503880001", "3171011708450001"])
def test_valid_nik(nik):
    assert identifiers.nik_problem(nik) is None


@pytest.mark.parametrize(
    ("nik", "reason"),
    [
        ("123", "16 digits"),
        ("3273 0145 0790 0003", "16 digits"),
        ("327301450790000X", "16 digits"),
        ("9971011708450001", "unknown region code 9971"),
        ("3273013202900001", "not a birth date"),
    ],
)
def test_invalid_nik(nik, reason):
    assert reason in identifiers.nik_problem(nik)


@pytest.mark.parametrize(
    "npwp",
    ["021832415000000", "02.183.241.5-000.000", "0021832415000000", "3273014507900003"],
)
def test_valid_npwp(npwp):
    assert identifiers.npwp_problem(npwp) is None


@pytest.mark.parametrize(
    "npwp", ["021832416000000", "0021832416000000", "9971011708450001", "12345", "02 183 241"]
)
def test_invalid_npwp(npwp):
    assert identifiers.npwp_problem(npwp) is not None


def test_nib_is_13_digits():
    assert identifiers.nib_problem("9120301234567") is None
    assert identifiers.nib_problem("912030123456") == "13 digits"
    assert identifiers.nib_problem("912030123456a") == "13 digits"


def test_nitku_is_an_npwp_and_a_location_serial():
    assert identifiers.nitku_problem("0021832415000000000001") is None
    assert identifiers.nitku_problem("0021832416000000000001") is not None
    assert identifiers.nitku_problem("002183241500000000000") == "22 digits"


@pytest.mark.parametrize("phone", ["081234567890", "+6281234567890", "6281234567890", "0227654321"])
def test_valid_phone(phone):
    assert identifiers.phone_problem(phone) is None


@pytest.mark.parametrize(
    "phone", ["0812", "+62081234567890", "0812-3456-7890", "+6581234567", "08123456789012345"]
)
def test_invalid_phone(phone):
    assert identifiers.phone_problem(phone) is not None


def test_rupiah_is_a_non_negative_integer():
    assert identifiers.rupiah_problem(2_700_000) is None
    assert identifiers.rupiah_problem(0) is None
    assert "not a decimal" in identifiers.rupiah_problem(1000.0)
    assert identifiers.rupiah_problem(1000.5) is not None
    assert identifiers.rupiah_problem(float("inf")) is not None
    assert identifiers.rupiah_problem(-1) == "must not be negative"
