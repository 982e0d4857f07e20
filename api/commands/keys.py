"""CLI: the regions' document-signing keys and revocation (`permitflow keys`, `documents`)."""

from __future__ import annotations

import click

from engine.domain.actors import SYSTEM


def register(main: click.Group, group_cls: type[click.Group]) -> None:
    """Add the signing-key and document commands to the `permitflow` group."""

    @main.group("keys", cls=group_cls)
    def keys_group() -> None:
        """Regions' Ed25519 keys that sign issued documents (private halves in the key dir)."""

    @keys_group.command("rotate")
    @click.argument("region")
    def keys_rotate(region: str) -> None:
        """Make a new signing key for REGION and retire the old (it still verifies)."""
        from api.commands.cli import engine_context
        from engine.services import documents

        key = documents.rotate_key(engine_context(), SYSTEM, region)
        click.echo(f"{key['key_id']}\t{key['algorithm']}\t{key['public_key']}")

    @keys_group.command("list")
    @click.argument("region")
    def keys_list(region: str) -> None:
        """REGION's public keys, newest first, with when each was retired."""
        from api.commands.cli import engine_context
        from engine.services import documents

        for key in documents.region_keys(engine_context(), region):
            retired = key["retired_at"].isoformat() if key["retired_at"] else "active"
            click.echo(f"{key['key_id']}\t{key['algorithm']}\t{key['public_key']}\t{retired}")

    @main.group("documents", cls=group_cls)
    def documents_group() -> None:
        """Issued documents (permits, letters)."""

    @documents_group.command("verify")
    @click.argument("number")
    def documents_verify(number: str) -> None:
        """Whether document NUMBER is genuine, and its status."""
        from api.commands.cli import engine_context
        from engine.services import verification

        found = verification.verify_number(engine_context(), number)
        click.echo(f"{found['number']}\t{'genuine' if found['genuine'] else 'NOT GENUINE'}\t"
                   f"{found['status']}\t{found['holder_name']}")
