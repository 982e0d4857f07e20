"""Listings stay flat with the backlog (issue #16).

Applications were listed newest first by sorting every application of the region (or, for
an admin, of every region): 175 ms for a region's first page, 400 ms for an admin's, at 1M
open tasks. Two indexes in listing order make a page read its own rows. Ready tasks with a
breach recorded get a small partial index, so an overdue inbox ("breach recorded or past
due") is two index ranges instead of a scan of every ready task (70 ms -> 0.1 ms).

Revision ID: 0019_listing_indexes
Revises: 0018_audit_pending
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_listing_indexes"
down_revision = "0018_audit_pending"
branch_labels = None
depends_on = None

_BREACHED = "state = 'ready' AND breached_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_applications_region_created", ["region_code", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_applications_created", ["created_at", "id"], unique=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_ready_breached",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text(_BREACHED),
            sqlite_where=sa.text(_BREACHED),
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_ready_breached")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_created")
        batch_op.drop_index("ix_applications_region_created")
