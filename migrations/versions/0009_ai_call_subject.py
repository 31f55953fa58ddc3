"""The learner an AI call is about (a trainer's feedback draft)

Revision ID: 0009_ai_call_subject
Revises: 0008_key_signs_from
Create Date: 2026-12-03 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_ai_call_subject'
down_revision = '0008_key_signs_from'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ai_call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_pk', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ai_call_subject_pk'), ['subject_pk'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ai_call_subject_pk_lti_user'), 'lti_user', ['subject_pk'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('ai_call', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ai_call_subject_pk_lti_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ai_call_subject_pk'))
        batch_op.drop_column('subject_pk')
