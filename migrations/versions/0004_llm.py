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
    pass


def downgrade():
    pass
