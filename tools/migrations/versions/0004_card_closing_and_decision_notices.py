"""card closing and decision notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Cards and requesters learn of every decision, whichever path made it (a card, the chat, the CLI). What was
decided before this revision counts as already shown and told, so an upgrade sends nothing old.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('approval_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('decision_notices',
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_decision_notices_approval_id_approvals')),
    sa.PrimaryKeyConstraint('approval_id', name=op.f('pk_decision_notices'))
    )
    op.execute("INSERT INTO decision_notices (approval_id, sent_at) "
               "SELECT id, COALESCE(decided_at, created_at) FROM approvals WHERE status <> 'pending'")
    op.execute("UPDATE approval_cards SET closed_at = created_at WHERE EXISTS (SELECT 1 FROM approvals a "
               "WHERE a.id = approval_cards.approval_id AND (a.status <> 'pending' OR a.step > approval_cards.step))")


def downgrade() -> None:
    op.drop_table('decision_notices')
    with op.batch_alter_table('approval_cards', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
