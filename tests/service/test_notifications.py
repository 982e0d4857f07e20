"""Notifications (issue #15 item 4): the transactional outbox, routing per region, delivery
to a local SMTP server and a loopback webhook receiver, retries, back-off, dead letters,
re-queue, several workers; on both databases."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.errors import ConflictError, InvalidInputError
from engine.domain.notifications import DeliverySettings
from engine.persistence.tables import EventRecord, OutboxRecord
from engine.services import applications, complaints, notification_admin, tasks, transports
from engine.services.delivery import deliver_due
from engine.services.worker import run_pass
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload
from tests.support.receivers import Hook, smtp_server, webhook_receiver

WIB = timezone(timedelta(hours=7))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
SECRET = "s3cret-for-signing-0123456789"
APPLICANT = {"name": "Siti Rahmawati", "nik": "3273014507900003", "phone": "081234567890",
             "email": "siti@example.com"}


def email_channel(port: int, **more: Any) -> dict[str, Any]:
    return {
        "name": "Surel dinas", "kind": "email", "secret": "smtp-password-never-logged",
        "settings": {"host": "127.0.0.1", "port": port, "tls": "none",
                     "sender": "dpmptsp@bandung.example",
                     "role_addresses": {"front-office": ["loket@bandung.example"]}},
        **more,
    }


def webhook_channel(url: str, **more: Any) -> dict[str, Any]:
    return {"name": "Gateway WA", "kind": "webhook", "secret": SECRET,
            "settings": {"url": url}, **more}


def outbox_rows(ctx: EngineContext) -> list[OutboxRecord]:
    with ctx.uow() as uow:
        session = uow._session
        assert session is not None
        rows = list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.created_at)))
        session.expunge_all()
        return rows


@pytest.fixture
def clocked(ctx: EngineContext) -> EngineContext:
    ctx.clock = Clock(MONDAY_10)
    ctx.delivery = DeliverySettings(max_attempts=3, backoff=timedelta(seconds=60), timeout=5)
    make_region(ctx)
    make_region(ctx, "3510")
    return ctx


def start(ctx: EngineContext, key: str = "tiny", region: str = "3273",
          applicant: dict[str, Any] | None = None) -> Any:
    return applications.start_application(ctx, SYSTEM, region, key, applicant or APPLICANT, {})


def test_each_event_is_written_with_the_change_and_only_where_channels_are(clocked) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=2))
    upload(ctx, "3510", tiny_bpmn(steps=1))
    notification_admin.add_channel(ctx, SYSTEM, "3273", email_channel(2525))
    notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel("http://127.0.0.1:9/h"))
    start(ctx, region="3510")  # no channels there: no row
    assert outbox_rows(ctx) == []

    app = start(ctx)
    officer, _ = make_user(ctx, "front-office")
    for _ in range(2):
        task = next(t for t in app.tasks if t.state == "ready")
        app = tasks.complete_task(ctx, officer, task.id, {})
    rows = outbox_rows(ctx)
    by_event = Counter((r.event, r.channel_id) for r in rows)
    # e-mail (channel 1) to the applicant's address and the role's; the webhook (2) always.
    assert by_event == {
        ("application.received", 1): 1, ("application.received", 2): 1,
        ("step.ready", 1): 2, ("step.ready", 2): 2,
        ("decision", 1): 1, ("decision", 2): 1,
    }
    ready_mail = next(r for r in rows if r.event == "step.ready" and r.channel_id == 1)
    assert ready_mail.recipients == ["loket@bandung.example"]
    received = next(r for r in rows if r.event == "application.received" and r.channel_id == 1)
    assert received.recipients == ["siti@example.com"]
    assert all(r.status == "pending" and r.application_id == app.id for r in rows)


def test_a_change_that_fails_writes_no_notification(clocked) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=1, form="f"), forms={"f": b'{"type": "object", '
           b'"required": ["x"], "properties": {"x": {"type": "string"}}}'})
    notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel("http://127.0.0.1:9/h"))
    app = start(ctx)
    before = len(outbox_rows(ctx))
    officer, _ = make_user(ctx, "front-office")
    with pytest.raises(InvalidInputError):
        tasks.complete_task(ctx, officer, app.tasks[0].id, {})
    assert len(outbox_rows(ctx)) == before  # rolled back with the refused step


def test_applicant_events_fee_documents_and_complaint_reach_the_applicant(clocked) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn("fee", steps=1, fee="50000"))
    upload(ctx, "3273", tiny_bpmn("docs", steps=1, role="applicant"))
    notification_admin.add_channel(ctx, SYSTEM, "3273", email_channel(2525, events=[
        "payment.billed", "documents.requested", "complaint.answered"]))
    start(ctx, "fee")
    docs = start(ctx, "docs", applicant={"name": "Budi"})  # no address: no e-mail
    start(ctx, "docs")
    filed = complaints.file_complaint(ctx, docs.tracking_code, "Lama sekali", "budi@example.com")
    supervisor, _ = make_user(ctx, "supervisor")
    complaints.answer_complaint(ctx, supervisor, filed["number"], "Sudah kami proses")
    rows = outbox_rows(ctx)
    assert sorted((r.event, tuple(r.recipients)) for r in rows) == [
        ("complaint.answered", ("budi@example.com",)),
        ("documents.requested", ("siti@example.com",)),
        ("payment.billed", ("siti@example.com",)),
    ]
    billed = next(r for r in rows if r.event == "payment.billed")
    assert billed.payload["facts"]["amount"] == 50000


def test_delivery_by_smtp_and_signed_webhook_once_each(clocked) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=1))
    hook = Hook(SECRET)
    with smtp_server() as (mailbox, port), webhook_receiver(hook) as url:
        notification_admin.add_channel(ctx, SYSTEM, "3273", email_channel(port))
        notification_admin.add_channel(ctx, SYSTEM, "3273",
                                       webhook_channel(url, language="en"))
        app = start(ctx)
        report = deliver_due(ctx)
        assert (report.sent, report.failed, report.dead) == (4, 0, 0)
        assert deliver_due(ctx).sent == 0  # nothing twice
    rows = {str(r.id): r for r in outbox_rows(ctx)}
    assert all(r.status == "delivered" and r.delivered_at == MONDAY_10 for r in rows.values())
    mails = {m["event_id"]: m for m in mailbox.messages}
    assert set(mails) | set(hook.ids()) == set(rows)
    assert mailbox.ids() == Counter({i: 1 for i in mails})
    received = next(m for m in mailbox.messages if m["event"] == "application.received")
    assert received["message_id"] == f"<{received['event_id']}@permitflow>"
    assert received["to"] == ["siti@example.com"]
    assert received["subject"] == f"Permohonan diterima: Izin tiny ({app.tracking_code})"
    assert received["language"] == "id"
    ready = next(m for m in mailbox.messages if m["event"] == "step.ready")
    assert ready["to"] == ["loket@bandung.example"] and "Siti" not in ready["body"]
    assert all(r["signed"] for r in hook.received)
    document = next(r["document"] for r in hook.received if r["event"] == "application.received")
    assert document["audience"] == {"kind": "applicant",
                                    "contact": {"email": "siti@example.com",
                                                "phone": "081234567890"}}
    assert document["text"]["en"]["subject"] == (
        f"Application received: Izin tiny ({app.tracking_code})")
    assert document["facts"]["tracking_code"] == app.tracking_code


def test_a_failing_receiver_is_retried_with_back_off_then_dead_lettered_and_requeued(
    clocked,
) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=1))
    hook = Hook(SECRET, fail=3)
    with webhook_receiver(hook) as url:
        notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel(
            url, events=["application.received"]))
        start(ctx)
        (row,) = outbox_rows(ctx)
        t0 = MONDAY_10
        assert deliver_due(ctx, t0).failed == 1
        assert outbox_rows(ctx)[0].next_attempt_at == t0 + timedelta(seconds=60)
        assert deliver_due(ctx, t0 + timedelta(seconds=59)).failed == 0  # not due yet
        assert deliver_due(ctx, t0 + timedelta(seconds=60)).failed == 1
        again = outbox_rows(ctx)[0]
        assert (again.attempts, again.last_error) == (2, "webhook: HTTP 500")
        assert again.next_attempt_at == t0 + timedelta(seconds=60 + 120)  # doubled
        assert deliver_due(ctx, t0 + timedelta(seconds=180)).dead == 1
        dead = notification_admin.outbox(ctx, SYSTEM, "3273", "dead", 10, 0)
        assert [i["id"] for i in dead["items"]] == [row.id] and dead["total"] == 1
        assert deliver_due(ctx, t0 + timedelta(days=1)).sent == 0  # a dead letter stays
        view = notification_admin.requeue(ctx, SYSTEM, row.id)
        assert (view["status"], view["attempts"]) == ("pending", 0)
        with pytest.raises(ConflictError):
            notification_admin.requeue(ctx, SYSTEM, row.id)
        assert deliver_due(ctx).sent == 1
    assert hook.ids() == Counter({str(row.id): 1})
    assert [r["status"] for r in hook.received] == [500, 500, 500, 200]
    with ctx.uow() as uow:
        session = uow._session
        assert session is not None
        actions = session.scalars(select(EventRecord.action)).all()
    assert "notification.requeued" in actions


def test_two_workers_never_deliver_one_row_twice(clocked) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=1))
    hook = Hook(SECRET)
    with webhook_receiver(hook) as url:
        notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel(url))
        for _ in range(10):
            start(ctx)
        barrier = threading.Barrier(2)
        sent: list[int] = []

        def work(name: str) -> None:
            barrier.wait()
            sent.append(deliver_due(ctx, worker=name).sent)

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    ids = {str(r.id) for r in outbox_rows(ctx)}
    assert len(ids) == 20 and sum(sent) == 20
    assert hook.ids() == Counter({i: 1 for i in ids})


def test_a_lease_left_by_a_dead_worker_runs_out_and_the_row_is_delivered(clocked) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=1))
    hook = Hook(SECRET)
    with webhook_receiver(hook) as url:
        notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel(
            url, events=["application.received"]))
        start(ctx)
        with ctx.uow() as uow:  # a worker claims, then dies before sending
            assert uow.repos.notifications.claim_next(
                MONDAY_10, MONDAY_10 + ctx.delivery.lease, "dead-worker") is not None
            uow.commit()
        assert deliver_due(ctx, MONDAY_10).sent == 0  # leased: nobody else takes it
        assert deliver_due(ctx, MONDAY_10 + ctx.delivery.lease).sent == 1
    (row,) = outbox_rows(ctx)
    assert (row.status, row.attempts) == ("delivered", 2)  # the lost attempt counts


def test_channel_configuration_is_checked_audited_and_keeps_its_secret(clocked) -> None:
    ctx = clocked
    with pytest.raises(InvalidInputError) as refused:
        notification_admin.add_channel(ctx, SYSTEM, "3273", {
            "name": "x", "kind": "email",
            "settings": {"host": "", "port": 70000, "tls": "ssl", "sender": "nobody",
                         "password": "p", "role_addresses": {"front-office": ["a b@c"]}},
            "events": ["step.ready", "bogus"], "language": "fr"})
    fields = {p.field for p in refused.value.problems}
    assert fields == {"settings.host", "settings.port", "settings.tls", "settings.sender",
                      "settings.password", "settings.role_addresses.front-office",
                      "events", "language"}
    with pytest.raises(InvalidInputError) as unsigned:
        notification_admin.add_channel(ctx, SYSTEM, "3273", {
            "name": "w", "kind": "webhook", "settings": {"url": "ftp://x"}})
    assert {p.field for p in unsigned.value.problems} == {"settings.url", "secret"}

    added = notification_admin.add_channel(ctx, SYSTEM, "3273", email_channel(25))
    assert added["secret_set"] and "secret" not in added
    changed = notification_admin.change_channel(ctx, SYSTEM, added["id"], {
        **email_channel(587), "secret": None, "language": "en"})
    assert changed["settings"]["port"] == 587 and changed["secret_set"]
    notification_admin.remove_channel(ctx, SYSTEM, added["id"])
    (listed,) = notification_admin.list_channels(ctx, SYSTEM, "3273")
    assert listed["active"] is False
    with ctx.uow() as uow:
        session = uow._session
        assert session is not None
        events = session.scalars(select(EventRecord).where(
            EventRecord.action.like("notification_channel.%")).order_by(EventRecord.id)).all()
        texts = [str(e.data) for e in events]
        actions = [e.action for e in events]
        revision = uow.repos.regions.calendar_revision("3273")
        n_rows = session.scalar(select(func.count()).select_from(OutboxRecord))
    assert actions == ["notification_channel.added",
                                          "notification_channel.changed",
                                          "notification_channel.removed"]
    assert revision == 3  # every change re-keys the per-process channel cache
    assert not any("smtp-password" in t or "loket@" in t for t in texts)
    assert n_rows == 0


def test_a_removed_channel_takes_no_new_rows_and_its_pending_rows_become_dead_letters(
    clocked,
) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=1))
    added = notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel(
        "http://127.0.0.1:9/h", events=["application.received"]))
    start(ctx)  # warms this process's cache for the region's revision
    notification_admin.remove_channel(ctx, SYSTEM, added["id"])
    start(ctx)  # the new revision: no channel, no row
    assert len(outbox_rows(ctx)) == 1
    assert deliver_due(ctx).dead == 1
    assert outbox_rows(ctx)[0].last_error == "the channel was removed or disabled"


def test_the_worker_records_an_overdue_step_notifies_its_role_and_delivers_in_that_pass(
    clocked,
) -> None:
    ctx = clocked
    upload(ctx, "3273", tiny_bpmn(steps=1, sla="PT2H"))
    hook = Hook(SECRET)
    with webhook_receiver(hook) as url:
        notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel(
            url, events=["step.overdue"]))
        app = start(ctx)
        report = run_pass(ctx, MONDAY_10 + timedelta(hours=3))
    assert report.steps_breached == 1 and report.notifications.sent == 1
    (received,) = hook.received
    assert received["event"] == "step.overdue" and received["signed"]
    document = received["document"]
    assert document["audience"] == {"kind": "role", "role": "front-office"}
    assert document["application_id"] == str(app.id)
    assert document["text"]["id"]["subject"] == f"Melewati batas waktu: Langkah 1 ({app.id})"


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_starttls_and_login_with_the_channel_secret_which_is_never_logged(
    clocked, certificate, monkeypatch, caplog
) -> None:
    ctx = clocked
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    # The worker verifies the server's certificate; here it trusts the test's own.
    trusted = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(transports, "tls_context", lambda: trusted)
    upload(ctx, "3273", tiny_bpmn(steps=1))
    with smtp_server(tls=server_tls, login=("dinas", "pw-0f-the-smtp")) as (mailbox, port):
        channel = email_channel(port, events=["application.received"], secret="wrong-password")
        channel["settings"] = {**channel["settings"], "tls": "starttls", "username": "dinas"}
        added = notification_admin.add_channel(ctx, SYSTEM, "3273", channel)
        start(ctx)
        with caplog.at_level("INFO"):
            assert deliver_due(ctx).failed == 1
        assert outbox_rows(ctx)[0].last_error == "SMTP 535 (SMTPAuthenticationError)"
        notification_admin.change_channel(ctx, SYSTEM, added["id"],
                                          {**channel, "secret": "pw-0f-the-smtp"})
        with caplog.at_level("INFO"):
            assert deliver_due(ctx, MONDAY_10 + timedelta(minutes=1)).sent == 1
    (mail,) = mailbox.messages
    assert mail["to"] == ["siti@example.com"] and mail["event"] == "application.received"
    # Ours (the SMTP server's own log, mail.log, names the recipient: it is the receiver).
    logged = "\n".join(r.getMessage() for r in caplog.records
                        if r.name.startswith("permitflow"))
    assert "delivered" in logged and "SMTP 535" in logged
    assert "wrong-password" not in logged and "pw-0f-the-smtp" not in logged
    assert "siti@example.com" not in logged


def test_delivered_rows_are_purged_after_the_retention_and_dead_letters_stay(clocked) -> None:
    ctx = clocked
    ctx.delivery = DeliverySettings(max_attempts=1, retention=timedelta(days=30))
    upload(ctx, "3273", tiny_bpmn(steps=1))
    good, bad = Hook(SECRET), Hook(SECRET, fail=1)
    with webhook_receiver(good) as ok_url, webhook_receiver(bad) as bad_url:
        for url in (ok_url, bad_url):
            notification_admin.add_channel(ctx, SYSTEM, "3273", webhook_channel(
                url, events=["application.received"]))
        start(ctx)
        first = deliver_due(ctx)
        assert (first.sent, first.dead, first.purged) == (1, 1, 0)
        assert deliver_due(ctx, MONDAY_10 + timedelta(days=30)).purged == 0  # not older yet
        assert deliver_due(ctx, MONDAY_10 + timedelta(days=30, seconds=1)).purged == 1
    assert [r.status for r in outbox_rows(ctx)] == ["dead"]
