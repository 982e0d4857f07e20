"""Billing codes, payment channels and the reconciliation at the service layer (both DBs)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.services import applications, billing, payments, reconciliation
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.service.test_concurrency import race

FEE = 125_000
SECRET = "a-shared-secret-of-at-least-32-characters!"


@pytest.fixture
def region(ctx: EngineContext) -> str:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="fee", steps=1, fee=str(FEE)))
    billing.add_channel(ctx, SYSTEM, "3273", "bjb-va", "virtual_account", SECRET)
    return "3273"


def notify(ctx: EngineContext, body: dict, *, secret: str = SECRET, skew: int = 0) -> dict:
    raw = json.dumps(body).encode()
    stamp = str(int(ctx.clock().timestamp()) + skew)
    return billing.receive_notification(ctx, "bjb-va", raw, stamp,
                                        billing.signature(secret, stamp, raw))


def test_billing_codes_are_sequential_per_region_and_year_without_gaps_under_races(
    ctx: EngineContext, region: str
) -> None:
    officer, _ = make_user(ctx, "front-office")
    outcomes = race(lambda i: applications.start_application(
        ctx, officer, region, "fee", {"name": f"A{i}"}, {}), threads=12)
    assert all(o.error is None for o in outcomes), [o.trace for o in outcomes if o.error][:1]
    codes = sorted(
        payments.fee_items(ctx, SYSTEM, o.value.id)[0]["billing_code"] for o in outcomes
    )
    year = ctx.clock().year
    assert codes == [f"3273{year}{n:07d}" for n in range(1, 13)]


def test_a_notification_settles_exactly_once_as_the_counter_would(
    ctx: EngineContext, region: str
) -> None:
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, region, "fee", {"name": "Siti"}, {})
    (item,) = payments.fee_items(ctx, SYSTEM, app.id)
    body = {"billing_code": item["billing_code"], "amount": FEE, "reference": "VA-0001"}
    first = notify(ctx, body)
    assert first["status"] == "accepted"
    assert notify(ctx, body) == {**first, "status": "duplicate"}
    (paid,) = payments.fee_items(ctx, SYSTEM, app.id)
    assert paid["status"] == "paid" and paid["payment"]["reference"] == "bjb-va:VA-0001"
    # the counter cannot take the same item again
    cashier, _ = make_user(ctx, "cashier")
    with pytest.raises(errors.ConflictError):
        payments.record_payment(ctx, cashier, app.id, item["fee_item"], FEE, "BJB-0009")


@pytest.mark.parametrize(("change", "skew", "secret", "error"), [
    ({"amount": FEE - 1}, 0, SECRET, errors.InvalidInputError),
    ({"billing_code": "32730000"}, 0, SECRET, errors.NotFoundError),
    ({}, 0, SECRET + "?", errors.AuthenticationError),
    ({}, -301, SECRET, errors.AuthenticationError),
    ({"amount": float(FEE)}, 0, SECRET, errors.InvalidInputError),
])
def test_bad_notifications_are_refused_and_kept_for_the_reconciliation(
    ctx: EngineContext, region: str, change: dict, skew: int, secret: str, error: type
) -> None:
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, region, "fee", {"name": "Siti"}, {})
    (item,) = payments.fee_items(ctx, SYSTEM, app.id)
    body = {"billing_code": item["billing_code"], "amount": FEE, "reference": "VA-0002", **change}
    with pytest.raises(error):
        notify(ctx, body, secret=secret, skew=skew)
    assert payments.fee_items(ctx, SYSTEM, app.id)[0]["status"] == "open"
    today = ctx.clock().astimezone(ZoneInfo("Asia/Jakarta")).date()
    report = reconciliation.daily_reconciliation(ctx, SYSTEM, region, today)
    assert report["totals"]["refused"] == 1 and report["totals"]["unpaid"] == FEE
    assert report["unpaid"][0]["billing_code"] == item["billing_code"]


def test_only_admins_configure_channels_and_secrets_are_long(ctx: EngineContext, region: str) -> None:
    supervisor, _ = make_user(ctx, "supervisor")
    with pytest.raises(errors.PermissionDeniedError):
        billing.add_channel(ctx, supervisor, region, "qris-1", "qris")
    with pytest.raises(errors.InvalidInputError):
        billing.add_channel(ctx, SYSTEM, region, "qris-1", "qris", "short")
    made = billing.add_channel(ctx, SYSTEM, region, "qris-1", "qris")
    assert len(made["secret"]) >= 32
    assert {c["name"] for c in billing.list_channels(ctx, supervisor, region)} == {"bjb-va", "qris-1"}
