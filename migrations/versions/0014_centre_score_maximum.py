"""The centre's default maximum score for the activities its trainers place

Revision ID: 0014_centre_score_maximum
Revises: 0013_centre_timezone
Create Date: 2026-12-08 00:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_centre_score_maximum'
down_revision = '0013_centre_timezone'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('centre_settings') as batch:
        batch.add_column(sa.Column('default_score_maximum', sa.Double(), nullable=True))


def downgrade():
    with op.batch_alter_table('centre_settings') as batch:
        batch.drop_column('default_score_maximum')
