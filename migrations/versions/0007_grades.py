"""Trainers' grades

Revision ID: 0007_grades
Revises: 0006_grading
Create Date: 2026-11-23 12:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_grades'
down_revision = '0006_grading'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('score_maximum', sa.Double(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('from_ai_draft', sa.Boolean(), nullable=False),
    sa.Column('graded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_grade_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_grade_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['lti_user.id'], name=op.f('fk_grade_user_pk_lti_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_grade_submission_id_submission'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['graded_by'], ['lti_user.id'], name=op.f('fk_grade_graded_by_lti_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade'))
    )
    op.create_index('ix_grade_activity_id_user_pk', 'grade', ['activity_id', 'user_pk', 'id'], unique=False)
    with op.batch_alter_table('grade', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_user_pk'), ['user_pk'], unique=False)


def downgrade():
    with op.batch_alter_table('grade', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_user_pk'))
        batch_op.drop_index(batch_op.f('ix_grade_platform_id'))
    op.drop_index('ix_grade_activity_id_user_pk', table_name='grade')
    op.drop_table('grade')
