"""Drop the single-column indexes whose column leads a unique index of the same table

A launch finds its user by (platform_id, sub), its course by (platform_id, context_id) and its
link by (platform_id, resource_link_id), all unique. With an index on platform_id alone beside
them, PostgreSQL's generic plan for the launch (planned while the tables were small) used it
and filtered every user, course and link of the platform on each launch. The unique indexes
serve every lookup (and every ON DELETE CASCADE) by their leading column as well.

Revision ID: 0011_no_prefix_indexes
Revises: 0010_privacy_event
Create Date: 2026-12-06 13:40:00

"""
from alembic import op


revision = '0011_no_prefix_indexes'
down_revision = '0010_privacy_event'
branch_labels = None
depends_on = None

# (table, column) of each index dropped: named ix_<table>_<column>, covered by the unique index
# whose first column it is.
COVERED = (
    ('deployment', 'platform_id'),
    ('lti_user', 'platform_id'),
    ('context', 'platform_id'),
    ('resource_link', 'platform_id'),
    ('draft', 'activity_id'),
    ('section_read', 'activity_id'),
    ('checklist_ticks', 'activity_id'),
    ('submission', 'activity_id'),
    ('demo_score', 'line_item_id'),
)


def upgrade():
    for table, column in COVERED:
        op.drop_index(f'ix_{table}_{column}', table_name=table)


def downgrade():
    for table, column in COVERED:
        op.create_index(f'ix_{table}_{column}', table, [column], unique=False)
