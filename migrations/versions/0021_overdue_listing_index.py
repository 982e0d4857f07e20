"""Overdue application listings read their rows through indexes (issue #16).

The overdue ids are read as three index ranges (engine/persistence/sla_clauses.py
`overdue_application_ids`); open applications with a breach recorded had no index and were
found by reading every application. A partial index holds just those (few).

Revision ID: 0021_overdue_listing_index
Revises: 0020_state_json_lz4
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_overdue_listing_index"
down_revision = "0020_state_json_lz4"
branch_labels = None
depends_on = None

_OPEN_BREACHED = "status IN ('running', 'error') AND breached_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_applications_breached",
            ["id"],
            unique=False,
            postgresql_where=sa.text(_OPEN_BREACHED),
            sqlite_where=sa.text(_OPEN_BREACHED),
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_breached")
