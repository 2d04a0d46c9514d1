"""notification preferences record when their mode changed

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notification_preferences') as batch_op:
        batch_op.add_column(sa.Column('changed_at', hub.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification_preferences') as batch_op:
        batch_op.drop_column('changed_at')
