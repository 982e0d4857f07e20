"""CLI: the tamper-evident audit log (`permitflow audit verify`, `audit heads`)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from engine.domain.audit_chain import ChainBreak


def register(main: click.Group, group_cls: type[click.Group]) -> None:
    """Add the `audit` group to the `permitflow` group."""

    @main.group("audit", cls=group_cls)
    def audit_group() -> None:
        """The tamper-evident audit log."""


    @audit_group.command("verify")
    @click.option("--region", default=None)
    @click.option(
        "--published",
        type=click.File("r", encoding="utf-8"),
        default=None,
        help="JSON lines from `audit heads` kept outside the database: each must still match.",
    )
    def audit_verify(region: str | None, published: Any) -> None:
        """Walk the hash chains; report the first broken link of each (exit 1 if any)."""
        from api.commands.cli import engine_context
        from engine.services.audit import read_published, verify_audit

        heads = read_published(published.read()) if published is not None else []
        report_audit_breaks(verify_audit(engine_context(), region, heads))
        suffix = f", {len(heads)} published head(s) matched" if heads else ""
        click.echo(f"audit chains intact{suffix}")


    @audit_group.command("heads")
    @click.option(
        "--append-to",
        type=click.File("a", encoding="utf-8", lazy=True),  # opened when written
        default=None,
        help="also append the lines to this file (e.g. a daily job's record)",
    )
    def audit_heads(append_to: Any) -> None:
        """Print each chain's head as a JSON line, to publish outside the database.

        Kept elsewhere (a notice board, another region, an auditor), these lines let
        `audit verify --published FILE` detect a chain rewritten with its hashes recomputed.
        """
        from api.commands.cli import engine_context
        from engine.services.audit import published_heads

        for head in published_heads(engine_context()):
            line = json.dumps(
                {"chain": head.chain, "seq": head.seq, "hash": head.hash,
                 "published_at": head.published_at}
            )
            click.echo(line)
            if append_to is not None:
                append_to.write(line + "\n")


def report_audit_breaks(breaks: list[ChainBreak]) -> None:
    """Print each broken chain's first bad link and exit 1 when there is one."""
    for found in breaks:
        click.echo(
            f"chain {found.chain}: broken at event #{found.seq} (id {found.event_id}): "
            f"{found.reason}"
        )
    if breaks:
        sys.exit(1)
