"""Message subscriptions (tasks waiting for a message) and delivered message ids (issue #10).

Revision ID: 0010_bpmn_messages
Revises: 0009_production
"""

import sqlalchemy as sa
from alembic import op

import engine.persistence.tables

revision = "0010_bpmn_messages"
down_revision = "0009_production"
branch_labels = None
depends_on = None

_TIME = engine.persistence.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "message_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_subscriptions_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            "ix_message_subscriptions_waiting",
            ["region_code", "name"],
            unique=False,
            postgresql_where=sa.text("status = 'waiting'"),
            sqlite_where=sa.text("status = 'waiting'"),
        )
    op.create_table(
        "message_deliveries",
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("started", sa.Boolean(), nullable=False),
        sa.Column("delivered_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("region_code", "message_id"),
    )


def downgrade() -> None:
    op.drop_table("message_deliveries")
    with op.batch_alter_table("message_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_message_subscriptions_waiting")
        batch_op.drop_index(batch_op.f("ix_message_subscriptions_application_id"))
    op.drop_table("message_subscriptions")
