"""Drop `ix_events_region_code`: no query reads events by region (issue #16).

Every step inserts one to three audit events, and each insert writes an entry into every
index of `events`. The region index came with the initial schema (the column's
`index=True`); no query of the code filters or orders events by `region_code` (an
application's events are read through `ix_events_application`, a chain's through the
unique `(chain, seq)`, and since migration 0014 an application's events form their own
chain). Measured on PostgreSQL 15, 300k events, prepared INSERT interleaved A/B: 8 µs
less per event inserted, and one index fewer to keep on the largest table.

Revision ID: 0022_drop_events_region_index
Revises: 0021_overdue_listing_index
"""

from alembic import op

revision = "0022_drop_events_region_index"
down_revision = "0021_overdue_listing_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_region_code")


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_region_code", ["region_code"], unique=False)
