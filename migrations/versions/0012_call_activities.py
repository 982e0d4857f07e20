"""Call activities: the versions an application's calls are bound to (issue #10).

Revision ID: 0012_call_activities
Revises: 0011_bpmn_messages
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012_call_activities"
down_revision = "0011_bpmn_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "called_versions",
                sa.JSON().with_variant(JSONB(), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("called_versions")
