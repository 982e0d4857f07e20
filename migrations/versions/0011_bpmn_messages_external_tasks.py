"""External tasks: service tasks waiting for external workers (issue #10).

Revision ID: 0011_bpmn_messages
Revises: 0010_bpmn_messages
"""

import sqlalchemy as sa
from alembic import op

import engine.persistence.tables

revision = "0011_bpmn_messages"
down_revision = "0010_bpmn_messages"
branch_labels = None
depends_on = None

_TIME = engine.persistence.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "external_tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("lock_expires_at", _TIME, nullable=True),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("retry_at", _TIME, nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("external_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_tasks_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            "ix_external_tasks_open",
            ["region_code", "topic", "created_at"],
            unique=False,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("external_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_external_tasks_open")
        batch_op.drop_index(batch_op.f("ix_external_tasks_application_id"))
    op.drop_table("external_tasks")
