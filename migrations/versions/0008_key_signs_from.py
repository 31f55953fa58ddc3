"""Tool keys published ahead of signing

Revision ID: 0008_key_signs_from
Revises: 0007_grades
Create Date: 2026-12-03 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_key_signs_from'
down_revision = '0007_grades'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tool_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signs_from', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('tool_key', schema=None) as batch_op:
        batch_op.drop_column('signs_from')
