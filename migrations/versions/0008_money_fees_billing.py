"""Fee formulas frozen on fee items, SKRD billing codes, payment channels and notifications.

Revision ID: 0008_money
Revises: 0007_citizen
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.persistence.tables

revision = "0008_money"
down_revision = "0007_citizen"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = engine.persistence.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("fee_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("formula", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("formula_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("formula_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("formula_inputs", _JSON, nullable=True))
        batch_op.add_column(sa.Column("billing_code", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_fee_items_billing_code", ["billing_code"])
    op.create_table(
        "number_sequences",
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "series", "year"),
    )
    op.create_table(
        "payment_channels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("payment_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_channels_region_code"), ["region_code"], unique=False
        )
    op.create_table(
        "payment_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("billing_code", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("receipt_no", sa.String(length=64), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_notifications_region_at", ["region_code", "received_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("payment_notifications")
    with op.batch_alter_table("payment_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_channels_region_code"))
    op.drop_table("payment_channels")
    op.drop_table("number_sequences")
    with op.batch_alter_table("fee_items", schema=None) as batch_op:
        batch_op.drop_constraint("uq_fee_items_billing_code", type_="unique")
        for column in ("billing_code", "formula_inputs", "formula_sha256", "formula_version",
                       "formula"):
            batch_op.drop_column(column)
