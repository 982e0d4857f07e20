"""Complaints (pengaduan) and satisfaction surveys (SKM); a region's complaint SLA.

Revision ID: 0007_citizen
Revises: 0006_citizen
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.persistence.tables

revision = "0007_citizen"
down_revision = "0006_citizen"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = engine.persistence.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complaint_sla", sa.String(length=32), nullable=True))
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sla", sa.String(length=32), nullable=False),
        sa.Column("filed_at", _TIME, nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            "ix_complaints_region_status_due", ["region_code", "status", "due_at"], unique=False
        )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("answers", _JSON, nullable=False),
        sa.Column("given_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index("ix_surveys_region_key", ["region_code", "process_key"], unique=False)


def downgrade() -> None:
    op.drop_table("surveys")
    op.drop_table("complaints")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_column("complaint_sla")
