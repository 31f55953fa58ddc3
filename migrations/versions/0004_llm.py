"""LLM configuration, AI log and quotas

Revision ID: 0004_llm
Revises: 0003_progress
Create Date: 2026-11-23 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_llm'
down_revision = '0003_progress'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('llm_config',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('base_url', sa.String(length=1024), nullable=True),
    sa.Column('server', sa.String(length=16), nullable=True),
    sa.Column('api_key_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('temperature', sa.Double(), nullable=True),
    sa.Column('max_tokens', sa.Integer(), nullable=True),
    sa.Column('timeout', sa.Double(), nullable=True),
    sa.Column('quota_learner_daily_calls', sa.Integer(), nullable=True),
    sa.Column('quota_learner_daily_tokens', sa.Integer(), nullable=True),
    sa.Column('quota_centre_monthly_calls', sa.Integer(), nullable=True),
    sa.Column('quota_centre_monthly_tokens', sa.Integer(), nullable=True),
    sa.Column('eu_confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('eu_confirmed_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_llm_config_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['eu_confirmed_by'], ['lti_user.id'], name=op.f('fk_llm_config_eu_confirmed_by_lti_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['lti_user.id'], name=op.f('fk_llm_config_updated_by_lti_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_config')),
    sa.UniqueConstraint('platform_id', name=op.f('uq_llm_config_platform_id'))
    )
    op.create_table('ai_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_pk', sa.Integer(), nullable=True),
    sa.Column('resource_link_pk', sa.Integer(), nullable=True),
    sa.Column('user_pk', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('exercise_id', sa.String(length=32), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('prompt', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('tokens_in', sa.Integer(), nullable=False),
    sa.Column('tokens_out', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_ai_call_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['context_pk'], ['context.id'], name=op.f('fk_ai_call_context_pk_context'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resource_link_pk'], ['resource_link.id'], name=op.f('fk_ai_call_resource_link_pk_resource_link'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_pk'], ['lti_user.id'], name=op.f('fk_ai_call_user_pk_lti_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_call'))
    )
    op.create_index('ix_ai_call_link_user', 'ai_call', ['resource_link_pk', 'user_pk'], unique=False)
    op.create_index('ix_ai_call_platform_created', 'ai_call', ['platform_id', 'created_at'], unique=False)
    op.create_index('ix_ai_call_user_created', 'ai_call', ['user_pk', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_ai_call_user_created', table_name='ai_call')
    op.drop_index('ix_ai_call_platform_created', table_name='ai_call')
    op.drop_index('ix_ai_call_link_user', table_name='ai_call')
    op.drop_table('ai_call')
    op.drop_table('llm_config')
