"""`permitflow channels` and `permitflow reconciliation`."""

from __future__ import annotations

from tests.test_cli import ok, refused, run  # noqa: F401 - the fixture


def test_channels_add_prints_the_secret_once_and_reconciliation_reads_a_day(run) -> None:  # noqa: F811
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    lines = ok(run("channels", "add", "3273", "bjb-va", "--kind", "virtual_account"))
    secret = lines[-1]
    assert len(secret) >= 32 and secret not in ok(run("channels", "list", "3273"))[0]
    assert ok(run("channels", "list", "3273"))[0].startswith("bjb-va\tvirtual_account\t")
    refused(run("channels", "add", "3273", "bjb-va", "--kind", "qris"), "exists")
    report = ok(run("reconciliation", "--region", "3273", "--date", "2026-12-07"))
    assert report[0] == "region 3273, 2026-12-07 (Asia/Jakarta)"
    assert report[1].split() == ["billed", "0", "Rp", "0"]
    refused(run("reconciliation", "--region", "9999", "--date", "2026-12-07"), "not found")
