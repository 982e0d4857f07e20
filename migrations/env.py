"""Alembic environment: plain SQLAlchemy, our metadata, URL from the caller or the env."""

from __future__ import annotations

import os

from alembic import context

from engine.persistence.database import make_engine, normalize_url
from engine.persistence.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return normalize_url(
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("PERMITFLOW_DATABASE_URL", "sqlite:///var/permitflow.db")
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
