"""Who opened each activity (resource link), kept beyond launch sessions

Revision ID: 0015_link_opening
Revises: 0014_centre_score_maximum
Create Date: 2026-12-08 00:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015_link_opening'
down_revision = '0014_centre_score_maximum'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'link_opening',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resource_link_pk', sa.Integer(), nullable=False),
        sa.Column('user_pk', sa.Integer(), nullable=False),
        sa.Column('first_opened_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['resource_link_pk'], ['resource_link.id'],
                                name=op.f('fk_link_opening_resource_link_pk_resource_link'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_pk'], ['lti_user.id'], name=op.f('fk_link_opening_user_pk_lti_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_link_opening')),
        sa.UniqueConstraint('resource_link_pk', 'user_pk', name=op.f('uq_link_opening_resource_link_pk')),
    )
    with op.batch_alter_table('link_opening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_opening_user_pk'), ['user_pk'], unique=False)
    # What earlier launches left: the live launch sessions, and work on the activity (whoever
    # saved a draft, read a part, ticked the checklist or submitted opened it).
    op.execute("""
        INSERT INTO link_opening (resource_link_pk, user_pk, first_opened_at)
        SELECT link_pk, user_pk, MIN(at) FROM (
            SELECT resource_link_pk AS link_pk, user_pk, created_at AS at FROM launch_session
                WHERE resource_link_pk IS NOT NULL
            UNION ALL SELECT a.resource_link_pk, d.user_pk, d.updated_at FROM draft d JOIN activity a ON a.id = d.activity_id
            UNION ALL SELECT a.resource_link_pk, r.user_pk, r.read_at FROM section_read r JOIN activity a ON a.id = r.activity_id
            UNION ALL SELECT a.resource_link_pk, t.user_pk, t.updated_at FROM checklist_ticks t JOIN activity a ON a.id = t.activity_id
            UNION ALL SELECT a.resource_link_pk, s.user_pk, s.submitted_at FROM submission s JOIN activity a ON a.id = s.activity_id
        ) AS seen GROUP BY link_pk, user_pk
    """)


def downgrade():
    with op.batch_alter_table('link_opening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_opening_user_pk'))
    op.drop_table('link_opening')
