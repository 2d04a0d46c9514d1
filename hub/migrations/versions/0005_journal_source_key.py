"""journal source ids are unique per source (source_key), not per school

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 06:00:00

Existing rows get the namespace their source would use now: the grid's "web", the CSV
import's "csv"; an API row that a person entered (teacher_id set) "teacher:<id>", and one
that a token sent the school's first journal token, "token:<id>" ("api" if it has none).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('grades', 'attendance')


def _default(table: str) -> str:
    first_token = (
        "(SELECT min(t.id) FROM api_tokens t WHERE t.school_id = {table}.school_id"
        " AND t.scopes LIKE '%journal%')"
    ).format(table=table)
    return (
        f"CASE WHEN source = 'web' THEN 'web'"
        f" WHEN source = 'csv' THEN 'csv'"
        f" WHEN teacher_id IS NOT NULL THEN 'teacher:' || CAST(teacher_id AS VARCHAR(20))"
        f" WHEN {first_token} IS NOT NULL"
        f" THEN 'token:' || CAST({first_token} AS VARCHAR(20))"
        f" ELSE 'api' END"
    )


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('source_key', sa.String(length=40), nullable=True))
        op.execute(f"UPDATE {table} SET source_key = {_default(table)}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('source_key', existing_type=sa.String(length=40),
                                  nullable=False)
            batch_op.drop_constraint(f'uq_{table}_school_id_source_id', type_='unique')
            batch_op.create_unique_constraint(
                f'uq_{table}_school_id_source_key_source_id',
                ['school_id', 'source_key', 'source_id'])


def downgrade() -> None:
    # An id that several sources share goes back under one per-school constraint with its
    # source's name before it on every row but the first.
    for table in TABLES:
        op.execute(
            f"UPDATE {table} SET source_id = source_key || ':' || source_id WHERE id NOT IN"
            f" (SELECT min(id) FROM {table} GROUP BY school_id, source_id)"
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_school_id_source_key_source_id',
                                     type_='unique')
            batch_op.create_unique_constraint(f'uq_{table}_school_id_source_id',
                                              ['school_id', 'source_id'])
            batch_op.drop_column('source_key')
