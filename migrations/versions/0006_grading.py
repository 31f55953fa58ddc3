"""Grade passback: score outbox, link line items; the demo platform's placed items and gradebook

Revision ID: 0006_grading
Revises: 0005_submissions
Create Date: 2026-11-23 12:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_grading'
down_revision = '0005_submissions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('link_line_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_pk', sa.Integer(), nullable=False),
    sa.Column('lineitems_url', sa.String(length=1024), nullable=True),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('has_service', sa.Boolean(), nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('gone_url', sa.String(length=1024), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_link_line_item_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_link_pk'], ['resource_link.id'], name=op.f('fk_link_line_item_resource_link_pk_resource_link'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_line_item')),
    sa.UniqueConstraint('resource_link_pk', name=op.f('uq_link_line_item_resource_link_pk'))
    )
    with op.batch_alter_table('link_line_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_line_item_platform_id'), ['platform_id'], unique=False)

    op.create_table('score_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_pk', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('platform_user_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('conflicts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('score_timestamp', sa.DateTime(), nullable=True),
    sa.Column('lineitem_url', sa.String(length=1024), nullable=True),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_score_outbox_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_link_pk'], ['resource_link.id'], name=op.f('fk_score_outbox_resource_link_pk_resource_link'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['lti_user.id'], name=op.f('fk_score_outbox_user_pk_lti_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_outbox'))
    )
    with op.batch_alter_table('score_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_outbox_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_outbox_user_pk'), ['user_pk'], unique=False)
        batch_op.create_index('ix_score_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_score_outbox_resource_link_pk_user_pk', ['resource_link_pk', 'user_pk', 'id'], unique=False)

    op.create_table('demo_placed_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.String(length=255), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('catalogue_id', sa.String(length=64), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_placed_item')),
    sa.UniqueConstraint('link_id', name=op.f('uq_demo_placed_item_link_id'))
    )
    op.create_table('demo_line_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('score_maximum', sa.Float(), nullable=False),
    sa.Column('resource_id', sa.String(length=255), nullable=True),
    sa.Column('resource_link_id', sa.String(length=255), nullable=True),
    sa.Column('tag', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_line_item'))
    )
    with op.batch_alter_table('demo_line_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demo_line_item_context_id'), ['context_id'], unique=False)

    op.create_table('demo_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('result', sa.Float(), nullable=True),
    sa.Column('score_given', sa.Float(), nullable=True),
    sa.Column('score_maximum', sa.Float(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('activity_progress', sa.String(length=32), nullable=False),
    sa.Column('grading_progress', sa.String(length=32), nullable=False),
    sa.Column('timestamp', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['line_item_id'], ['demo_line_item.id'], name=op.f('fk_demo_score_line_item_id_demo_line_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_score')),
    sa.UniqueConstraint('line_item_id', 'user_id', name=op.f('uq_demo_score_line_item_id'))
    )
    with op.batch_alter_table('demo_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demo_score_line_item_id'), ['line_item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('demo_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demo_score_line_item_id'))
    op.drop_table('demo_score')
    with op.batch_alter_table('demo_line_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demo_line_item_context_id'))
    op.drop_table('demo_line_item')
    op.drop_table('demo_placed_item')
    with op.batch_alter_table('score_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_score_outbox_resource_link_pk_user_pk')
        batch_op.drop_index('ix_score_outbox_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_score_outbox_user_pk'))
        batch_op.drop_index(batch_op.f('ix_score_outbox_platform_id'))
    op.drop_table('score_outbox')
    with op.batch_alter_table('link_line_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_line_item_platform_id'))
    op.drop_table('link_line_item')
