"""The JSON-shaped answers of the use cases that are read as documents, typed.

The records-as-entities views (`views.py`) are dataclasses. These answers are documents
(a calendar, a service standard, a report, a tracking page, a diff, a catalogue page, a
user with tokens): TypedDicts keep their JSON shape literal (keys such as `from`) and
their many readers (API, web console, CLI, tests) unchanged, while mypy checks every key.
`tests/api/test_read_schemas.py` checks that each API response schema has exactly these
keys, so an answer can neither lose a field on the wire nor show one undocumented.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, NotRequired, TypedDict

# --- calendars ----------------------------------------------------------------------------


class ClosedDay(TypedDict):
    day: str
    reason: str | None
    estimated: bool


class OverrideDay(TypedDict):
    day: str
    kind: str
    reason: str


class DayHours(TypedDict):
    weekday: int  # 0 = Monday
    opens: str
    closes: str


class CalendarWarning(TypedDict):
    """Something a deadline on this calendar may not yet account for."""

    code: str  # "cuti-bersama-unknown"
    year: int
    message: dict[str, str]  # {"id", "en"}


class CalendarView(TypedDict):
    region: str
    year: int
    timezone: str
    working_days: list[int]
    opens: str
    closes: str
    day_hours: list[DayHours]
    warnings: list[CalendarWarning]
    closed_days: list[ClosedDay]
    overrides: list[OverrideDay]


DueTime = TypedDict(
    "DueTime",
    {
        "region": str,
        "from": datetime,
        "sla": str,
        "clock_start": datetime,
        "due_at": datetime,
        "due_local": str,
        "working_minutes": int,
        "warnings": list[CalendarWarning],
    },
)

# --- service standards --------------------------------------------------------------------


class FormulaRef(TypedDict):
    name: str
    version: str
    sha256: str


class ProcedureStep(TypedDict):
    order: int
    element_id: str
    name: str
    role: str
    sla: str | None
    fee: int
    fee_formula: NotRequired[FormulaRef]
    # A called model's step: the call activity, the model and version, per_item (#10).
    called: NotRequired[dict[str, Any]]


class StandardTotals(TypedDict):
    fee: int
    fee_per_item: int
    legal_sla: str | None
    legal_sla_is_backstop: bool
    currency: str
    fee_formulas: list[dict[str, Any]]


class ServiceStandard(TypedDict):
    region: str
    key: str
    version: int
    title: str
    status: str
    procedure: list[ProcedureStep]
    totals: StandardTotals
    standard: dict[str, Any]
    # Issue #15, in the catalogue: complaints (filed, answered, answered_in_time) and the IKM.
    complaints: NotRequired[dict[str, int]]
    skm: NotRequired[dict[str, Any]]


class EstimatedFee(TypedDict):
    element_id: str
    name: str
    amount: int
    assessment: dict[str, Any] | None
    called: NotRequired[dict[str, Any]]


class FeeEstimate(TypedDict):
    region: str
    key: str
    version: int
    currency: str
    fees: list[EstimatedFee]
    total: int


class ChannelView(TypedDict):
    name: str
    region: str
    kind: str
    active: bool
    fingerprint: str
    created_at: datetime


class NewChannelView(ChannelView):
    secret: str


class CallbackAnswer(TypedDict):
    status: str
    receipt_no: str | None
    billing_code: str | None
    amount: int | None


class BilledItem(TypedDict):
    billing_code: str | None
    fee_item: uuid.UUID
    application_id: uuid.UUID
    name: str
    amount: int
    status: str


class PaidItem(BilledItem):
    receipt_no: str
    channel: str
    reference: str
    paid_at: datetime


class ChannelNotification(TypedDict):
    channel: str
    outcome: str
    reason: str | None
    billing_code: str | None
    amount: int | None
    reference: str | None
    receipt_no: str | None
    received_at: datetime


class ReconciliationTotals(TypedDict):
    billed: int
    paid: int
    unpaid: int
    refused: int
    duplicates: int


class Reconciliation(TypedDict):
    region: str
    date: str
    timezone: str
    currency: str
    billed: list[BilledItem]
    paid: list[PaidItem]
    unpaid: list[BilledItem]
    notifications: list[ChannelNotification]
    totals: ReconciliationTotals


# --- reports ------------------------------------------------------------------------------


class StepFigures(TypedDict):
    region: str
    process_key: str
    element_id: str
    name: str
    count: int
    on_time_rate: float | None
    median_hours: float | None
    p90_hours: float | None
    overdue_now: int


class DeemedCount(TypedDict):
    region: str
    process_key: str
    count: int


SlaReport = TypedDict(
    "SlaReport",
    {
        "from": datetime,
        "to": datetime,
        "generated_at": datetime,
        "steps": list[StepFigures],
        "deemed_granted": list[DeemedCount],
    },
)

# --- tracking -----------------------------------------------------------------------------


class TrackedRegion(TypedDict):
    code: str
    name: str
    timezone: str


class TrackedStep(TypedDict):
    element_id: str
    name: str
    started_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    overdue: bool
    late: bool
    waiting_on_applicant: bool


class TrackedFee(TypedDict):
    name: str
    amount: int
    status: str
    receipt_no: str | None
    paid_at: datetime | None


class Tracking(TypedDict):
    tracking_code: str
    title: str
    process_key: str
    version: int
    region: TrackedRegion
    status: str
    submitted_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    sla_paused: bool
    steps_done: list[TrackedStep]
    current_steps: list[TrackedStep]
    fees: list[TrackedFee]
    # Issue #15: how it ended, why it was cancelled, what a pause waits for, the published
    # fee schedule, and a deemed approval.
    outcome: dict[str, Any] | None
    cancelled_reason: str | None
    waiting_for: str | None
    fee_schedule: dict[str, Any]
    deemed_granted_at: datetime | None
    complaints: list[dict[str, Any]]
    survey: dict[str, bool]


# --- fees ---------------------------------------------------------------------------------


class PaymentView(TypedDict):
    reference: str
    channel: str
    amount: int
    paid_at: datetime
    receipt_no: str


class FeeItemView(TypedDict):
    fee_item: uuid.UUID
    element_id: str
    name: str
    amount: int
    status: str
    receipt_no: str | None
    paid_at: datetime | None
    cancelled_reason: str | None
    currency: str
    billing_code: str | None
    formula: dict[str, Any] | None
    payment: NotRequired[PaymentView]


# --- users --------------------------------------------------------------------------------


class TokenView(TypedDict):
    id: int
    user_id: int
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    state: str


class IssuedTokenView(TokenView):
    token: str


class UserView(TypedDict):
    id: int
    name: str
    region: str | None
    roles: list[str]
    active: bool
    created_at: datetime
    tokens: list[TokenView]


# --- the catalogue ------------------------------------------------------------------------


class CatalogRegion(TypedDict):
    code: str
    name: str


class CatalogItem(TypedDict):
    region: CatalogRegion
    key: str
    version: int
    title: str
    origin: dict[str, Any] | None
    steps: int
    total_fee: int
    legal_sla: str | None
    legal_sla_days: float | None
    replications: int
    started: int
    finished: int
    median_days: float | None
    p90_days: float | None
    on_time_rate: float | None
    overdue_running: int


class CatalogPage(TypedDict):
    items: list[CatalogItem]
    total: int
    limit: int
    offset: int
    since: datetime
    generated_at: datetime
    window_days: int


# --- diffs --------------------------------------------------------------------------------


class VersionSummary(TypedDict):
    region: str
    key: str
    version: int
    title: str | None
    process_sla: str | None


class VersionDiff(TypedDict):
    a: VersionSummary
    b: VersionSummary
    process: dict[str, Any]
    steps: dict[str, Any]
    flows: dict[str, Any]
    # Each top-level key of standard.json that differs: {key, component, name, a, b}.
    standard: list[dict[str, Any]]
    lineage: dict[str, Any] | None
    identical: bool


# --- issued documents (issue #14 item 3) --------------------------------------------------


class SigningKeyView(TypedDict):
    key_id: str
    region: str
    algorithm: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None


class DocumentSummary(TypedDict):
    number: str
    type: str
    title: dict[str, str]
    issued_at: datetime
    status: str


class DocumentVerification(TypedDict):
    number: str
    genuine: bool
    status: str
    type: str
    title: dict[str, str]
    holder_name: str
    issued_on: date
    valid_until: date | None
    region: dict[str, str]
    revoked_at: datetime | None
    revoked_reason: str | None
    key_id: str
    key_retired: bool
    sha256: str
    verify_url: str


class UploadVerification(TypedDict):
    genuine: bool
    sha256: str
    reason: str
    document: DocumentVerification | None
