"""Applicants' documents: one row per upload, the bytes in the blob store (issue #14 item 4).

Revision ID: 0017_applicant_documents
Revises: 0016_issued_documents
"""

import sqlalchemy as sa
from alembic import op

import engine.persistence.tables

revision = "0017_applicant_documents"
down_revision = "0016_issued_documents"
branch_labels = None
depends_on = None

_TIME = engine.persistence.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "application_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("requirement", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("store", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=300), nullable=False),
        sa.Column("uploaded_at", _TIME, nullable=False),
        sa.Column("reviewed_by", sa.String(length=300), nullable=True),
        sa.Column("reviewed_at", _TIME, nullable=True),
        sa.Column("deleted_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("application_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_documents_application", ["application_id", "requirement"],
            unique=False,
        )
        batch_op.create_index("ix_application_documents_sha256", ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("application_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_application_documents_sha256")
        batch_op.drop_index("ix_application_documents_application")
    op.drop_table("application_documents")
