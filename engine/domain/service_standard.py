"""The service standard (standar pelayanan) as the law asks for it: its 14 components, when it
may be published, whether a replica's copy was made local, and what changed between two.

UU 25/2009 art. 21 lists the components; PermenPAN-RB 15/2014 groups them in two sets
(permit-domain §1.2). Three of them are the model itself, never typed twice in
`standard.json`: the procedure (the BPMN), the time limit (the process `sla`) and the fees (the
steps' `fee`/`feeFormula`). The other eleven are keys of `standard.json`. A standard is set by a
decree of the head of the unit (SK, permit-domain §1.3): without its number it stays a draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from engine.domain.problems import Problem

STANDARD_FILE = "standard.json"


@dataclass(frozen=True, slots=True)
class Component:
    """One of the 14 components: its number in the regulation's two groups, where it lives."""

    number: int
    name_id: str
    name_en: str
    # "standard": a key of standard.json; "model": read from the BPMN, never typed twice.
    source: Literal["standard", "model"]
    key: str

    def label(self) -> str:
        """How a problem names it: 'komponen 7, Dasar hukum (legal basis)'."""
        return f"komponen {self.number}, {self.name_id} ({self.name_en})"


# Group A (penyampaian pelayanan) 1-6, group B (pengelolaan pelayanan) 7-14, as permit-domain
# §1.2 numbers them.
COMPONENTS: tuple[Component, ...] = (
    Component(1, "Persyaratan", "requirements", "standard", "requirements"),
    Component(2, "Sistem, mekanisme, dan prosedur", "procedure", "model", "procedure"),
    Component(3, "Jangka waktu pelayanan", "time limit", "model", "sla"),
    Component(4, "Biaya/tarif", "fees", "model", "fee"),
    Component(5, "Produk pelayanan", "service product", "standard", "product"),
    Component(
        6, "Penanganan pengaduan, saran, dan masukan", "complaints, suggestions and feedback",
        "standard", "complaints",
    ),
    Component(7, "Dasar hukum", "legal basis", "standard", "legal_basis"),
    Component(
        8, "Sarana, prasarana, dan/atau fasilitas", "facilities", "standard", "facilities"
    ),
    Component(9, "Kompetensi pelaksana", "staff competence", "standard", "competence"),
    Component(
        10, "Pengawasan internal", "internal supervision", "standard", "internal_supervision"
    ),
    Component(11, "Jumlah pelaksana", "number of staff", "standard", "staffing"),
    Component(12, "Jaminan pelayanan", "service guarantee", "standard", "service_guarantee"),
    Component(
        13, "Jaminan keamanan dan keselamatan pelayanan", "security and safety guarantee",
        "standard", "security_guarantee",
    ),
    Component(
        14, "Evaluasi kinerja pelaksana", "staff performance evaluation", "standard",
        "performance_evaluation",
    ),
)

COMPONENT_BY_KEY = {c.key: c for c in COMPONENTS if c.source == "standard"}

# What a replica must make its own before it is published (permit-domain §4.3: legal basis,
# signatories and office names are always local): the region, the agency, the complaint
# contacts and the decree that sets the standard.
LOCAL_KEYS = ("region", "agency", "complaints", "decree")


def is_blank(value: Any) -> bool:
    """Absent, null, blank text or an empty list/object: a component not stated."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict)):
        return not value
    return False


def missing_components(standard: dict[str, Any]) -> list[Problem]:
    """A problem naming each component of `standard.json` that is absent or empty."""
    return [
        Problem(
            f"standard.json lacks {c.label()}: state it under {c.key!r}",
            field=f"/{c.key}",
            file=STANDARD_FILE,
        )
        for c in COMPONENTS
        if c.source == "standard" and is_blank(standard.get(c.key))
    ]


def decree_number(standard: dict[str, Any] | None) -> str | None:
    """The number of the decree (SK) that set the standard, or None when it is not stated."""
    decree = (standard or {}).get("decree")
    number = decree.get("number") if isinstance(decree, dict) else None
    return number.strip() if isinstance(number, str) and number.strip() else None


def decree_is_example(standard: dict[str, Any] | None) -> bool:
    """True when the standard says its decree is an example, not a decree in force."""
    decree = (standard or {}).get("decree")
    return isinstance(decree, dict) and decree.get("example") is True


def publish_problems(
    standard: dict[str, Any] | None,
    region: str,
    *,
    source_standard: dict[str, Any] | None = None,
    replica: bool = False,
) -> list[Problem]:
    """Why a version with this standard may not be published in `region` (empty: it may).

    A version without a standard has no public standard to withhold (an internal or called
    procedure). One with a standard needs its decree number; a replica's standard must also
    name `region` and differ from its source in the agency, the complaint contacts and the
    decree (it was copied from a region whose facts these are).
    """
    if standard is None:
        return []
    problems = []
    if decree_number(standard) is None:
        problems.append(_problem(
            "the standard has no decree number (decree.number, nomor SK): a standard is "
            "published once the head of the unit has set it by decree", "/decree/number"))
    if not replica:
        return problems
    stated = standard.get("region")
    code = stated.get("code") if isinstance(stated, dict) else None
    if code != region:
        problems.append(_problem(
            f"the replica's standard names region {code!r}, not {region!r}: localise "
            "region.code, name and province", "/region/code"))
    if source_standard is None:
        return problems
    for key in ("agency", "complaints"):
        if standard.get(key) == source_standard.get(key):
            problems.append(_problem(
                f"the replica's {key!r} is still the source region's: localise it", f"/{key}"))
    number = decree_number(standard)
    if number is not None and number == decree_number(source_standard):
        problems.append(_problem(
            f"the replica's decree number {number!r} is the source region's decree: state "
            "the decree that sets this region's standard", "/decree/number"))
    return problems


def _problem(message: str, field: str) -> Problem:
    return Problem(message, field=field, file=STANDARD_FILE)


def standard_changes(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each top-level key of standard.json that differs from `a` to `b`, in key order, with
    the component it is (when it is one) and both values."""
    a, b = a or {}, b or {}
    changes = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        component = COMPONENT_BY_KEY.get(key)
        changes.append({
            "key": key,
            "component": component.number if component else None,
            "name": component.name_id if component else None,
            "a": a.get(key),
            "b": b.get(key),
        })
    return changes
