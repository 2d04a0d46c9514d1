"""deliveries: the on-the-wire mark and the count of possible duplicates; notifications
withdrawn with their cause

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt_started_at', hub.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('possible_duplicates', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', hub.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('possible_duplicates')
        batch_op.drop_column('attempt_started_at')
