"""Every status a stored record can have, named once (the columns hold their values).

They are `StrEnum`s: a member equals its text, so rows read back from the database (plain
text) compare equal to them, and JSON carries the text.
"""

from __future__ import annotations

from enum import StrEnum


class ApplicationStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    # Stopped by an engine or model error; an admin retries or cancels it. Still open.
    ERROR = "error"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    """A human step's row (`tasks.state`)."""

    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class FeeStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class TimerStatus(StrEnum):
    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"


class DocumentStatus(StrEnum):
    """An applicant's uploaded document (`application_documents.status`)."""

    RECEIVED = "received"
    REJECTED = "rejected"  # by an officer, with a reason the applicant sees
    SUPERSEDED = "superseded"  # a newer upload for the same requirement came


class VersionStatus(StrEnum):
    # Stored, not yet open to new applications: its standard lacks the decree that sets it,
    # or it is a replica whose standard is not yet made local (issue #15 item 5).
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


# An application not finished yet: its process SLA runs (DESIGN §3 pauses it only while it
# waits on the applicant). An engine error does not stop the clock: the government's
# system failing is not the applicant's delay, and must not become a quiet stall.
OPEN_STATUSES = (ApplicationStatus.RUNNING, ApplicationStatus.ERROR)


class OutcomeKind(StrEnum):
    """How a completed application ended, as the citizen must be told it (issue #15 item 7):
    a rejection is never shown as the same "Selesai" as an issued permit."""

    GRANTED = "granted"
    REJECTED = "rejected"


# Words in an end event's id or name that mean a refusal (Indonesian and English), the
# convention the shipped models follow ("application_rejected", "Permohonan ditolak").
_REFUSAL_WORDS = ("reject", "refus", "denied", "tolak")


def outcome_kind(element_id: str, name: str) -> OutcomeKind:
    """The kind of ending an end event stands for: a refusal by its id or name, else granted."""
    text = f"{element_id} {name}".lower()
    refused = any(word in text for word in _REFUSAL_WORDS)
    return OutcomeKind.REJECTED if refused else OutcomeKind.GRANTED


class SubscriptionStatus(StrEnum):
    """A task waiting for a message (`message_subscriptions.status`)."""

    WAITING = "waiting"
    # Its task no longer waits: the message came, or the path it was on ended.
    CLOSED = "closed"


class ExternalTaskStatus(StrEnum):
    """A service task worked by an external worker (`external_tasks.status`)."""

    OPEN = "open"  # waiting for a worker, or locked by one until `lock_expires_at`
    COMPLETED = "completed"
    # Its retries ran out: an incident, the application is in error until a retry.
    FAILED = "failed"
    CANCELLED = "cancelled"  # the path it was on ended (a boundary event, a cancellation)
