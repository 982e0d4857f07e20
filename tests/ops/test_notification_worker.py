"""The outbox across a killed worker (issue #15 item 4): `permitflow worker` runs as a
process, is SIGKILLed while a webhook receiver holds one delivery (the message is taken,
the worker's result is not yet committed), and a restarted worker delivers the rest.

Every notification is delivered and none is lost; exactly one id (the one in flight when
the worker died) reaches its receiver twice, which is the window the README documents; no
other id comes twice. Both databases (the `db_url` fixture's URL goes to the processes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.persistence.tables import OutboxRecord
from engine.services import applications, notification_admin
from tests.factories import make_region, tiny_bpmn, upload
from tests.support.receivers import Hook, smtp_server, webhook_receiver

SECRET = "a-webhook-secret-of-some-length"
APPS = 8
HOLD_AT = 5  # the fifth webhook request is held while the worker is killed


def rows(ctx: EngineContext) -> dict[str, OutboxRecord]:
    with ctx.uow() as uow:
        session = uow._session
        assert session is not None
        found = {str(r.id): r for r in session.scalars(select(OutboxRecord))}
        session.expunge_all()
        return found


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_only_the_id_in_flight(
    ctx: EngineContext, db_url: str
) -> None:
    make_region(ctx)
    upload(ctx, "3273", tiny_bpmn(steps=1))
    hook = Hook(SECRET, hold_at=HOLD_AT)
    with smtp_server() as (mailbox, port), webhook_receiver(hook) as url:
        notification_admin.add_channel(ctx, SYSTEM, "3273", {
            "name": "gateway", "kind": "webhook", "secret": SECRET, "settings": {"url": url}})
        notification_admin.add_channel(ctx, SYSTEM, "3273", {
            "name": "surel", "kind": "email",
            "settings": {"host": "127.0.0.1", "port": port, "tls": "none",
                         "sender": "dpmptsp@bandung.example",
                         "role_addresses": {"front-office": ["loket@bandung.example"]}}})
        for n in range(APPS):
            applications.start_application(ctx, SYSTEM, "3273", "tiny",
                                           {"name": f"Warga {n}", "email": f"w{n}@example.com"},
                                           {})
        queued = rows(ctx)
        assert len(queued) == 4 * APPS  # received and step ready, by e-mail and webhook

        env = {**os.environ, "PERMITFLOW_DATABASE_URL": db_url,
               "PERMITFLOW_NOTIFY_LEASE": "600", "PERMITFLOW_NOTIFY_TIMEOUT": "60",
               "PERMITFLOW_LOG_FORMAT": "text"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "api.commands.cli", "worker", "--interval", "0.2"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            assert hook.holding.wait(120), "the worker never reached the held delivery"
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
        finally:
            if worker.poll() is None:
                worker.kill()
        hook.release.set()  # the receiver has the message; the worker never heard back
        assert worker.stderr is not None
        log = worker.stderr.read().decode()
        worker.stderr.close()

        in_flight = [r["event_id"] for r in hook.received][HOLD_AT - 1]
        before = rows(ctx)
        assert before[in_flight].status == "pending"  # sent, but its result never committed
        assert before[in_flight].attempts == 1

        # A new worker after the dead one's lease ran out (its clock replayed 20 minutes on).
        later = (datetime.now(UTC) + timedelta(minutes=20)).isoformat()
        done = subprocess.run(
            [sys.executable, "-m", "api.commands.cli", "worker", "--once", "--now", later],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode == 0, done.stderr

    after = rows(ctx)
    assert {r.status for r in after.values()} == {"delivered"}
    received = hook.ids() + mailbox.ids()
    assert set(received) == set(queued)  # none lost
    twice = {i for i, n in received.items() if n > 1}
    assert twice == {in_flight} and received[in_flight] == 2  # only the id in flight
    assert after[in_flight].attempts == 2
    assert all(r["signed"] for r in hook.received)
    assert Counter(m["to"][0] for m in mailbox.messages)["loket@bandung.example"] == APPS
    # No personal data in the worker's log: no address, no name.
    assert "@example.com" not in log and "Warga" not in log
