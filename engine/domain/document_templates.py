"""Issued-document templates: what a permit or a letter prints, declared in the package.

A model package declares its templates in `standard.json` under `documents` (beside
`fee_formulas`), and an end event names one with the extension property `document`
(DESIGN §2's `camunda:properties`). A template is plain data:

    "documents": {
      "pbg": {
        "type": "PBG",                                  # number series: PBG-3273-2026-000001
        "title": {"id": "Persetujuan Bangunan Gedung", "en": "Building Approval"},
        "body": {"id": "...", "en": "..."},            # optional paragraph
        "holder": "applicant.name",                     # application data path
        "valid_years": 5,                               # optional; no expiry without it
        "fields": [{"label": {"id": "...", "en": "..."}, "from": "building.floor_area_m2",
                    "suffix": " m²"}]
      }
    }

Paths name application data (`a.b.c`); at upload each must exist in the model's forms.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from engine.domain.problems import Problem

STANDARD_KEY = "documents"
MAX_FIELDS = 30
MAX_TEXT = 2000
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_TYPE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,7}$")
_NUMBER = re.compile(r"^(?P<type>[A-Z][A-Z0-9]{1,15})-(?P<region>\d{2,8})-(?P<year>\d{4})-\d{6,}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SIGNED_PREFIX = "permitflow:issued-document:v1"
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")


@dataclass(frozen=True, slots=True)
class TemplateField:
    """One fact printed on the document: its label and the data path it comes from."""

    label_id: str
    label_en: str
    source: str
    suffix: str = ""


@dataclass(frozen=True, slots=True)
class DocumentTemplate:
    """A checked template (see the module docstring for the JSON it comes from)."""

    name: str
    doc_type: str
    title_id: str
    title_en: str
    holder: str
    fields: tuple[TemplateField, ...]
    body_id: str = ""
    body_en: str = ""
    valid_years: int | None = None

    def paths(self) -> list[tuple[str, str]]:
        """Every data path the template reads, with the JSON field that names it."""
        return [("holder", self.holder)] + [
            (f"fields[{i}].from", f.source) for i, f in enumerate(self.fields)
        ]


def parse_templates(
    standard: dict[str, Any] | None,
) -> tuple[dict[str, DocumentTemplate], list[Problem]]:
    """The templates `standard.json` declares, and a problem for each malformed one."""
    declared = (standard or {}).get(STANDARD_KEY)
    if declared is None:
        return {}, []
    if not isinstance(declared, dict):
        return {}, [Problem("documents must be an object of templates by name",
                            field=STANDARD_KEY)]
    templates: dict[str, DocumentTemplate] = {}
    problems: list[Problem] = []
    for name, body in declared.items():
        template, found = parse_template(str(name), body)
        problems += found
        if template is not None:
            templates[str(name)] = template
    return templates, problems


def parse_template(name: str, body: Any) -> tuple[DocumentTemplate | None, list[Problem]]:
    """One template from its JSON; `None` and the problems (each naming its field) if bad."""
    at = f"{STANDARD_KEY}.{name}"
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(f"document template {name!r}: {message}", field=f"{at}.{field}"))

    if not _NAME.match(name):
        problems.append(Problem(f"document template name {name!r} must be 1-63 lower-case "
                                "letters, digits, '_' or '-'", field=at))
    if not isinstance(body, dict):
        return None, [*problems, Problem(f"document template {name!r} must be an object",
                                         field=at)]
    known = {"type", "title", "body", "holder", "valid_years", "fields"}
    for extra in sorted(set(body) - known):
        bad(extra, f"unknown key {extra!r} (known: {', '.join(sorted(known))})")
    doc_type = body.get("type")
    if not isinstance(doc_type, str) or not _TYPE.match(doc_type):
        bad("type", "type must be 2-16 upper-case letters or digits, starting with a letter "
                    "(it starts the document number, e.g. PBG)")
    title = _bilingual(body.get("title"), "title", bad, required=True)
    text = _bilingual(body.get("body"), "body", bad, required=False)
    holder = body.get("holder")
    if not isinstance(holder, str) or not _PATH.match(holder):
        bad("holder", "holder must be a data path such as applicant.name")
    valid_years = body.get("valid_years")
    if valid_years is not None and (
        not isinstance(valid_years, int) or isinstance(valid_years, bool)
        or not 1 <= valid_years <= 100
    ):
        bad("valid_years", "valid_years must be a whole number of years from 1 to 100")
    fields = _fields(body.get("fields", []), bad)
    if problems:
        return None, problems
    return DocumentTemplate(
        name=name, doc_type=str(doc_type), title_id=title[0], title_en=title[1],
        holder=str(holder), fields=tuple(fields), body_id=text[0], body_en=text[1],
        valid_years=valid_years,
    ), []


def _bilingual(value: Any, field: str, bad: Any, *, required: bool) -> tuple[str, str]:
    if value is None and not required:
        return "", ""
    if (not isinstance(value, dict) or set(value) != {"id", "en"}
            or not all(isinstance(v, str) and 0 < len(v) <= MAX_TEXT for v in value.values())):
        bad(field, f"{field} must be {{\"id\": ..., \"en\": ...}} with texts of 1-{MAX_TEXT} "
                   "characters")
        return "", ""
    return value["id"], value["en"]


def _fields(value: Any, bad: Any) -> list[TemplateField]:
    if not isinstance(value, list) or len(value) > MAX_FIELDS:
        bad("fields", f"fields must be a list of at most {MAX_FIELDS} facts")
        return []
    fields = []
    for i, item in enumerate(value):
        where = f"fields[{i}]"
        if not isinstance(item, dict):
            bad(where, "each field must be an object {label, from}")
            continue
        label = _bilingual(item.get("label"), f"{where}.label", bad, required=True)
        source, suffix = item.get("from"), item.get("suffix", "")
        if not isinstance(source, str) or not _PATH.match(source):
            bad(f"{where}.from", "from must be a data path such as building.floor_area_m2")
            continue
        if not isinstance(suffix, str) or len(suffix) > 20:
            bad(f"{where}.suffix", "suffix must be a text of at most 20 characters")
            continue
        fields.append(TemplateField(label[0], label[1], source, suffix))
    return fields


def template_as_dict(template: DocumentTemplate) -> dict[str, Any]:
    """The template as stored on a model version (read back by `template_from_dict`)."""
    return {
        "name": template.name, "type": template.doc_type,
        "title": {"id": template.title_id, "en": template.title_en},
        "body": {"id": template.body_id, "en": template.body_en},
        "holder": template.holder, "valid_years": template.valid_years,
        "fields": [{"label": {"id": f.label_id, "en": f.label_en}, "from": f.source,
                    "suffix": f.suffix} for f in template.fields],
    }


def template_from_dict(stored: dict[str, Any]) -> DocumentTemplate:
    """A template a model version stored (checked at upload)."""
    body = {k: v for k, v in stored.items() if k != "name"}
    if not body.get("body", {}).get("id"):
        body.pop("body", None)
    if body.get("valid_years") is None:
        body.pop("valid_years", None)
    template, problems = parse_template(stored["name"], body)
    if template is None:
        raise RuntimeError(f"stored document template {stored['name']!r} does not parse: "
                           f"{problems[0].message}")
    return template


def value_at(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the application data, or None where it is missing."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def printable(value: Any, suffix: str = "") -> str:
    """A data value as printed on a document: lists joined, booleans in Indonesian,
    numbers with Indonesian separators, ISO dates as `1 Desember 2025`; missing as a dash."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".") + suffix
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".") + suffix
    if isinstance(value, list):
        return "; ".join(printable(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(printable(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return indonesian_date(date.fromisoformat(value)) + suffix
        except ValueError:
            pass
    return str(value) + suffix


def indonesian_date(day: date) -> str:
    """`7 Desember 2026`."""
    return f"{day.day} {MONTHS_ID[day.month - 1]} {day.year}"


def document_number(doc_type: str, region: str, year: int, sequence: int) -> str:
    """A document's number: type, region, year (region's time zone), 6-digit sequence."""
    return f"{doc_type}-{region}-{year}-{sequence:06d}"


def is_document_number(text: str) -> bool:
    """Whether `text` has the shape of a document number (before any lookup)."""
    return len(text) <= 48 and _NUMBER.match(text) is not None


def signed_statement(
    number: str, sha256: str, doc_type: str, holder: str, issued_on: date,
    valid_until: date | None,
) -> bytes:
    """What the region's Ed25519 key signs: the number bound to the PDF's SHA-256 and to the
    facts the verification page shows from the register (type, holder, dates), so a register
    row changed behind the engine's back no longer verifies. Fields are JSON-quoted."""
    fields = [SIGNED_PREFIX, number, sha256, doc_type, holder, issued_on.isoformat(),
              valid_until.isoformat() if valid_until else ""]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
