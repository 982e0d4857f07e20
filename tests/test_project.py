"""The project's own promises: layering, import locations, migrations in step with the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.persistence.database import make_engine
from engine.persistence.migrate import downgrade, upgrade
from engine.persistence.tables import Base

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", ["engine", "api", "forms"])
def test_generic_top_level_packages_import_from_this_repository(package: str) -> None:
    module = __import__(package)
    assert Path(module.__file__).resolve().is_relative_to(ROOT)


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_match_the_models_and_round_trip(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )
    assert diff == []
    downgrade(db_url, "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(db_url)
    with engine.connect() as conn:
        assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
    engine.dispose()
