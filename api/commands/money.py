"""CLI: payment channels and the daily reconciliation (`permitflow channels`, `reconciliation`)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from engine.domain.actors import SYSTEM


def register(main: click.Group, group_cls: type[click.Group]) -> None:
    """Add the money commands to the `permitflow` group."""

    @main.group("channels", cls=group_cls)
    def channels_group() -> None:
        """Bank virtual-account and QRIS payment channels of a region."""

    @channels_group.command("add")
    @click.argument("region")
    @click.argument("name")
    @click.option("--kind", type=click.Choice(["virtual_account", "qris"]), required=True)
    @click.option("--secret-file", type=click.File("r"), default=None,
                  help="the shared secret agreed with the bank (else one is generated)")
    def channels_add(region: str, name: str, kind: str, secret_file: Any) -> None:
        """Add a channel; prints the shared secret alone on the last line, once."""
        from api.commands.cli import engine_context
        from engine.services import billing

        secret = secret_file.read().strip() if secret_file is not None else None
        made = billing.add_channel(engine_context(), SYSTEM, region, name, kind, secret)
        click.echo(f"channel {made['name']} ({made['kind']}) of region {made['region']}, "
                   f"fingerprint {made['fingerprint']}; the bank signs with this secret:")
        click.echo(made["secret"])

    @channels_group.command("list")
    @click.argument("region")
    def channels_list(region: str) -> None:
        """A region's channels with their secrets' fingerprints."""
        from api.commands.cli import engine_context
        from engine.services import billing

        for c in billing.list_channels(engine_context(), SYSTEM, region):
            click.echo(f"{c['name']}\t{c['kind']}\t{c['fingerprint']}\t"
                       f"{'active' if c['active'] else 'inactive'}")

    @main.command("reconciliation")
    @click.option("--region", required=True)
    @click.option("--date", "day", required=True, help="YYYY-MM-DD, the region's calendar day")
    @click.option("--json", "as_json", is_flag=True, help="the whole report as JSON")
    def reconciliation_cmd(region: str, day: str, as_json: bool) -> None:
        """One day's billed, paid, unpaid and refused notifications of a region."""
        from api.commands.cli import engine_context
        from engine.services.reconciliation import daily_reconciliation

        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise click.BadParameter("give the day as YYYY-MM-DD") from None
        report = daily_reconciliation(engine_context(), SYSTEM, region, when)
        if as_json:
            click.echo(json.dumps(report, default=str, indent=2))
            return
        totals = report["totals"]
        click.echo(f"region {region}, {report['date']} ({report['timezone']})")
        click.echo(f"billed   {len(report['billed']):5d}  Rp {totals['billed']:,}")
        click.echo(f"paid     {len(report['paid']):5d}  Rp {totals['paid']:,}")
        click.echo(f"unpaid   {len(report['unpaid']):5d}  Rp {totals['unpaid']:,}")
        click.echo(f"refused  {totals['refused']:5d}  notifications")
        click.echo(f"repeated {totals['duplicates']:5d}  notifications")
        for note in report["notifications"]:
            if note["outcome"] == "refused":
                click.echo(f"  refused {note['channel']} {note['billing_code']}: {note['reason']}")
