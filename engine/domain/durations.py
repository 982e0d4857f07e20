"""SLA durations as the BPMN conventions write them (DESIGN §2, §3).

`P{n}D` counts working days; `PT{h}H`, `PT{m}M` and `PT{h}H{m}M` count working time
inside office hours. Nothing else is an SLA: months and years have no fixed number of
working days, and a mix of days and hours has no agreed meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DAYS = re.compile(r"P(?P<days>[0-9]{1,4})D")
_TIME = re.compile(r"PT(?:(?P<hours>[0-9]{1,5})H)?(?:(?P<minutes>[0-9]{1,6})M)?")


@dataclass(frozen=True, slots=True)
class SlaDuration:
    """A parsed SLA: either whole working days or working minutes."""

    days: int = 0
    minutes: int = 0

    @property
    def counts_days(self) -> bool:
        """True for `P{n}D` (due at closing time of the n-th working day)."""
        return self.days > 0 or self.minutes == 0

    def iso(self) -> str:
        """The canonical ISO-8601 text of this duration."""
        if self.counts_days:
            return f"P{self.days}D"
        hours, minutes = divmod(self.minutes, 60)
        return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")


def parse_sla(text: str) -> SlaDuration:
    """Parse an SLA property value.

    Raises: ValueError with a message fit to show an analyst.
    """
    value = (text or "").strip().upper()
    if match := _DAYS.fullmatch(value):
        return SlaDuration(days=int(match["days"]))
    match = _TIME.fullmatch(value)
    if match and (match["hours"] or match["minutes"]):
        minutes = int(match["hours"] or 0) * 60 + int(match["minutes"] or 0)
        if minutes > 0:
            return SlaDuration(minutes=minutes)
    raise ValueError(
        f"SLA {text!r} is not a working-time duration: write P{{n}}D for n working days "
        "or PT{n}H / PT{n}M for working hours or minutes (e.g. P3D, PT4H)"
    )
