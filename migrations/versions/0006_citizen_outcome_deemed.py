"""Applications keep how they ended (the end event reached); deemed approval (fiktif positif).

Revision ID: 0006_citizen
Revises: 0005_harden_api
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.persistence.tables

revision = "0006_citizen"
down_revision = "0005_harden_api"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = engine.persistence.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", _JSON, nullable=True))
        batch_op.add_column(sa.Column("deemed_granted_at", _TIME, nullable=True))
        batch_op.add_column(
            sa.Column("deemed_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deemed_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("deemed_approval")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("deemed_approval")
        batch_op.drop_column("deemed_granted_at")
        batch_op.drop_column("outcome")
