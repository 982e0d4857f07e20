"""Tokens in their own table (expiry, revocation); regions declare which roles hold powers.

Existing tokens move to `tokens` without an expiry (they were issued as never expiring);
an admin revokes them or issues new ones (`permitflow users token`, `users revoke`).

Revision ID: 0005_harden_api
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.persistence.tables

revision = "0005_harden_api"
down_revision = "0004"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TIME = engine.persistence.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokens_user_id"), ["user_id"], unique=False)
    op.execute(
        "INSERT INTO tokens (user_id, token_hash, created_at) "
        "SELECT id, token_hash, created_at FROM users"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_hash")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("powers", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_column("powers")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
    # One token per user comes back (the newest); revoked ones stay revoked by being dropped.
    op.execute(
        "UPDATE users SET token_hash = (SELECT t.token_hash FROM tokens t WHERE t.user_id = "
        "users.id AND t.revoked_at IS NULL ORDER BY t.id DESC LIMIT 1)"
    )
    op.execute("UPDATE users SET token_hash = 'revoked-' || id WHERE token_hash IS NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("token_hash", nullable=False)
        batch_op.create_unique_constraint("uq_users_token_hash", ["token_hash"])
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_user_id"))
    op.drop_table("tokens")
