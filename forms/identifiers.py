"""Checks for the Indonesian identifiers and values that permit forms ask for.

Each `*_problem` function takes a value and returns `None` when it is acceptable, or a short
reason ("16 digits", "unknown region code 9971") that `forms.fields` turns into a message.
Values are checked as typed: digits only, no separators (except the printed NPWP form).

- NIK: 16 digits `PPRRSSDDMMYYXXXX`; region and birth date checked by `stdnum.id.nik`
  (python-stdnum's regency table, women's day + 40). There is no check digit.
- NPWP: `stdnum.id.npwp`: 15-digit legacy (Luhn check digit), 16 digits starting with 0
  (the legacy number prefixed), or a NIK. The printed form `99.999.999.9-999.999` is accepted.
- NIB: 13 digits (OSS numbers are random; authenticity needs an OSS lookup).
- NITKU: 22 digits = a 16-digit NPWP + a 6-digit business-location serial.
- Phone: `+62`, `62` or `0`, then 8-13 digits, the first not 0.
- Rupiah: a whole number of rupiah, an `int` >= 0; floats are refused even when whole.
"""

from __future__ import annotations

import math
import re

from stdnum.exceptions import ValidationError
from stdnum.id import nik as stdnum_nik
from stdnum.id import npwp as stdnum_npwp

_NIK = re.compile(r"[0-9]{16}")
_NPWP_TEXT = re.compile(r"[0-9][0-9.\-]*[0-9]")
_NIB = re.compile(r"[0-9]{13}")
_NITKU = re.compile(r"[0-9]{22}")
_PHONE = re.compile(r"(?:\+62|62|0)[1-9][0-9]{7,12}")
_POSTAL_CODE = re.compile(r"[1-9][0-9]{4}")


def nik_problem(value: str) -> str | None:
    """Why `value` is not a NIK, or None if it is one."""
    if not _NIK.fullmatch(value):
        return "16 digits"
    if not stdnum_nik.is_valid(value):
        return _nik_detail(value)
    return None


def _nik_detail(value: str) -> str:
    try:
        stdnum_nik.get_birth_date(value)
    except ValidationError:
        day, month, year = value[6:8], value[8:10], value[10:12]
        return f"digits 7-12 ({day}{month}{year}) are not a birth date DDMMYY"
    return f"unknown region code {value[:4]}"


def npwp_problem(value: str) -> str | None:
    """Why `value` is not an NPWP (15 or 16 digits), or None if it is one."""
    if not _NPWP_TEXT.fullmatch(value):
        return "15 or 16 digits"
    digits = re.sub(r"[.\-]", "", value)
    if len(digits) not in (15, 16):
        return "15 or 16 digits"
    if not stdnum_npwp.is_valid(digits):
        if len(digits) == 16 and not digits.startswith("0"):
            return "a 16-digit NPWP not starting with 0 must be a valid NIK"
        return "check digit does not match"
    return None


def nib_problem(value: str) -> str | None:
    """Why `value` is not a NIB (Nomor Induk Berusaha), or None if it is one."""
    return None if _NIB.fullmatch(value) else "13 digits"


def nitku_problem(value: str) -> str | None:
    """Why `value` is not a NITKU, or None if it is one."""
    if not _NITKU.fullmatch(value):
        return "22 digits"
    if npwp_problem(value[:16]) is not None:
        return "the first 16 digits must be a valid NPWP"
    return None


def phone_problem(value: str) -> str | None:
    """Why `value` is not an Indonesian phone number, or None if it is one."""
    if _PHONE.fullmatch(value):
        return None
    return "+62, 62 or 0 followed by 8-13 digits, no spaces"


def postal_code_problem(value: str) -> str | None:
    """Why `value` is not an Indonesian postal code, or None if it is one."""
    return None if _POSTAL_CODE.fullmatch(value) else "5 digits"


def rupiah_problem(value: int | float) -> str | None:
    """Why the number `value` is not an amount of rupiah, or None if it is one."""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return "whole rupiah as an integer, not a decimal number"
        return "whole rupiah as an integer"
    if value < 0:
        return "must not be negative"
    return None
