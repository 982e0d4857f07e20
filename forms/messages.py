"""Validation messages in Bahasa Indonesia, by JSON Schema keyword (English is jsonschema's).

Officers and applicants read these beside each field, so they say what to do, briefly,
without repeating the value typed.
"""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import ValidationError

_TYPES = {
    "string": "teks",
    "integer": "bilangan bulat",
    "number": "angka",
    "boolean": "ya/tidak",
    "object": "isian bertingkat",
    "array": "daftar",
    "null": "kosong",
}
_FORMATS = {
    "nik": "bukan NIK yang sah (16 digit sesuai KTP/KK)",
    "npwp": "bukan NPWP yang sah (15 atau 16 digit)",
    "nib": "bukan NIB yang sah (13 digit)",
    "nitku": "bukan NITKU yang sah (22 digit)",
    "phone": "bukan nomor telepon yang sah (+62, 62 atau 0 lalu 8-13 digit, tanpa spasi)",
    "postal_code": "bukan kode pos yang sah (5 digit)",
    "rupiah": "jumlah rupiah harus bilangan bulat, tanpa desimal",
    "address": "alamat belum lengkap",
    "document": "rujukan dokumen belum lengkap (nama berkas dan SHA-256 atau URL)",
    "email": "bukan alamat surel yang sah",
    "date": "bukan tanggal yang sah (TTTT-BB-HH)",
    "date-time": "bukan waktu yang sah",
    "uri": "bukan alamat web yang sah",
}


def indonesian(error: ValidationError) -> str:
    """The message for one validation error, in Bahasa Indonesia."""
    keyword = str(error.validator)
    value: Any = error.validator_value
    simple = _SIMPLE.get(keyword)
    if simple is not None:
        return simple.format(value=value)
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        return "harus berupa " + " atau ".join(_TYPES.get(str(n), str(n)) for n in names)
    if keyword == "enum":
        return "pilih salah satu: " + ", ".join(_show(v) for v in value)
    if keyword == "const":
        return "harus dicentang" if value is True else f"harus bernilai {_show(value)}"
    if keyword == "format":
        return _FORMATS.get(str(value), "formatnya tidak sesuai")
    return "isian tidak sesuai ketentuan formulir"


_SIMPLE = {
    "required": "wajib diisi",
    "minLength": "paling sedikit {value} karakter",
    "maxLength": "paling banyak {value} karakter",
    "pattern": "formatnya tidak sesuai",
    "minimum": "paling kecil {value}",
    "maximum": "paling besar {value}",
    "exclusiveMinimum": "harus lebih dari {value}",
    "exclusiveMaximum": "harus kurang dari {value}",
    "multipleOf": "harus kelipatan {value}",
    "minItems": "isi paling sedikit {value}",
    "maxItems": "isi paling banyak {value}",
    "uniqueItems": "tidak boleh ada isian yang sama",
    "additionalProperties": "ada isian yang tidak dikenal formulir ini",
    "minProperties": "isi paling sedikit {value} bagian",
    "not": "isian ini tidak diperbolehkan",
}


def _show(value: Any) -> str:
    if value is True:
        return "ya"
    if value is False:
        return "tidak"
    return str(value)
