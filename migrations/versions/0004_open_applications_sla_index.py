"""The worker's list of applications past their process SLA includes those in error.

An engine error does not stop the process SLA clock (DESIGN §3 pauses it only while the
application waits on the applicant), so applications in error are marked breached too.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _index(predicate: str) -> None:
    op.drop_index("ix_applications_sla_due", table_name="applications")
    op.create_index(
        "ix_applications_sla_due",
        "applications",
        ["due_at"],
        postgresql_where=sa.text(predicate),
        sqlite_where=sa.text(predicate),
    )


def upgrade() -> None:
    _index("status IN ('running', 'error') AND breached_at IS NULL")


def downgrade() -> None:
    _index("status = 'running' AND breached_at IS NULL")
