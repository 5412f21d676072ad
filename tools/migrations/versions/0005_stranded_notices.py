"""stranded notices

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

An approval step whose approver has no chat account gets no card; its requester is told once instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stranded_notices',
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_stranded_notices_approval_id_approvals')),
    sa.PrimaryKeyConstraint('approval_id', 'step', name=op.f('pk_stranded_notices'))
    )


def downgrade() -> None:
    op.drop_table('stranded_notices')
