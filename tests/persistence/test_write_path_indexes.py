"""The indexes every step writes into: only those a query of the code reads (issue #16)."""

from __future__ import annotations

from sqlalchemy import inspect

from engine.persistence.database import make_engine
from engine.persistence.schema import downgrade, upgrade

BEFORE_0022 = "0021_overdue_listing_index"


def _event_indexes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {i["name"] for i in inspect(conn).get_indexes("events") if i["name"]}
    finally:
        engine.dispose()


def test_events_keep_no_region_index_and_migration_0022_round_trips(db_url: str) -> None:
    # Read by: an application's events (ix_events_application), a chain's (chain, seq).
    assert "ix_events_region_code" not in _event_indexes(db_url)
    assert "ix_events_application" in _event_indexes(db_url)
    downgrade(db_url, BEFORE_0022)
    try:
        assert "ix_events_region_code" in _event_indexes(db_url)
    finally:
        upgrade(db_url)
    assert "ix_events_region_code" not in _event_indexes(db_url)
