"""The JSON-shaped answers of the use cases that are read as documents, typed.

The records-as-entities views (`views.py`) are dataclasses. These answers are documents
(a calendar, a service standard, a report, a tracking page, a diff, a catalogue page, a
user with tokens): TypedDicts keep their JSON shape literal (keys such as `from`) and
their many readers (API, web console, CLI, tests) unchanged, while mypy checks every key.
`tests/api/test_read_schemas.py` checks that each API response schema has exactly these
keys, so an answer can neither lose a field on the wire nor show one undocumented.
"""

from __future__ import annotations

from engine.domain.read_models.calendars import (
    CalendarView,
    CalendarWarning,
    ClosedDay,
    DayHours,
    DueTime,
    OverrideDay,
)
from engine.domain.read_models.catalogue import (
    CatalogItem,
    CatalogPage,
    CatalogRegion,
)
from engine.domain.read_models.diffs import (
    VersionDiff,
    VersionSummary,
)
from engine.domain.read_models.documents import (
    DocumentSummary,
    DocumentVerification,
    SigningKeyView,
    UploadVerification,
)
from engine.domain.read_models.money import (
    FeeItemView,
    PaymentView,
)
from engine.domain.read_models.reports import (
    DeemedCount,
    SlaReport,
    StepFigures,
)
from engine.domain.read_models.standards import (
    BilledItem,
    CallbackAnswer,
    ChannelNotification,
    ChannelView,
    EstimatedFee,
    FeeEstimate,
    FormulaRef,
    NewChannelView,
    PaidItem,
    ProcedureStep,
    Reconciliation,
    ReconciliationTotals,
    ServiceStandard,
    StandardTotals,
)
from engine.domain.read_models.tracking import (
    TrackedFee,
    TrackedRegion,
    TrackedStep,
    Tracking,
)
from engine.domain.read_models.users import (
    IssuedTokenView,
    TokenView,
    UserView,
)

__all__ = [
    "BilledItem",
    "CalendarView",
    "CalendarWarning",
    "CallbackAnswer",
    "CatalogItem",
    "CatalogPage",
    "CatalogRegion",
    "ChannelNotification",
    "ChannelView",
    "ClosedDay",
    "DayHours",
    "DeemedCount",
    "DocumentSummary",
    "DocumentVerification",
    "DueTime",
    "EstimatedFee",
    "FeeEstimate",
    "FeeItemView",
    "FormulaRef",
    "IssuedTokenView",
    "NewChannelView",
    "OverrideDay",
    "PaidItem",
    "PaymentView",
    "ProcedureStep",
    "Reconciliation",
    "ReconciliationTotals",
    "ServiceStandard",
    "SigningKeyView",
    "SlaReport",
    "StandardTotals",
    "StepFigures",
    "TokenView",
    "TrackedFee",
    "TrackedRegion",
    "TrackedStep",
    "Tracking",
    "UploadVerification",
    "UserView",
    "VersionDiff",
    "VersionSummary",
]
