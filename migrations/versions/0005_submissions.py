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
    pass


def downgrade():
    pass
