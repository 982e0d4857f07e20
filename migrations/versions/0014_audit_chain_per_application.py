"""The audit chain per application, the regions' audit roots, the admin inbox's index
(issue #16).

An application's events now form its own chain, whose head is kept on the application's
row (moved by the step's own UPDATE); a region's chains are tied together by the roots
the worker seals (`audit_roots`). Existing events are NOT rewritten: they stay in their
region's chain, under the old layout, and verify as before; an existing application's
chain starts empty (seq 0, the genesis hash) and grows from its next event on.

Revision ID: 0014_audit_per_application
Revises: 0013_notifications
"""

import sqlalchemy as sa
from alembic import op

import engine.persistence.tables

revision = "0014_audit_per_application"
down_revision = "0013_notifications"
branch_labels = None
depends_on = None

_TIME = engine.persistence.tables.UtcDateTime(timezone=True)
_GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audit_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "audit_hash", sa.String(length=64), server_default=_GENESIS, nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("audit_rooted_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_applications_audit_unrooted",
            ["region_code"],
            unique=False,
            postgresql_where=sa.text("audit_seq > audit_rooted_seq"),
            sqlite_where=sa.text("audit_seq > audit_rooted_seq"),
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "chain", existing_type=sa.String(length=16), type_=sa.String(length=40)
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_ready_due",
            ["due_at", "ready_at", "id"],
            unique=False,
            postgresql_where=sa.text("state = 'ready'"),
            sqlite_where=sa.text("state = 'ready'"),
        )
    op.create_table(
        "audit_roots",
        sa.Column("region_chain", sa.String(length=16), nullable=False),
        sa.Column("n", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("prev_root", sa.String(length=64), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("leaves", engine.persistence.tables.JsonType, nullable=False),
        sa.Column("sealed_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("region_chain", "n"),
    )


def downgrade() -> None:
    op.drop_table("audit_roots")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_ready_due")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column(
            "chain", existing_type=sa.String(length=40), type_=sa.String(length=16)
        )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_audit_unrooted")
        batch_op.drop_column("audit_rooted_seq")
        batch_op.drop_column("audit_hash")
        batch_op.drop_column("audit_seq")
