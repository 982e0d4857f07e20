"""The public verification page (`/periksa`, `/verify/<number>`), where a QR code leads:
genuine or not, the document's type, holder, dates and status, in Bahasa Indonesia or
English; and the upload form that checks a PDF byte for byte (issue #14 item 3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, redirect, request, url_for

from api.web.i18n import language, texts
from api.web.pages import render
from api.wiring import ctx
from engine.domain.document_templates import indonesian_date
from engine.domain.errors import InvalidInputError, NotFoundError
from engine.services import verification

blp = Blueprint("web_verify", __name__, template_folder="templates")


@blp.app_template_filter("long_date")
def long_date(day: date | None, lang: str = "id") -> str:
    """`7 Desember 2026`, or `7 December 2026` in English."""
    if day is None:
        return ""
    return indonesian_date(day) if lang == "id" else f"{day.day} {day:%B %Y}"


_ZONE = "Asia/Jakarta"


@blp.get("/periksa")
def lookup() -> Any:
    """The verification form; `?number=` goes on to that document's page."""
    number = "".join(request.args.get("number", "").split()).upper()
    if number:
        return redirect(url_for("documents.Verify", number=number))
    return render("verify.html", number=None, d=None, upload=None, error=None, zone=_ZONE)


def verify_page(number: str) -> Any:
    """The page a document's QR code opens (404 with the 'not found' answer if unknown)."""
    try:
        found = verification.verify_number(ctx(), number)
    except NotFoundError:
        return render("verify.html", 404, number=number[:48], d=None, upload=None, error=None,
                      zone=_ZONE)
    return render("verify.html", number=found["number"], d=found, upload=None, error=None,
                  zone=found["region"]["timezone"])


def verify_upload_page() -> Any:
    """The answer to an uploaded PDF, on the same page."""
    storage = request.files.get("file")
    try:
        data = storage.read() if storage is not None and storage.filename else b""
        answer = verification.verify_upload(ctx(), data)
    except InvalidInputError:
        error = texts(language())["verify_upload_not_genuine"]
        return render("verify.html", 422, number=None, d=None, upload=None, error=error,
                      zone=_ZONE)
    found = answer["document"]
    zone = found["region"]["timezone"] if found else _ZONE
    return render("verify.html", number=found["number"] if found else None, d=found,
                  upload=answer, error=None, zone=zone)

