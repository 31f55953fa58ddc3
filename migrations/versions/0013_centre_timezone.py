"""The centre's time zone

Revision ID: 0013_centre_timezone
Revises: 0012_ai_notice_and_retention
Create Date: 2026-12-08 00:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_centre_timezone'
down_revision = '0012_ai_notice_and_retention'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('platform', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('platform', schema=None) as batch_op:
        batch_op.drop_column('timezone')
