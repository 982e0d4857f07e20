"""Office hours per weekday: a region's weekdays whose hours differ (issue #15 item 6).

Revision ID: 0015_region_office_hours
Revises: 0014_audit_per_application
"""

import sqlalchemy as sa
from alembic import op

import engine.persistence.tables

revision = "0015_region_office_hours"
down_revision = "0014_audit_per_application"
branch_labels = None
depends_on = None

_JSON = engine.persistence.tables.JsonType


def upgrade() -> None:
    with op.batch_alter_table("regions") as batch:
        batch.add_column(sa.Column("day_hours", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("regions") as batch:
        batch.drop_column("day_hours")
