"""How the pages show money, moments, countdowns and standard texts (Jinja filters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.domain.calendar import CalendarSettings

ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
_DEFAULT = CalendarSettings()
# Hours of one office day (07:30-16:00 unless a region says otherwise), to say "2 days 3 h".
DAY_HOURS = (
    _DEFAULT.closes.hour * 60
    + _DEFAULT.closes.minute
    - _DEFAULT.opens.hour * 60
    - _DEFAULT.opens.minute
) / 60


def rupiah(amount: Any) -> str:
    """`2700000` -> `Rp 2.700.000`."""
    if not isinstance(amount, int):
        return "—"
    return "Rp " + f"{amount:,}".replace(",", ".")


def moment(value: datetime | None, zone: str = "Asia/Jakarta") -> str:
    """A stored UTC moment in the region's time, `17-03-2026 10:00 WIB`."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    return local.strftime("%d-%m-%Y %H:%M ") + ZONE_NAMES.get(zone, zone)


def countdown(hours_left: float | None, texts: dict[str, str]) -> str:
    """Working time left until a step is due, in working days and hours."""
    if hours_left is None:
        return "—"
    if hours_left <= 0:
        return texts["late_by"]
    days, rest = divmod(hours_left, DAY_HOURS)
    if days >= 1:
        return texts["days_left"].format(days=int(days), hours=int(rest))
    return texts["hours_left"].format(hours=round(hours_left, 1))


def localized(value: Any, lang: str) -> Any:
    """A standard.json value in the page's language: `{"id": .., "en": ..}` picks one."""
    if isinstance(value, dict) and ("id" in value or "en" in value):
        picked = value.get(lang) or value.get("id") or value.get("en")
        if isinstance(picked, str) and set(value) <= {"id", "en"}:
            return picked
    return value


def sla_text(sla: str | None, lang: str) -> str:
    """`P3D` -> `3 hari kerja`, `PT4H` -> `4 jam kerja` (the model's own text otherwise)."""
    if not sla:
        return "—"
    units = {"D": ("hari kerja", "working days"), "H": ("jam kerja", "working hours")}
    number, unit = sla.lstrip("PT")[:-1], sla[-1]
    if number.isdigit() and unit in units:
        return f"{number} {units[unit][0 if lang == 'id' else 1]}"
    return sla


_QUIET_KEYS = {"code", "mandatory", "type", "language"}


def standard_lines(value: Any, lang: str) -> list[str]:
    """A standard.json component as readable lines (lists item by item, objects inline)."""
    value = localized(value, lang)
    if isinstance(value, list):
        return [_inline(item, lang) for item in value if item is not None]
    if isinstance(value, dict):
        return [
            f"{key}: {_inline(item, lang)}" if key != "channels" else _inline(item, lang)
            for key, item in value.items()
            if item is not None and key not in _QUIET_KEYS
        ]
    return [str(value)]


def _inline(value: Any, lang: str) -> str:
    value = localized(value, lang)
    if isinstance(value, dict):
        parts = (
            _inline(v, lang) for k, v in value.items() if v is not None and k not in _QUIET_KEYS
        )
        return " · ".join(p for p in parts if p)
    if isinstance(value, list):
        return "; ".join(_inline(v, lang) for v in value if v is not None)
    return str(value)
