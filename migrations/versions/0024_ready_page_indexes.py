"""A step's ready page reads through indexes (issue #16).

A step's answer lists an application's first 50 ready tasks in order, their count, and
whether any is an applicant's or overdue (engine/persistence/step_queries.py
`ready_page`). Through `ix_tasks_application_id` the database read and sorted every
ready row of the application for it: completing one of 300 parallel instances cost more
the more of its siblings were open. Two partial indexes over ready rows only: the page in
its order (read up to its LIMIT), and the breach and due times with the role (the overdue
probes are index ranges; the count and the applicant probe read index entries only).
Measured (SQLite, one ready row inserted and one completed per commit, 3,000 rotations):
+12 us a step for both indexes (three narrower ones cost +26 us).

Revision ID: 0024_ready_page_indexes
Revises: 0023_state_text
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_ready_page_indexes"
down_revision = "0023_state_text"
branch_labels = None
depends_on = None

# The flags' index has a WHERE of its own (`role` is never NULL; its queries say so): the
# page's query cannot use it. With both under `state = 'ready'` alone, PostgreSQL without
# statistics (or estimating a few ready rows an application) read the page through it and
# sorted every ready row.
_INDEXES = {
    "ix_tasks_ready_page": (["application_id", "ready_at", "element_id", "id"],
                            "state = 'ready'"),
    "ix_tasks_ready_flags": (["application_id", "breached_at", "due_at", "role"],
                             "state = 'ready' AND role IS NOT NULL"),
}


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        for name, (columns, where) in _INDEXES.items():
            batch_op.create_index(
                name,
                columns,
                unique=False,
                postgresql_where=sa.text(where),
                sqlite_where=sa.text(where),
            )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        for name in _INDEXES:
            batch_op.drop_index(name)
