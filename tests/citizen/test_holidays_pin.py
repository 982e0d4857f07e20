"""Issue #15 item 6 (part): the calendar's `holidays` has the 2026 and 2027 SKB decrees."""

from __future__ import annotations

import tomllib
from datetime import date

import holidays

from engine.domain.calendar_holidays import national_days_off
from tests.factories import ROOT


def test_holidays_is_pinned_to_a_version_with_the_2026_and_2027_cuti_bersama() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "holidays>=0.109" in declared  # 0.109 carries the 2027 SKB (vacanza/holidays#3828)
    for year in (2026, 2027):
        cuti = holidays.country_holidays("ID", years=year, categories=(holidays.GOVERNMENT,))
        assert len(cuti) == 8, year  # SKB 3 Menteri: 8 days of cuti bersama each year
        assert set(cuti) <= set(national_days_off(year)), year  # the engine closes them
    assert date(2026, 3, 18) in national_days_off(2026)  # cuti bersama before Nyepi
