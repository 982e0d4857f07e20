"""Rendering an issued document as a one-page A4 PDF (ReportLab), with its QR code (segno).

The layout: the region's letterhead (government, agency, a rule), the title and number,
the body paragraph, the holder's name, the permit's facts as a two-column table, and at the
foot the QR code of the public verification page beside the issue date, the validity and
the signing key's id. Texts are printed in Bahasa Indonesia with the English below in
italics. The canvas is `invariant`: the same content gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from engine.domain.document_templates import indonesian_date

_MM: float = float(mm)
_PAGE: tuple[float, float] = (float(A4[0]), float(A4[1]))
_MARGIN = 20 * _MM
_QR_SIZE = 34 * _MM


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """Everything printed on the page (already resolved from the template and the data)."""

    number: str
    region_name: str
    agency_id: str
    agency_en: str
    title_id: str
    title_en: str
    body_id: str
    body_en: str
    holder_name: str
    facts: tuple[tuple[str, str, str], ...]  # (label id, label en, value)
    issued_on: date
    valid_until: date | None
    verify_url: str
    key_id: str


def render_pdf(content: DocumentContent) -> bytes:
    """The document as PDF bytes."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(f"{content.title_id} {content.number}")
    canvas.setAuthor(content.agency_id)
    canvas.setSubject(content.verify_url)
    width, height = _PAGE
    y = _letterhead(canvas, content, width, height)
    y = _title(canvas, content, width, y)
    y = _body(canvas, content, width, y)
    _facts(canvas, content, width, y)
    _foot(canvas, content, width)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _letterhead(canvas: Canvas, content: DocumentContent, width: float, height: float) -> float:
    y = height - _MARGIN
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawCentredString(width / 2, y, f"PEMERINTAH {content.region_name.upper()}")
    y -= 6 * _MM
    canvas.setFont("Helvetica-Bold", 11)
    for line in _wrap(content.agency_id.upper(), "Helvetica-Bold", 11, width - 2 * _MARGIN):
        canvas.drawCentredString(width / 2, y, line)
        y -= 5 * _MM
    canvas.setFont("Helvetica-Oblique", 9)
    canvas.drawCentredString(width / 2, y, content.agency_en)
    y -= 3 * _MM
    canvas.setLineWidth(1.6)
    canvas.line(_MARGIN, y, width - _MARGIN, y)
    canvas.setLineWidth(0.5)
    canvas.line(_MARGIN, y - 1.2 * _MM, width - _MARGIN, y - 1.2 * _MM)
    return y - 12 * _MM


def _title(canvas: Canvas, content: DocumentContent, width: float, y: float) -> float:
    canvas.setFont("Helvetica-Bold", 15)
    for line in _wrap(content.title_id.upper(), "Helvetica-Bold", 15, width - 2 * _MARGIN):
        canvas.drawCentredString(width / 2, y, line)
        y -= 7 * _MM
    canvas.setFont("Helvetica-Oblique", 10)
    canvas.drawCentredString(width / 2, y + 1 * _MM, content.title_en)
    y -= 6 * _MM
    canvas.setFont("Helvetica", 11)
    canvas.drawCentredString(width / 2, y, f"Nomor / Number: {content.number}")
    return y - 12 * _MM


def _body(canvas: Canvas, content: DocumentContent, width: float, y: float) -> float:
    text_width = width - 2 * _MARGIN
    for text, font, size in ((content.body_id, "Helvetica", 10.5),
                             (content.body_en, "Helvetica-Oblique", 9)):
        canvas.setFont(font, size)
        for line in _wrap(text, font, size, text_width):
            canvas.drawString(_MARGIN, y, line)
            y -= size * 0.45 * _MM
        y -= 2 * _MM if text else 0
    y -= 4 * _MM
    canvas.setFont("Helvetica", 10)
    canvas.drawString(_MARGIN, y, "Diberikan kepada / Issued to:")
    y -= 7 * _MM
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(_MARGIN + 6 * _MM, y, content.holder_name)
    return y - 11 * _MM


def _facts(canvas: Canvas, content: DocumentContent, width: float, y: float) -> float:
    label_width = 62 * _MM
    value_x = _MARGIN + label_width + 4 * _MM
    value_width = width - _MARGIN - value_x
    bottom = _MARGIN + _QR_SIZE + 12 * _MM
    for label_id, label_en, value in content.facts:
        lines = _wrap(value, "Helvetica", 10, value_width) or ["-"]
        if y - 4.5 * _MM * max(len(lines), 2) < bottom:
            break  # the page is full; the template checks keep facts few
        canvas.setFont("Helvetica", 10)
        canvas.drawString(_MARGIN, y, label_id)
        canvas.setFont("Helvetica-Oblique", 8)
        canvas.drawString(_MARGIN, y - 3.6 * _MM, label_en)
        canvas.setFont("Helvetica", 10)
        line_y = y
        for line in lines[:6]:
            canvas.drawString(value_x, line_y, line)
            line_y -= 4.5 * _MM
        y = min(y - 9 * _MM, line_y - 2 * _MM)
        canvas.setLineWidth(0.2)
        canvas.line(_MARGIN, y + 3 * _MM, width - _MARGIN, y + 3 * _MM)
    return y


def _foot(canvas: Canvas, content: DocumentContent, width: float) -> None:
    x = width - _MARGIN - _QR_SIZE
    _qr(canvas, content.verify_url, x, _MARGIN + 6 * _MM, _QR_SIZE)
    canvas.setFont("Helvetica", 7)
    canvas.drawCentredString(x + _QR_SIZE / 2, _MARGIN + 2 * _MM, "Pindai untuk memeriksa keaslian")
    canvas.drawCentredString(x + _QR_SIZE / 2, _MARGIN - 1 * _MM, "Scan to verify")
    lines = [
        ("Helvetica", 9, f"Diterbitkan / Issued: {indonesian_date(content.issued_on)}"),
        ("Helvetica", 9, "Berlaku sampai / Valid until: "
         + (indonesian_date(content.valid_until) if content.valid_until
            else "selama tidak dicabut / unless revoked")),
        ("Helvetica", 8, "Ditandatangani secara elektronik (Ed25519) / Electronically signed"),
        ("Helvetica", 8, f"Kunci / Key: {content.key_id}"),
        ("Helvetica", 8, f"Verifikasi / Verify: {content.verify_url}"),
    ]
    y = _MARGIN + _QR_SIZE
    for font, size, text in lines:
        canvas.setFont(font, size)
        for line in _wrap(text, font, size, x - _MARGIN - 4 * _MM):
            canvas.drawString(_MARGIN, y, line)
            y -= size * 0.5 * _MM


def _qr(canvas: Canvas, payload: str, x: float, y: float, size: float) -> None:
    """The QR code drawn as one vector path, a rectangle per run of dark modules in a row
    (one path: no anti-aliasing seams between rows), with a 4-module quiet zone."""
    code = segno.make(payload, error="m", micro=False)
    matrix = [list(row) for row in code.matrix_iter(scale=1, border=4)]
    module = size / len(matrix)
    path = canvas.beginPath()
    for row_no, row in enumerate(matrix):
        top = y + size - (row_no + 1) * module
        start = None
        for col_no, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col_no
            elif not dark and start is not None:
                path.rect(x + start * module, top, (col_no - start) * module, module)
                start = None
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` broken into lines that fit `width` (words longer than a line are cut)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            while stringWidth(word, font, size) > width:
                cut = len(word) - 1
                while cut > 1 and stringWidth(word[:cut], font, size) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            candidate = f"{line} {word}".strip()
            if stringWidth(candidate, font, size) <= width:
                line = candidate
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    return lines
