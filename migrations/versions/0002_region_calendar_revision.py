"""Regions carry a calendar revision, bumped by every override change.

The engine caches each region's working calendar per process under (code, revision),
so completing a step reads one integer instead of the region and all its overrides.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("regions") as batch:
        batch.add_column(
            sa.Column("calendar_revision", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("regions") as batch:
        batch.drop_column("calendar_revision")
