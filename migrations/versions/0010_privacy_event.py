"""The register of personal data exports and erasures

Revision ID: 0010_privacy_event
Revises: 0009_ai_call_subject
Create Date: 2026-12-04 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_privacy_event'
down_revision = '0009_ai_call_subject'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'privacy_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('actor_pk', sa.Integer(), nullable=True),
        sa.Column('subject_pk', sa.Integer(), nullable=True),
        sa.Column('subject_sub', sa.String(length=255), nullable=True),
        sa.Column('rows', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_pk'], ['lti_user.id'], name=op.f('fk_privacy_event_actor_pk_lti_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_privacy_event_platform_id_platform'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subject_pk'], ['lti_user.id'], name=op.f('fk_privacy_event_subject_pk_lti_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_event')),
    )
    with op.batch_alter_table('privacy_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_event_actor_pk'), ['actor_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_event_subject_pk'), ['subject_pk'], unique=False)
        batch_op.create_index('ix_privacy_event_platform_id_id', ['platform_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('privacy_event', schema=None) as batch_op:
        batch_op.drop_index('ix_privacy_event_platform_id_id')
        batch_op.drop_index(batch_op.f('ix_privacy_event_subject_pk'))
        batch_op.drop_index(batch_op.f('ix_privacy_event_actor_pk'))
    op.drop_table('privacy_event')
