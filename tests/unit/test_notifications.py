"""Notifications as plain values: routing, contacts, back-off, signatures, texts."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from engine.domain.notification_texts import TEXTS, both, render, rupiah
from engine.domain.notifications import (
    Audience,
    ChannelKind,
    ChannelRoute,
    DeliverySettings,
    NotificationEvent,
    PendingNotification,
    complaint_contact,
    contact_of,
    next_delay,
    route,
    verify_webhook_signature,
    webhook_signature,
)

ALL = frozenset(str(e) for e in NotificationEvent)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id": "x"}'
    expected = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhook_signature("k" * 16, "1700000000", body) == "sha256=" + expected
    assert verify_webhook_signature("k" * 16, "1700000000", body, "sha256=" + expected)
    assert not verify_webhook_signature("k" * 16, "1700000001", body, "sha256=" + expected)
    assert not verify_webhook_signature("other-secret-16c", "1700000000", body,
                                        "sha256=" + expected)


def test_back_off_doubles_up_to_its_ceiling() -> None:
    settings = DeliverySettings(backoff=timedelta(seconds=60), max_backoff=timedelta(minutes=5))
    delays = [next_delay(n, settings).total_seconds() for n in range(1, 6)]
    assert delays == [60, 120, 240, 300, 300]


def test_routing_by_channel_kind_events_and_addresses() -> None:
    mail = ChannelRoute(1, ChannelKind.EMAIL, ALL, "id", {"front-office": ("loket@x.id",)})
    hook = ChannelRoute(2, ChannelKind.WEBHOOK, frozenset({"decision"}), "id", {})
    ready = PendingNotification("3273", NotificationEvent.STEP_READY, Audience.ROLE, None, {},
                                role="front-office")
    other = PendingNotification("3273", NotificationEvent.STEP_READY, Audience.ROLE, None, {},
                                role="technical-team")
    decided = PendingNotification("3273", NotificationEvent.DECISION, Audience.APPLICANT, None,
                                  {}, contact={"phone": "0812"})
    assert [(d.channel_id, d.recipients) for d in route(ready, (mail, hook))] == [
        (1, ("loket@x.id",))]
    assert route(other, (mail, hook)) == []  # no address for the role, no webhook event
    # No e-mail address given: the webhook (a WhatsApp gateway) still gets it.
    assert [(d.channel_id, d.recipients) for d in route(decided, (mail, hook))] == [(2, ())]


def test_contacts_from_the_applicant_and_a_complaint() -> None:
    assert contact_of({"name": "A", "email": " a@x.id ", "phone": ""}) == {"email": "a@x.id"}
    assert contact_of({"applicant": {"phone": "0812"}}) == {"phone": "0812"}
    assert contact_of(None) == {}
    assert complaint_contact("b@x.id") == {"email": "b@x.id"}
    assert complaint_contact(" 0812 ") == {"phone": "0812"}
    assert complaint_contact(None) == {}


def test_every_event_has_both_languages_and_renders_its_facts() -> None:
    assert set(TEXTS) == ALL and all(set(t) == {"id", "en"} for t in TEXTS.values())
    facts = {"tracking_code": "PF-1", "title": "PBG", "step": "Retribusi", "amount": 443700,
             "billing_code": "327320260000042"}
    subject, body = render("payment.billed", facts, "id")
    assert subject == "Tagihan retribusi Rp 443.700: PF-1"
    assert "Kode bayar: 327320260000042" in body
    assert render("payment.billed", facts, "en")[0] == "Fee billed, Rp 443.700: PF-1"
    assert render("decision", {**facts, "outcome": "rejected"}, "id")[0].endswith("ditolak")
    assert "UU 30/2014" in render("decision", {"outcome": "deemed_granted"}, "en")[1]
    overdue = render("step.overdue", {"application_id": "abc", "step": "Verifikasi"}, "id")
    assert overdue[0] == "Melewati batas waktu: Verifikasi (abc)"
    assert set(both("decision", facts)) == {"id", "en"}
    assert render("decision", facts, "fr") == render("decision", facts, "id")
    assert rupiah(1000000) == "Rp 1.000.000"
