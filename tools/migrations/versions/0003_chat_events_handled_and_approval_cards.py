"""chat events handled and approval cards

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handled_events',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_handled_events'))
    )
    op.create_table('approval_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('message_ts', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_approval_cards_approval_id_approvals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_cards')),
    sa.UniqueConstraint('approval_id', 'step', name='uq_approval_card_step')
    )
    with op.batch_alter_table('approval_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_cards_approval_id'), ['approval_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('approval_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_cards_approval_id'))

    op.drop_table('approval_cards')
    op.drop_table('handled_events')
