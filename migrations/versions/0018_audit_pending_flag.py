"""The worker finds the applications whose audit chain grew by a flag (issue #16).

`audit_seq > audit_rooted_seq` was indexed (partial), but PostgreSQL cannot estimate a
comparison of two columns: it guessed a third of all applications, walked the primary key
for each region, and a worker pass grew with the backlog (bench: 1.4 s with 1,000 open
steps, 36 s with 1,000,000). A boolean it keeps statistics for, set with the chain's head
and cleared by the root that covers it, makes the partial index the obvious plan.

Revision ID: 0018_audit_pending
Revises: 0017_applicant_documents
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_audit_pending"
down_revision = "0017_applicant_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audit_pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE applications SET audit_pending = (audit_seq > audit_rooted_seq)")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_audit_unrooted")
        batch_op.create_index(
            "ix_applications_audit_pending",
            ["region_code"],
            unique=False,
            postgresql_where=sa.text("audit_pending"),
            sqlite_where=sa.text("audit_pending"),
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_audit_pending")
        batch_op.create_index(
            "ix_applications_audit_unrooted",
            ["region_code"],
            unique=False,
            postgresql_where=sa.text("audit_seq > audit_rooted_seq"),
            sqlite_where=sa.text("audit_seq > audit_rooted_seq"),
        )
        batch_op.drop_column("audit_pending")
