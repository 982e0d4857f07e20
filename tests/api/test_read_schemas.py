"""Every document-shaped answer has a response schema with exactly its keys (issue #12).

A response schema drops what it does not declare and documents what it does: a key in the
read model but not in the schema would vanish from the wire, one in the schema but not in
the read model would be documented and never sent.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from marshmallow import Schema

from api import read_schemas as rs
from api import schemas as s
from engine.domain import read_models as rm
from engine.domain import views

ROOT = Path(__file__).resolve().parents[2]

PAIRS: list[tuple[type, type[Schema]]] = [
    (rm.ClosedDay, rs.ClosedDaySchema),
    (rm.OverrideDay, rs.OverrideDaySchema),
    (rm.CalendarView, rs.CalendarSchema),
    (rm.DueTime, rs.DueTimeSchema),
    (rm.FormulaRef, rs.FormulaRefSchema),
    (rm.ChannelView, rs.ChannelSchema),
    (rm.NewChannelView, rs.NewChannelSchema),
    (rm.CallbackAnswer, rs.CallbackAnswerSchema),
    (rm.BilledItem, rs.BilledItemSchema),
    (rm.PaidItem, rs.PaidItemSchema),
    (rm.ChannelNotification, rs.ChannelNotificationSchema),
    (rm.ReconciliationTotals, rs.ReconciliationTotalsSchema),
    (rm.Reconciliation, rs.ReconciliationSchema),
    (rm.EstimatedFee, rs.EstimatedFeeSchema),
    (rm.FeeEstimate, rs.FeeEstimateSchema),
    (rm.ProcedureStep, rs.ProcedureStepSchema),
    (rm.StandardTotals, rs.StandardTotalsSchema),
    (rm.ServiceStandard, rs.ServiceStandardSchema),
    (rm.StepFigures, rs.StepFiguresSchema),
    (rm.SlaReport, rs.SlaReportSchema),
    (rm.TrackedRegion, rs.TrackedRegionSchema),
    (rm.TrackedStep, rs.TrackedStepSchema),
    (rm.TrackedFee, rs.TrackedFeeSchema),
    (rm.Tracking, rs.TrackingSchema),
    (rm.VersionSummary, rs.VersionSummarySchema),
    (rm.VersionDiff, rs.VersionDiffSchema),
    (rm.PaymentView, s.PaymentViewSchema),
    (rm.FeeItemView, s.FeeItemSchema),
    (rm.TokenView, s.TokenSchema),
    (rm.IssuedTokenView, s.IssuedTokenSchema),
    (rm.UserView, s.UserSchema),
    (rm.CatalogRegion, s.CatalogRegionSchema),
    (rm.CatalogItem, s.CatalogItemSchema),
    (rm.CatalogPage, s.CatalogPageSchema),
    (rm.SigningKeyView, rs.SigningKeySchema),
    (rm.DocumentSummary, rs.DocumentSummarySchema),
    (rm.DocumentVerification, rs.DocumentVerificationSchema),
    (rm.UploadVerification, rs.UploadVerificationSchema),
]

# The dataclass views and their schemas.
VIEW_PAIRS: list[tuple[type, type[Schema]]] = [
    (views.TaskView, s.TaskDetailSchema),
    (views.ApplicationView, s.ApplicationProgressSchema),  # GET /applications/{id} omits ready_task_count
    (views.EventView, s.EventSchema),
    (views.ModelVersionView, s.ModelVersionSchema),
    (views.StepView, s.StepSchema),
    (views.RegionView, s.RegionSchema),
]


def wire_keys(schema: type[Schema]) -> set[str]:
    return {f.data_key or name for name, f in schema().fields.items()}


@pytest.mark.parametrize(("model", "schema"), PAIRS, ids=[m.__name__ for m, _ in PAIRS])
def test_a_read_model_and_its_response_schema_have_the_same_keys(
    model: type, schema: type[Schema]
) -> None:
    assert set(model.__annotations__) | _inherited(model) == wire_keys(schema)


@pytest.mark.parametrize(("view", "schema"), VIEW_PAIRS, ids=[v.__name__ for v, _ in VIEW_PAIRS])
def test_a_dataclass_view_and_its_schema_have_the_same_fields(
    view: type, schema: type[Schema]
) -> None:
    assert {f.name for f in dataclasses.fields(view)} == wire_keys(schema)


def test_every_endpoint_declares_its_response_schema() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "api").glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.response\(\s*2\d\d\s*\)", line)
    ]
    assert bare == []


def _inherited(model: type) -> set[str]:
    keys: set[str] = set()
    for base in getattr(model, "__orig_bases__", ()):
        keys |= set(getattr(base, "__annotations__", {}))
    return keys
