"""The notice about the AI assistant and its acknowledgements; how long the AI log keeps its texts

Revision ID: 0012_ai_notice_and_retention
Revises: 0011_no_prefix_indexes
Create Date: 2026-12-08 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_ai_notice_and_retention'
down_revision = '0011_no_prefix_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ai_notice_ack',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('context_pk', sa.Integer(), nullable=True),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('endpoint', sa.String(length=255), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['context_pk'], ['context.id'], name=op.f('fk_ai_notice_ack_context_pk_context'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_ai_notice_ack_platform_id_platform'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_pk'], ['lti_user.id'], name=op.f('fk_ai_notice_ack_user_pk_lti_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_notice_ack')),
    )
    with op.batch_alter_table('ai_notice_ack', schema=None) as batch_op:
        batch_op.create_index('ix_ai_notice_ack_user_context', ['user_pk', 'context_pk'], unique=False)
    with op.batch_alter_table('llm_config', schema=None) as batch_op:
        batch_op.add_column(sa.Column('log_retention_months', sa.Integer(), nullable=True))
    with op.batch_alter_table('ai_call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('texts_removed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('ai_call', schema=None) as batch_op:
        batch_op.drop_column('texts_removed_at')
    with op.batch_alter_table('llm_config', schema=None) as batch_op:
        batch_op.drop_column('log_retention_months')
    with op.batch_alter_table('ai_notice_ack', schema=None) as batch_op:
        batch_op.drop_index('ix_ai_notice_ack_user_context')
    op.drop_table('ai_notice_ack')
