"""Running Alembic from code (the CLI's `db upgrade`, tests, `make serve`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and `database_url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to `revision`."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    """The newest migration this code ships (what `db upgrade` migrates to)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return ",".join(sorted(heads))


class SchemaState(StrEnum):
    """Where a database's schema revision stands against this code."""

    CURRENT = "current"  # at the newest migration
    BEHIND = "behind"  # an older one this code can upgrade
    UNKNOWN = "unknown"  # none, or one a newer permitflow made


def revision_state(revision: str | None) -> SchemaState:
    """Where a database's revision stands against this code: `current` (at the newest
    migration), `behind` (an older one this code can upgrade) or `unknown` (none, or one a
    newer permitflow made)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if not revision:
        return SchemaState.UNKNOWN
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    if revision in script.get_heads():
        return SchemaState.CURRENT
    try:
        found = script.get_revision(revision)
    except CommandError:  # alembic's ResolutionError is a CommandError
        return SchemaState.UNKNOWN
    return SchemaState.BEHIND if found is not None else SchemaState.UNKNOWN
