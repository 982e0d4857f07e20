"""Indonesia's national holidays and cuti bersama, as the `holidays` package lists them.

DESIGN §3: country `ID`, categories public (hari libur nasional) + government (cuti bersama,
hard-coded per year from each SKB 3 Menteri). The package gives no regional closures; those are
the region's overrides (`engine.domain.calendar`). Known limits of the data (permit-domain §3.2):
years past the latest SKB have no cuti bersama and estimated Islamic dates, and years after 2100
have no holidays at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import holidays

# The package's Indonesian `estimated_label` is "%s (perkiraan)": dates it computes instead of
# taking them from a government decree (Islamic, and Chinese/Buddhist past their tables) carry
# this suffix. Names are pinned to "id" below, so the marker does not depend on the locale.
ESTIMATED_MARK = "(perkiraan)"

# Reasons for days closed only by the working week; Monday=0 as in `date.weekday()`.
WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


@lru_cache(maxsize=32)
def national_days_off(year: int) -> Mapping[date, str]:
    """Every national holiday and cuti bersama day of `year`, mapped to its Indonesian name.

    Two holidays on one day come as one name joined by "; " (the package's way). Cached per
    year because building the package's holiday object costs milliseconds; the mapping is
    read-only because every calendar of the process shares it.
    """
    # language="id" explicitly: without it the package follows the process locale, and under
    # LANG=C.UTF-8 the names come out in English.
    found = holidays.country_holidays(
        "ID", years=year, categories=(holidays.PUBLIC, holidays.GOVERNMENT), language="id"
    )
    return MappingProxyType(dict(found))


def is_estimated(name: str) -> bool:
    """True when the package computed the date instead of taking it from a decree."""
    return ESTIMATED_MARK in name


@lru_cache(maxsize=32)
def cuti_bersama_known(year: int) -> bool:
    """Whether the package lists the cuti bersama of `year` (its SKB 3 Menteri is in it).

    The SKB is issued in the autumn of the year before (permit-domain §3.1); until the package
    has it, the year returns no cuti bersama at all, and a deadline counted across that year
    may move by several working days once the decree is known (permit-domain §3.2, gap 4).
    """
    found = holidays.country_holidays("ID", years=year, categories=(holidays.GOVERNMENT,))
    return len(found) > 0
