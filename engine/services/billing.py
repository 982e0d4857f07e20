"""Payment channels: bank virtual-account and QRIS notifications, signed, exact, once.

A channel belongs to one region and shares a secret with the bank. A notification is the raw
JSON body `{"billing_code", "amount", "reference"}` with two headers: the Unix time it was
sent and `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body). It is accepted only
inside the replay window, with a valid signature, for a known open billing code of the
channel's region and exactly the billed amount; it is then recorded as the counter records a
payment (`payments.settle`: receipt, audit). The same channel reference again answers the
first receipt and records nothing more. Every notification, accepted or not, is kept with
its outcome and reason (the daily reconciliation lists them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, RECORDS_PAYMENTS, SYSTEM_ACTOR_ID, Actor
from engine.domain.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from engine.domain.problems import Problem
from engine.domain.read_models import CallbackAnswer, ChannelView, NewChannelView
from engine.domain.statuses import FeeStatus
from engine.persistence.idempotency import unclaimed
from engine.persistence.tables import (
    ApplicationRecord,
    PaymentChannelRecord,
    PaymentNotificationRecord,
)
from engine.services.access import visible_region
from engine.services.audit import record_event
from engine.services.live_steps import carry_live, live_key_of
from engine.services.payments import settle
from engine.unit_of_work import UnitOfWork

CHANNEL_KINDS = ("virtual_account", "qris")
REPLAY_WINDOW_SECONDS = 300
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9._/-]{4,100}$")


class CallbackRefused(Exception):  # noqa: N818 - a business outcome, raised to leave the uow
    """Why a notification is refused, and which engine error answers the bank."""

    def __init__(self, reason: str, error: type[Exception], field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.error, self.field = reason, error, field


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value a channel sends: sha256=<hex HMAC of "ts." + body>."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def add_channel(
    ctx: EngineContext, actor: Actor, region: str, name: str, kind: str,
    secret: str | None = None,
) -> NewChannelView:
    """Configure a channel of `region` (admin); the answer holds the secret, this once.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError, AlreadyExistsError.
    """
    if not actor.has_any(ADMIN):
        raise PermissionDeniedError("configuring a payment channel needs the admin role")
    problems = []
    if not _CHANNEL_NAME.match(name or ""):
        problems.append(Problem("2-63 lower-case letters, digits or '-'", field="name"))
    if kind not in CHANNEL_KINDS:
        problems.append(Problem(f"must be one of {', '.join(CHANNEL_KINDS)}", field="kind"))
    if secret is not None and len(secret) < 32:
        problems.append(Problem("a shared secret has at least 32 characters", field="secret"))
    if problems:
        raise InvalidInputError("the payment channel is not valid", problems)
    secret = secret or secrets.token_urlsafe(32)
    now = ctx.clock()
    with ctx.uow() as uow:
        visible_region(uow, actor, region)
        if uow.repos.billing.channel(name) is not None:
            raise AlreadyExistsError(f"payment channel {name!r} exists")
        record = PaymentChannelRecord(
            name=name, region_code=region, kind=kind, secret=secret, active=True, created_at=now
        )
        uow.repos.billing.add(record)
        record_event(
            uow, actor=actor, action="payment_channel.added", subject=f"payment_channel:{name}",
            at=now, region_code=region,
            data={"kind": kind, "fingerprint": _fingerprint(secret)},
        )
        uow.commit()
        view = channel_view(record)
        return {**view, "secret": secret}


def list_channels(ctx: EngineContext, actor: Actor, region: str) -> list[ChannelView]:
    """A region's channels, each with its secret's fingerprint (never the secret).

    Raises: NotFoundError, PermissionDeniedError.
    """
    if not actor.has_any(ADMIN, "supervisor"):
        raise PermissionDeniedError("listing payment channels needs admin or supervisor")
    with ctx.reader() as uow:
        visible_region(uow, actor, region)
        return [channel_view(c) for c in uow.repos.billing.channels(region)]


def channel_view(record: PaymentChannelRecord) -> ChannelView:
    """A channel as the API shows it."""
    return {
        "name": record.name,
        "region": record.region_code,
        "kind": record.kind,
        "active": record.active,
        "fingerprint": _fingerprint(record.secret),
        "created_at": record.created_at,
    }


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def receive_notification(
    ctx: EngineContext,
    channel_name: str,
    body: bytes,
    timestamp: str | None,
    signed: str | None,
) -> CallbackAnswer:
    """Take one signed notification; the receipt of the payment it settles.

    Raises: AuthenticationError (unknown channel, stale time, bad signature),
    InvalidInputError (body, amount), NotFoundError (billing code), ConflictError (item
    not open). Each refusal is recorded before it is raised.
    """
    now = ctx.clock()
    digest = hashlib.sha256(body).hexdigest()
    note: dict[str, Any] = {"channel": channel_name[:64], "body_sha256": digest}
    settled: list[tuple[Hashable, ApplicationRecord]] = []  # (live key before, application)
    try:
        with ctx.uow() as uow:
            answer = _settle_notification(
                uow, channel_name, body, timestamp, signed, now, note, settled
            )
            uow.commit()
            for before, app in settled:  # a payment leaves the workflow as it was
                carry_live(ctx, before, app)
            return answer
    except CallbackRefused as refused:
        _record_refusal(ctx, note, refused, now)
        problems = [Problem(refused.reason, field=refused.field)] if refused.field else []
        raise refused.error(refused.reason, problems) from None


def _settle_notification(
    uow: UnitOfWork, channel_name: str, body: bytes, timestamp: str | None,
    signed: str | None, now: datetime, note: dict[str, Any],
    settled: list[tuple[Hashable, ApplicationRecord]],
) -> CallbackAnswer:
    channel = uow.repos.billing.channel(channel_name)
    if channel is None or not channel.active:
        raise CallbackRefused(f"unknown payment channel {channel_name!r}", AuthenticationError)
    note["region_code"] = channel.region_code
    _check_signature(channel, body, timestamp, signed, now)
    billing_code, amount, reference = _parse_body(body, note)
    earlier = uow.repos.billing.accepted_notification(channel.name, reference)
    if earlier is not None:
        _add_notification(uow, note, "duplicate", "already settled", now, earlier.receipt_no)
        return {"status": "duplicate", "receipt_no": earlier.receipt_no,
                "billing_code": earlier.billing_code, "amount": earlier.amount}
    item = uow.repos.billing.item_by_billing_code(billing_code, for_update=True)
    if item is None or item.region_code != channel.region_code:
        raise CallbackRefused(f"unknown billing code {billing_code!r}", NotFoundError,
                              "billing_code")
    if amount != item.amount:
        raise CallbackRefused(f"billing code {billing_code} is billed at exactly Rp "
                              f"{item.amount}; Rp {amount} refused", InvalidInputError, "amount")
    if item.status != FeeStatus.OPEN:
        raise CallbackRefused(f"billing code {billing_code} is {item.status}", ConflictError)
    app = uow.repos.steps.locked_application(item.application_id)  # its state is not read
    assert app is not None  # a fee item's application exists (foreign key)
    settled.append((live_key_of(app), app))
    actor = Actor(SYSTEM_ACTOR_ID, f"channel:{channel.name}", channel.region_code,
                  frozenset(), frozenset({RECORDS_PAYMENTS}))
    try:
        receipt = settle(uow, actor, app, item, amount, f"{channel.name}:{reference}",
                         channel.kind, now)
    except AlreadyExistsError as exc:  # the reference raced in from a concurrent delivery
        raise CallbackRefused(str(exc), ConflictError) from None
    _add_notification(uow, note, "accepted", None, now, receipt["receipt_no"])
    return {"status": "accepted", "receipt_no": receipt["receipt_no"],
            "billing_code": billing_code, "amount": amount}


def _check_signature(
    channel: PaymentChannelRecord, body: bytes, timestamp: str | None, signed: str | None,
    now: datetime,
) -> None:
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise CallbackRefused("the timestamp header is missing or not Unix seconds",
                              AuthenticationError)
    if abs(now.timestamp() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise CallbackRefused(f"the timestamp is outside the {REPLAY_WINDOW_SECONDS} s window",
                              AuthenticationError)
    expected = signature(channel.secret, timestamp, body)
    if not signed or not hmac.compare_digest(expected.encode(), signed.strip().encode()):
        raise CallbackRefused("the signature does not match the channel's secret",
                              AuthenticationError)


def _parse_body(body: bytes, note: dict[str, Any]) -> tuple[str, int, str]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise CallbackRefused("the body is not JSON", InvalidInputError, "body") from None
    if not isinstance(data, dict):
        raise CallbackRefused("the body must be a JSON object", InvalidInputError, "body")
    code, amount, reference = data.get("billing_code"), data.get("amount"), data.get("reference")
    if isinstance(code, str):
        note["billing_code"] = code[:64]
    if isinstance(reference, str):
        note["reference"] = reference[:128]
    if isinstance(amount, int) and not isinstance(amount, bool) and abs(amount) < 10**15:
        note["amount"] = amount
    if not isinstance(code, str) or not code.isdigit() or len(code) > 64:
        raise CallbackRefused("billing_code must be digits", InvalidInputError, "billing_code")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 10**15:
        raise CallbackRefused("amount must be a positive whole number of rupiah",
                              InvalidInputError, "amount")
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise CallbackRefused("reference must be 4-100 letters, digits, '.', '_', '/', '-'",
                              InvalidInputError, "reference")
    return code, amount, reference


def _add_notification(
    uow: UnitOfWork, note: dict[str, Any], outcome: str, reason: str | None, now: datetime,
    receipt_no: str | None = None,
) -> None:
    uow.repos.billing.add(PaymentNotificationRecord(
        **note, outcome=outcome, reason=reason, receipt_no=receipt_no, received_at=now
    ))


def _record_refusal(
    ctx: EngineContext, note: dict[str, Any], refused: CallbackRefused, now: datetime
) -> None:
    """The refusal is kept in its own transaction: the settling one was rolled back. It
    claims no Idempotency-Key: a refused notification changed nothing the key guards."""
    with unclaimed(), ctx.uow() as uow:
        _add_notification(uow, note, "refused", refused.reason, now)
        actor = Actor(SYSTEM_ACTOR_ID, f"channel:{note['channel']}", None, frozenset())
        record_event(
            uow, actor=actor, action="payment.refused",
            subject=f"payment_channel:{note['channel']}", at=now,
            region_code=note.get("region_code"), reason=refused.reason,
            data={k: v for k, v in note.items() if k != "region_code"},
        )
        uow.commit()
