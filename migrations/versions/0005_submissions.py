"""AI policy, checklists, declarations and submissions

Revision ID: 0005_submissions
Revises: 0004_llm
Create Date: 2026-11-23 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_submissions'
down_revision = '0004_llm'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('centre_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('scale', sa.String(length=16), nullable=False),
    sa.Column('checklist_template', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_centre_settings_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['lti_user.id'], name=op.f('fk_centre_settings_updated_by_lti_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centre_settings')),
    sa.UniqueConstraint('platform_id', name=op.f('uq_centre_settings_platform_id'))
    )
    op.create_table('assignment_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('scale', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_assignment_policy_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['lti_user.id'], name=op.f('fk_assignment_policy_updated_by_lti_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_policy')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_assignment_policy_activity_id'))
    )
    op.create_table('checklist_ticks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('ticks', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_checklist_ticks_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['lti_user.id'], name=op.f('fk_checklist_ticks_user_pk_lti_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_ticks')),
    sa.UniqueConstraint('activity_id', 'user_pk', name=op.f('uq_checklist_ticks_activity_id'))
    )
    with op.batch_alter_table('checklist_ticks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_ticks_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checklist_ticks_user_pk'), ['user_pk'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('catalogue_item', sa.String(length=32), nullable=False),
    sa.Column('content_version', sa.String(length=16), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('declaration', sa.JSON(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('ai_log', sa.JSON(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('declared_rank', sa.Integer(), nullable=False),
    sa.Column('allowed_rank', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_submission_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_submission_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['lti_user.id'], name=op.f('fk_submission_user_pk_lti_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission')),
    sa.UniqueConstraint('activity_id', 'user_pk', 'version', name=op.f('uq_submission_activity_id'))
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_user_pk'), ['user_pk'], unique=False)


def downgrade():
    op.drop_table('submission')
    op.drop_table('checklist_ticks')
    op.drop_table('assignment_policy')
    op.drop_table('centre_settings')
