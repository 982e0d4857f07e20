"""Property values as analysts write them: fees, SLAs and form references."""

from __future__ import annotations

import re

from engine.domain.durations import parse_sla

MAX_FEE_DIGITS = 12  # a trillion rupiah: far above any permit fee, safely inside BIGINT
_DIGITS = re.compile(r"^[0-9]+$")


def parse_fee(text: str) -> int:
    """A fee in whole rupiah: digits only, `0` allowed.

    Raises: ValueError with a message that says how to write it.
    """
    value = text.strip()
    if not _DIGITS.fullmatch(value):
        raise ValueError(
            f"fee {text!r} is not a whole number of rupiah: write digits only, without "
            "'Rp', dots, commas, decimals, signs or exponents (e.g. 50000; 0 for no fee)"
        )
    if len(value.lstrip("0")) > MAX_FEE_DIGITS:
        raise ValueError(f"fee {text!r} has more than {MAX_FEE_DIGITS} digits")
    return int(value)


def canonical_sla(text: str) -> str:
    """The canonical ISO text of an SLA (`p3d` -> `P3D`).

    Raises: ValueError from `parse_sla`, fit to show an analyst.
    """
    return parse_sla(text).iso()


def form_file_name(reference: str, available: set[str] | frozenset[str]) -> str:
    """The file name in `forms/` that a form reference means.

    Takes the last component after any `scheme:` or `folder/` prefix
    (`embedded:app:forms/register.json` -> `register.json`) and adds `.json` when the
    reference has no extension of that kind and such a file exists.
    """
    name = re.split(r"[:/\\]", reference.strip())[-1].strip()
    if not name.endswith(".json") and f"{name}.json" in available:
        return f"{name}.json"
    return name
