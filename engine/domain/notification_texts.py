"""The words of a notification: Bahasa Indonesia first, English beside it.

Texts name the service, the tracking code, the step and amounts; never a name, NIK or
address (the applicant's own message goes to them; officers' messages name no one).
"""

from __future__ import annotations

from typing import Any

from engine.domain.notifications import NotificationEvent

E = NotificationEvent

# (subject, body) per event and language; {placeholders} come from the notification's facts.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    E.APPLICATION_RECEIVED: {
        "id": (
            "Permohonan diterima: {title} ({tracking_code})",
            "Permohonan {title} Anda telah kami terima. Kode pelacakan: {tracking_code}. "
            "Ikuti perkembangannya di halaman pelacakan dengan kode tersebut.",
        ),
        "en": (
            "Application received: {title} ({tracking_code})",
            "We have received your application for {title}. Tracking code: {tracking_code}. "
            "Follow its progress on the tracking page with that code.",
        ),
    },
    E.DOCUMENTS_REQUESTED: {
        "id": (
            "Mohon lengkapi: {step} ({tracking_code})",
            "Permohonan {title} ({tracking_code}) menunggu Anda: {step}. Jangka waktu layanan "
            "berhenti sampai Anda melengkapinya.",
        ),
        "en": (
            "Action needed: {step} ({tracking_code})",
            "Your application for {title} ({tracking_code}) is waiting for you: {step}. The "
            "service time is paused until you complete it.",
        ),
    },
    E.PAYMENT_BILLED: {
        "id": (
            "Tagihan retribusi {amount_text}: {tracking_code}",
            "Retribusi {step} untuk permohonan {title} ({tracking_code}) sebesar "
            "{amount_text}. Kode bayar: {billing_code}.",
        ),
        "en": (
            "Fee billed, {amount_text}: {tracking_code}",
            "The fee for {step} of your application for {title} ({tracking_code}) is "
            "{amount_text}. Payment code: {billing_code}.",
        ),
    },
    E.DECISION: {
        "id": (
            "Keputusan permohonan {tracking_code}: {outcome_text}",
            "Permohonan {title} ({tracking_code}) {outcome_text}. Rinciannya ada di halaman "
            "pelacakan.",
        ),
        "en": (
            "Decision on application {tracking_code}: {outcome_text}",
            "Your application for {title} ({tracking_code}) {outcome_text}. The details are "
            "on the tracking page.",
        ),
    },
    E.COMPLAINT_ANSWERED: {
        "id": (
            "Pengaduan {complaint_number} telah dijawab",
            "Pengaduan Anda {complaint_number} tentang permohonan {tracking_code} telah "
            "dijawab. Jawabannya dapat dibaca di halaman pelacakan.",
        ),
        "en": (
            "Complaint {complaint_number} answered",
            "Your complaint {complaint_number} about application {tracking_code} has been "
            "answered. Read the answer on the tracking page.",
        ),
    },
    E.STEP_READY: {
        "id": (
            "Langkah siap dikerjakan: {step} ({ref})",
            "{title} ({ref}): langkah {step} siap dikerjakan oleh {role}.{due_text}",
        ),
        "en": (
            "Step ready: {step} ({ref})",
            "{title} ({ref}): the step {step} is ready for {role}.{due_text}",
        ),
    },
    E.STEP_OVERDUE: {
        "id": (
            "Melewati batas waktu: {step} ({ref})",
            "{title} ({ref}): langkah {step} ({role}) melewati batas waktunya.",
        ),
        "en": (
            "Overdue: {step} ({ref})",
            "{title} ({ref}): the step {step} ({role}) is past its due time.",
        ),
    },
}

_OUTCOMES = {
    "granted": ("telah disetujui", "has been granted"),
    "rejected": ("ditolak", "has been refused"),
    "deemed_granted": (
        "dianggap dikabulkan secara hukum karena tidak diputus dalam batas waktunya "
        "(UU 30/2014 Pasal 53)",
        "is deemed granted by law: no decision was made within its time limit "
        "(UU 30/2014 art. 53)",
    ),
}
_OUTCOME_OTHER = ("telah selesai diproses", "has been processed")


def rupiah(amount: int) -> str:
    """Rp with Indonesian thousands separators: Rp 443.700."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def render(event: str, facts: dict[str, Any], language: str) -> tuple[str, str]:
    """The (subject, body) of `event` in `language` ("id" or "en"; anything else: "id")."""
    lang = language if language in ("id", "en") else "id"
    subject, body = TEXTS[event][lang]
    index = 0 if lang == "id" else 1
    values = {k: ("" if v is None else v) for k, v in facts.items()}
    values.setdefault("title", "")
    values.setdefault("tracking_code", "")
    values.setdefault("step", "")
    values.setdefault("role", "")
    values.setdefault("billing_code", "")
    values.setdefault("complaint_number", "")
    values["ref"] = facts.get("tracking_code") or facts.get("application_id") or ""
    amount = facts.get("amount")
    values["amount_text"] = rupiah(int(amount)) if isinstance(amount, int) else ""
    values["outcome_text"] = _OUTCOMES.get(str(facts.get("outcome")), _OUTCOME_OTHER)[index]
    due = facts.get("due_at")
    values["due_text"] = (
        "" if not due else (f" Batas waktu: {due}." if lang == "id" else f" Due: {due}.")
    )
    return subject.format(**values), body.format(**values)


def both(event: str, facts: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Subject and body in both languages (what a webhook carries)."""
    out = {}
    for lang in ("id", "en"):
        subject, body = render(event, facts, lang)
        out[lang] = {"subject": subject, "body": body}
    return out
