"""Text formats the engine and the API check, each defined once.

Every pattern is written so that it means the same in Python and in ECMAScript (the dialect
of OpenAPI's `pattern`): ASCII classes such as `[0-9]` instead of `\\d` (Python's `\\d` also
matches other scripts' digits, e.g. "٣"), and the whole text is matched with `fullmatch`.
Python's `$` also matches before a trailing newline, so `re.match("^X$", "X\\n")` succeeds:
that is how `X` and `X\\n` were once both recorded as payment references. `Format.matches`
is the only way these patterns are used, and the API publishes `Format.pattern` as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Format:
    """A named text format: `pattern` (anchored `^…$`) and how to tell a person about it."""

    name: str
    pattern: str
    hint: str
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.pattern.startswith("^") and self.pattern.endswith("$")):
            raise ValueError(f"format {self.name}: the pattern must be anchored ^…$")
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def matches(self, text: object) -> bool:
        """Whether `text` is a string that matches the whole pattern (no trailing newline)."""
        return isinstance(text, str) and self._compiled.fullmatch(text) is not None

    def parts(self, text: str) -> re.Match[str] | None:
        """The full match of `text`, for patterns with named groups."""
        return self._compiled.fullmatch(text)


_REGION = r"[0-9]{2}(?:\.?[0-9]{2}){0,3}"
_KEY = r"[A-Za-z][A-Za-z0-9_-]{0,63}"

REGION_CODE = Format(
    "region code", f"^{_REGION}$", "the Kemendagri/BPS code, e.g. 3273 or 32.73"
)
ROLE = Format(
    "role", r"^[a-z][a-z0-9_-]{0,63}$", "lower-case letters, digits, '-' and '_', at most 64"
)
MODEL_KEY = Format(
    "model key", f"^{_KEY}$", "a letter, then letters, digits, '-' and '_', at most 64"
)
PAYMENT_REFERENCE = Format(
    "payment reference",
    r"^[A-Za-z0-9][A-Za-z0-9._/-]{3,127}$",
    "4-128 letters, digits, '.', '_', '/' or '-', starting with a letter or digit",
)
TRACKING_CODE = Format(
    "tracking code", r"^PF(?:-[0-9A-Z]{4}){4}$", "PF-XXXX-XXXX-XXXX-XXXX"
)
VERSION_REF = Format(
    "model version reference",
    f"^(?P<region>{_REGION})/(?P<key>{_KEY})@(?P<version>[1-9][0-9]{{0,8}})$",
    "REGION/KEY@VERSION, e.g. 3273/pbg@1",
)
# What the API accepts as an SLA: the canonical spellings of `durations.parse_sla` (which
# also reads models' lower-case or padded text), each a positive working time or P{n}D.
SLA = Format(
    "SLA",
    r"^(?:P[0-9]{1,4}D|PT[1-9][0-9]{0,4}H(?:[0-9]{1,6}M)?|PT[1-9][0-9]{0,5}M)$",
    "P{n}D (working days), PT{n}H or PT{n}M (working time), e.g. P3D or PT4H",
)
# A local wall-clock time of office hours, 00:00-23:59.
CLOCK_TIME = Format(
    "local time", r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$", "HH:MM, a local time, e.g. 07:30"
)
# Reasons, names and titles: something other than spaces and line breaks (the API publishes
# the same rule, so "  " is refused by the document as it is by the services).
NON_BLANK = Format(
    "non-blank text", r"^[\s\S]*[^ \t\r\n][\s\S]*$", "text with something besides spaces"
)
