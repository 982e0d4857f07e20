"""The web console's texts, Bahasa Indonesia first and English, in one catalogue.

The language is `?lang=` (remembered in the session), else the session's choice, else the
browser's Accept-Language (primary subtag), else Indonesian. A test checks both languages
have the same keys and every key a template uses exists.
"""

from __future__ import annotations

from flask import request, session

from api.errors import preferred_language
from api.web.i18n.texts_en import EN
from api.web.i18n.texts_id import ID

LANGUAGES = ("id", "en")

CATALOGUE = {"id": ID, "en": EN}

# Values shown in tables: statuses and states, by language.
STATUS = {
    "id": {
        "running": "Diproses",
        "completed": "Selesai",
        "error": "Terkendala sistem",
        "cancelled": "Dibatalkan",
        "outcome_granted": "Selesai: diterbitkan",
        "outcome_rejected": "Ditolak",
        "complaint_open": "Sedang ditangani",
        "complaint_answered": "Sudah ditanggapi",
        "ready": "Siap dikerjakan",
        "open": "Belum dibayar",
        "paid": "Lunas",
        "draft": "draf",
        "published": "terbit",
        "retired": "pensiun",
    },
    "en": {
        "running": "In progress",
        "completed": "Completed",
        "error": "System problem",
        "cancelled": "Cancelled",
        "outcome_granted": "Completed: issued",
        "outcome_rejected": "Rejected",
        "complaint_open": "Being handled",
        "complaint_answered": "Answered",
        "ready": "Ready",
        "open": "Unpaid",
        "paid": "Paid",
        "draft": "draft",
        "published": "published",
        "retired": "retired",
    },
}

# Extra hints for the reusable identifier fields, shown under the input.
FORMAT_HINTS = {
    "id": {"rupiah": "Tulis angka bulat, mis. 2700000 atau 2.700.000.", "date": "TTTT-BB-HH"},
    "en": {"rupiah": "Whole rupiah, e.g. 2700000 or 2.700.000.", "date": "YYYY-MM-DD"},
}


def language() -> str:
    """The page language for this request (and remember an explicit choice)."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return preferred_language()


def texts(lang: str) -> dict[str, str]:
    """The catalogue of `lang`."""
    return CATALOGUE[lang]
