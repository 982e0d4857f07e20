"""The commit watchdog (engine/persistence/commit_guard.py) without a database: it cancels a
commit that runs past its deadline, and only such a commit.

The behaviour it exists for (a lost synchronous standby) is tested against a real primary and
standby in tests/ops/test_failover.py."""

from __future__ import annotations

import threading

from engine.persistence.commit_guard import _Watchdog


class Connection:
    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()


def test_a_commit_past_its_deadline_is_cancelled_and_one_done_in_time_is_not() -> None:
    watchdog = _Watchdog()
    quick, stuck = Connection(), Connection()
    watchdog.done(watchdog.watch(quick, 0.05))
    token = watchdog.watch(stuck, 0.05)
    assert stuck.cancelled.wait(30), "the stuck commit was never cancelled"
    watchdog.done(token)
    assert not quick.cancelled.is_set()


def test_a_shorter_deadline_added_while_the_watchdog_sleeps_is_still_kept() -> None:
    watchdog = _Watchdog()
    patient, hurried = Connection(), Connection()
    first = watchdog.watch(patient, 3600)  # the thread now sleeps for an hour
    second = watchdog.watch(hurried, 0.05)
    assert hurried.cancelled.wait(30), "woken too late for the shorter deadline"
    assert not patient.cancelled.is_set()
    watchdog.done(first)
    watchdog.done(second)


def test_a_connection_whose_cancel_fails_does_not_stop_the_watchdog() -> None:
    class Gone(Connection):
        def cancel(self) -> None:
            raise OSError("server gone")

    watchdog = _Watchdog()
    watchdog.watch(Gone(), 0.01)
    later = Connection()
    watchdog.watch(later, 0.05)
    assert later.cancelled.wait(30)
