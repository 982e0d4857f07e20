"""Initial schema: regions and calendars, users, models and versions, applications, tasks, timers, fees, payments, the audit chain.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 10:03:27.158952
"""

from alembic import op
import sqlalchemy as sa
import engine.persistence.tables
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_chain_heads',
    sa.Column('chain', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain')
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=True),
    sa.Column('application_id', sa.Uuid(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('chain', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chain', 'seq')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_application', ['application_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_region_code'), ['region_code'], unique=False)

    op.create_table('receipt_counters',
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_no', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('region_code', 'year')
    )
    op.create_table('regions',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('working_days', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('opens', sa.String(length=5), nullable=False),
    sa.Column('closes', sa.String(length=5), nullable=False),
    sa.Column('created_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('calendar_overrides',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed_by', sa.Integer(), nullable=True),
    sa.Column('removed_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('calendar_overrides', schema=None) as batch_op:
        batch_op.create_index('ix_calendar_overrides_region_day', ['region_code', 'day'], unique=False)

    op.create_table('process_models',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('region_code', 'key')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=True),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_region_code'), ['region_code'], unique=False)

    op.create_table('model_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('process_sla', sa.String(length=32), nullable=True),
    sa.Column('bpmn', sa.LargeBinary(), nullable=False),
    sa.Column('bpmn_sha256', sa.String(length=64), nullable=False),
    sa.Column('forms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('standard', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('steps', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('timers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('lineage', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('source_region', sa.String(length=16), nullable=True),
    sa.Column('source_key', sa.String(length=64), nullable=True),
    sa.Column('source_version', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['process_models.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('model_id', 'version')
    )
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_versions_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_model_versions_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_model_versions_source', ['source_region', 'source_key'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tracking_code', sa.String(length=32), nullable=False),
    sa.Column('applicant', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('error', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_reason', sa.Text(), nullable=True),
    sa.Column('process_sla', sa.String(length=32), nullable=True),
    sa.Column('sla_backstop', sa.Boolean(), nullable=False),
    sa.Column('sla_budget_minutes', sa.Integer(), nullable=False),
    sa.Column('sla_used_minutes', sa.Integer(), nullable=False),
    sa.Column('sla_running_since', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('due_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('breached_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cycle_minutes', sa.Integer(), nullable=True),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], ),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tracking_code')
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_finished', ['region_code', 'process_key', 'completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_model_version_id'), ['model_version_id'], unique=False)
        batch_op.create_index('ix_applications_region_key', ['region_code', 'process_key', 'created_at'], unique=False)
        batch_op.create_index('ix_applications_region_status', ['region_code', 'status', 'created_at'], unique=False)
        batch_op.create_index('ix_applications_sla_due', ['due_at'], unique=False, postgresql_where=sa.text("status = 'running' AND breached_at IS NULL"), sqlite_where=sa.text("status = 'running' AND breached_at IS NULL"))

    op.create_table('tasks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('process_key', sa.String(length=64), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('claimed_by', sa.Integer(), nullable=True),
    sa.Column('claimed_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ready_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.Integer(), nullable=True),
    sa.Column('form', sa.String(length=200), nullable=True),
    sa.Column('sla', sa.String(length=32), nullable=True),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('clock_started_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('due_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('breached_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('work_minutes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_tasks_claimed', ['region_code', 'state', 'claimed_by'], unique=False)
        batch_op.create_index('ix_tasks_completed', ['region_code', 'completed_at'], unique=False)
        batch_op.create_index('ix_tasks_inbox', ['region_code', 'state', 'role', 'due_at', 'ready_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_region_due', ['region_code', 'state', 'due_at', 'ready_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_sla_due', ['due_at'], unique=False, postgresql_where=sa.text("state = 'ready' AND breached_at IS NULL"), sqlite_where=sa.text("state = 'ready' AND breached_at IS NULL"))

    op.create_table('timers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fired_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timers_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_timers_due', ['due_at'], unique=False, postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))

    op.create_table('fee_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('task_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('receipt_no', sa.String(length=64), nullable=True),
    sa.Column('cancelled_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('receipt_no'),
    sa.UniqueConstraint('task_id')
    )
    with op.batch_alter_table('fee_items', schema=None) as batch_op:
        batch_op.create_index('ix_fee_items_application', ['application_id', 'created_at'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('fee_item_id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('receipt_no', sa.String(length=64), nullable=False),
    sa.Column('paid_at', engine.persistence.tables.UtcDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.ForeignKeyConstraint(['fee_item_id'], ['fee_items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fee_item_id'),
    sa.UniqueConstraint('receipt_no'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_application_id'), ['application_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_application_id'))

    op.drop_table('payments')
    with op.batch_alter_table('fee_items', schema=None) as batch_op:
        batch_op.drop_index('ix_fee_items_application')

    op.drop_table('fee_items')
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_due', postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))
        batch_op.drop_index(batch_op.f('ix_timers_application_id'))

    op.drop_table('timers')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_sla_due', postgresql_where=sa.text("state = 'ready' AND breached_at IS NULL"), sqlite_where=sa.text("state = 'ready' AND breached_at IS NULL"))
        batch_op.drop_index('ix_tasks_region_due')
        batch_op.drop_index('ix_tasks_inbox')
        batch_op.drop_index('ix_tasks_completed')
        batch_op.drop_index('ix_tasks_claimed')
        batch_op.drop_index(batch_op.f('ix_tasks_application_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_sla_due', postgresql_where=sa.text("status = 'running' AND breached_at IS NULL"), sqlite_where=sa.text("status = 'running' AND breached_at IS NULL"))
        batch_op.drop_index('ix_applications_region_status')
        batch_op.drop_index('ix_applications_region_key')
        batch_op.drop_index(batch_op.f('ix_applications_model_version_id'))
        batch_op.drop_index('ix_applications_finished')

    op.drop_table('applications')
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_model_versions_source')
        batch_op.drop_index(batch_op.f('ix_model_versions_region_code'))
        batch_op.drop_index(batch_op.f('ix_model_versions_model_id'))

    op.drop_table('model_versions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_region_code'))

    op.drop_table('users')
    op.drop_table('process_models')
    with op.batch_alter_table('calendar_overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_calendar_overrides_region_day')

    op.drop_table('calendar_overrides')
    op.drop_table('regions')
    op.drop_table('receipt_counters')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_region_code'))
        batch_op.drop_index('ix_events_application')

    op.drop_table('events')
    op.drop_table('audit_chain_heads')

