"""Public tracking by code (no auth, no personal data): JSON, or a small page for browsers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import preferred_language
from api.wiring import ctx
from engine.services import tracking

blp = Blueprint(
    "tracking",
    __name__,
    url_prefix="/track",
    template_folder="templates",
    description="Public application tracking (pelacakan permohonan)",
)

LABELS: dict[str, dict[str, Any]] = {
    "id": {
        "heading": "Lacak permohonan",
        "code": "Kode lacak",
        "status": "Status",
        "submitted": "Diajukan",
        "completed": "Selesai",
        "process_due": "Batas waktu layanan",
        "paused": "Waktu layanan dihentikan sementara: menunggu kelengkapan dari pemohon.",
        "current": "Tahap saat ini",
        "done": "Tahap yang sudah selesai",
        "step": "Tahap",
        "since": "Mulai",
        "due": "Batas waktu",
        "overdue": "terlambat",
        "your_turn": "menunggu pemohon",
        "none": "Belum ada.",
        "fees": "Biaya",
        "item": "Rincian",
        "amount": "Jumlah",
        "receipt": "No. kuitansi",
        "no_fees": "Layanan ini tidak dipungut biaya (Rp 0).",
        "switch": "English",
        "footer": "Biaya di luar yang tercantum di sini adalah pungutan liar: "
        "laporkan melalui SP4N-LAPOR! (lapor.go.id).",
        "statuses": {
            "running": "Diproses",
            "completed": "Selesai",
            "error": "Terkendala sistem",
            "cancelled": "Dibatalkan",
        },
        "fee_statuses": {"open": "Belum dibayar", "paid": "Lunas", "cancelled": "Dibatalkan"},
    },
    "en": {
        "heading": "Track application",
        "code": "Tracking code",
        "status": "Status",
        "submitted": "Submitted",
        "completed": "Completed",
        "process_due": "Service deadline",
        "paused": "The service clock is paused: waiting for the applicant's documents.",
        "current": "Current step",
        "done": "Steps completed",
        "step": "Step",
        "since": "Since",
        "due": "Due",
        "overdue": "overdue",
        "your_turn": "waiting for the applicant",
        "none": "None yet.",
        "fees": "Fees",
        "item": "Item",
        "amount": "Amount",
        "receipt": "Receipt no.",
        "no_fees": "This service is free of charge (Rp 0).",
        "switch": "Bahasa Indonesia",
        "footer": "Any charge not listed here is an illegal levy: report it to SP4N-LAPOR! "
        "(lapor.go.id).",
        "statuses": {
            "running": "In progress",
            "completed": "Completed",
            "error": "System problem",
            "cancelled": "Cancelled",
        },
        "fee_statuses": {"open": "Unpaid", "paid": "Paid", "cancelled": "Cancelled"},
    },
}
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def _language() -> str:
    asked = request.args.get("lang")
    if asked in LABELS:
        return asked
    return preferred_language()


@blp.route("/<code>")
class Track(MethodView):
    @blp.doc(security=[])
    @blp.response(200)
    def get(self, code: str) -> Any:
        """Public status of an application by tracking code (JSON or HTML)"""
        data = tracking.track(ctx(), code)
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html":
            return data
        lang = _language()
        zone = data["region"]["timezone"]
        html = render_template(
            "track.html",
            d=data,
            t=LABELS[lang],
            lang=lang,
            other_lang="en" if lang == "id" else "id",
            rupiah=_rupiah,
            fmt=lambda moment: _fmt(moment, zone),
        )
        return Response(html, mimetype="text/html")


def _fmt(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y %H:%M ") + ZONE_NAMES.get(
        zone, zone
    )


def _rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")
