"""CLI: `permitflow backup FILE` and `permitflow restore FILE` (issue #17 item 7).

The work is in `engine.persistence.backup` (SQLite's online backup API) and
`engine.persistence.pg_backup` (pg_dump / pg_restore); after a restore the audit chains
are verified on the restored database, as `permitflow audit verify` does.
"""

from __future__ import annotations

from pathlib import Path

import click


def register(main: click.Group, group_cls: type[click.Group]) -> None:
    """Add `backup` and `restore` to the `permitflow` group."""

    @main.command("backup")
    @click.argument("target", type=click.Path(path_type=Path))
    @click.option("--force", is_flag=True, help="replace the file if it exists")
    @click.option("--keep", type=click.IntRange(min=1), default=None,
                  help="with a directory: keep only the N newest dated backups in it")
    def backup_command(target: Path, force: bool, keep: int | None) -> None:
        """Write a consistent backup of PERMITFLOW_DATABASE_URL to TARGET, while it runs.

        TARGET is a file, or an existing directory: then the file is
        DIR/permitflow-YYYYMMDDTHHMMSSZ.backup (UTC). SQLite: a copy made with SQLite's
        online backup API. PostgreSQL: a `pg_dump --format=custom` archive (pg_dump must be
        on PATH; otherwise the command to run is printed).
        """
        from datetime import UTC, datetime

        from api.commands.cli import database_url
        from engine.persistence.backup import backup, dated_path, prune

        directory = target.is_dir()
        if keep is not None and not directory:
            raise click.BadParameter("--keep needs TARGET to be a directory", param_hint="--keep")
        file = dated_path(target, datetime.now(UTC)) if directory else target
        report = backup(database_url(), file, force=force)
        click.echo(
            f"backup of the {report.backend} database written to {report.path} "
            f"({report.size_bytes} bytes, schema revision {report.revision})"
        )
        for removed in prune(target, keep) if keep is not None else []:
            click.echo(f"removed the older backup {removed}")

    @main.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="replace a target database that holds tables")
    def restore_command(file: Path, force: bool) -> None:
        """Restore FILE (from `permitflow backup`) into PERMITFLOW_DATABASE_URL.

        Refused while the target is in use, when it holds tables (without --force), or when
        the backup's schema revision is newer than this code's. The audit chains are then
        verified on the restored database (exit 1 if one is broken).
        """
        from api.commands.audit import report_audit_breaks
        from api.commands.cli import database_url, engine_context
        from engine.persistence.backup import restore
        from engine.persistence.schema import SchemaState, head_revision
        from engine.services.audit import verify_audit

        report = restore(database_url(), file, force=force)
        replaced = " (its tables replaced)" if report.replaced else ""
        click.echo(
            f"restored {file} into the {report.backend} database{replaced}, "
            f"schema revision {report.revision}"
        )
        if report.state == SchemaState.BEHIND:
            click.echo(
                f"the backup's schema revision {report.revision} is older than this code's "
                f"{head_revision()}: run `permitflow db upgrade`, then `permitflow audit "
                "verify`, before starting the API and workers"
            )
            return
        report_audit_breaks(verify_audit(engine_context()))
        click.echo("audit chains intact")
